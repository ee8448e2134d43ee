"""The command line takes reference maps on your own atlas: ``--x reference:pet:FILE``
with ``--parcellation atlas.nii.gz --parcellation-labels names.txt`` parcellates the
PET images on the fly, exactly as ``NiSpace(x="pet", parcellation=...)`` does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nispace.api import NiSpace
from nispace.cli import main
from nispace.datasets.download import fetch_file

HO = "parcellation/HarvardOxfordCortical/MNI152NLin6Asym/" \
     "parc-HarvardOxfordCortical_space-MNI152NLin6Asym.label"
PET_MAPS = ["target-D1_tracer-sch23390_n-13_dx-hc_pub-kaller2017",
            "target-mGluR5_tracer-abp688_n-28_dx-hc_pub-dubois2015"]


def test_cli_reference_maps_on_your_own_atlas(data_url, tmp_path):
    atlas, names = fetch_file(HO + ".nii.gz"), fetch_file(HO + ".txt")
    collection = tmp_path / "two_pet_maps.txt"
    collection.write_text("\n".join(PET_MAPS) + "\n")
    # Y: a smooth synthetic map over the 96 Harvard-Oxford parcels, given as a table
    labels = [line.strip() for line in open(names) if line.strip()]
    rng = np.random.default_rng(0)
    y = pd.DataFrame(rng.normal(size=(1, len(labels))), index=["mine"], columns=labels)
    y.to_csv(tmp_path / "y.csv")
    out = tmp_path / "out"
    code = main(["--quiet", "colocalize", "--y", str(tmp_path / "y.csv"),
                 "--x", f"reference:pet:{collection}", "--parcellation", str(atlas),
                 "--parcellation-labels", str(names), "--n-perm", "20", "--seed", "1",
                 "--null-method", "random", "--out", str(out), "--no-figures"])
    assert code == 0
    results = pd.read_csv(out / "results.csv")
    rho = results[results["stat"] == "rho"].set_index("x")["value"]

    nsp = NiSpace(x="pet", y=y, x_collection=str(collection), parcellation=str(atlas),
                  parcellation_labels=str(names), verbose=False).fit()
    expected = nsp.colocalize("spearman").get_colocalizations().iloc[0]
    assert sorted(rho.index) == sorted(PET_MAPS)
    np.testing.assert_allclose(rho.loc[PET_MAPS].to_numpy(), expected.loc[PET_MAPS].to_numpy(),
                               rtol=1e-12)
