"""The ``nispace`` command line: analyses end to end on the mirror, outputs, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nispace import __version__
from nispace.cli import main


def run(*argv: str) -> int:
    return main(list(argv))


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        run("--version")
    assert exc.value.code == 0 and __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        run("colocalize", "--help")
    out = capsys.readouterr().out
    assert exc.value.code == 0 and "examples:" in out and "--n-perm" in out


def test_usage_errors_exit_with_2(data_url, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:  # --out is required
        run("colocalize", "--y", "example:painmeta")
    assert exc.value.code == 2
    assert run("colocalize", "--y", str(tmp_path / "missing.nii.gz"), "--out",
               str(tmp_path / "o"), "--quiet") == 2
    assert "file not found" in capsys.readouterr().err
    assert run("colocalize", "--y", "example:painmeta", "--parcellation", "Schaefer2000",
               "--out", str(tmp_path / "o"), "--quiet") == 2
    assert "Did you mean 'Schaefer200'" in capsys.readouterr().err
    assert run("group-colocalize", "--y", "example:anorexianervosa", "--groups-regex",
               "(XX)$", "--out", str(tmp_path / "o"), "--quiet") == 2
    assert run("report", str(tmp_path / "nowhere"), "--quiet") == 2


def test_analysis_failures_exit_with_1(data_url, tmp_path, capsys):
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"this is not a NIfTI file")
    assert run("colocalize", "--y", str(bad), "--out", str(tmp_path / "o"), "--quiet") == 1
    assert "analysis failed" in capsys.readouterr().err


def manifest(mirror: Path) -> dict:
    return json.loads((mirror / "file_hashes.json").read_text())


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_colocalize_writes_tables_figures_provenance_and_report(data_url, mirror, tmp_path):
    out = tmp_path / "pain"
    code = run("colocalize", "--y", "example:painmeta", "--x", "pet", "--x-collection",
               "UniqueTracers", "--parcellation", "Schaefer200", "--n-perm", "500",
               "--seed", "1", "--out", str(out), "--quiet")
    assert code == 0
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 14 and {"value", "p", "q", "z", "set", "x"} <= set(results)
    assert results["p"].between(0, 1, inclusive="right").all()
    assert (results["q"] >= results["p"] - 1e-12).all()
    nulls = pd.read_csv(out / "nulls_summary.csv")
    assert len(nulls) == 14 and (nulls["n_perm"] == 500).all()
    for name in ("colocalizations_spearman", "nulls_spearman", "brain_y"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
        assert (out / "figures" / f"{name}.svg").read_text().lstrip().startswith("<?xml")
    prov = json.loads((out / "results.json").read_text())
    assert prov["nispace"] == __version__ and prov["packages"]["numpy"]
    (perm,) = prov["permutations"]
    assert perm["key"] == "spearman" and perm["permute_what"] == "xmaps"
    assert perm["n_perm"] == 500 and perm["seed"] == 1 and perm["null_model"].startswith(
        "alexander_bloch") and perm["corrections"][0]["mc_method"] == "meffgalwey"
    hashes = manifest(mirror)
    used = dict(prov["data_files"])
    assert "reference/pet/tab/dset-pet_parc-Schaefer200Parcels7Networks.csv.gz" in used
    assert all(hashes[rel] == sha for rel, sha in used.items())
    html = (out / "report.html").read_text(encoding="utf-8")
    parser = Tags()
    parser.feed(html)
    assert parser.tags.count("h1") == 1 and "img" in parser.tags
    assert "Alexander-Bloch" in html and "CC BY-NC-SA 4.0" in html  # citation and licence

    # the null summary: mean, SD (ddof=1) and percentiles of the stored nulls (numpy)
    from nispace.api import NiSpace

    null = NiSpace.load(out / "nispace").get_nulls()[:, 0, :]  # (n_perm, 14 X maps)
    np.testing.assert_allclose(nulls["null_mean"], null.mean(axis=0))
    np.testing.assert_allclose(nulls["null_sd"], null.std(axis=0, ddof=1))
    np.testing.assert_allclose(nulls["null_p97.5"], np.percentile(null, 97.5, axis=0))

    # re-render from the folder, keeping the figures already drawn
    n_images = parser.tags.count("img")
    (out / "report.html").unlink()
    assert run("report", str(out), "--no-figures", "--quiet") == 0
    again = Tags()
    again.feed((out / "report.html").read_text(encoding="utf-8"))
    assert again.tags.count("img") == n_images


def test_group_colocalize_from_the_example_data(data_url, tmp_path):
    out = tmp_path / "an"
    code = run("group-colocalize", "--y", "example:anorexianervosa", "--groups-regex",
               "(AN|HC)$", "--x", "pet", "--x-collection", "UniqueTracers", "--n-perm", "300",
               "--seed", "2", "--out", str(out), "--no-figures", "--quiet")
    assert code == 0
    prov = json.loads((out / "results.json").read_text())
    assert prov["permutations"][0]["permute_what"] == "groups"
    assert any("SIMULATED" in w for w in prov["warnings"])
    assert "SIMULATED" in (out / "report.html").read_text(encoding="utf-8")


def test_fetch_and_list(data_url, tmp_path, capsys):
    assert run("list", "datasets") == 0
    assert "pet" in capsys.readouterr().out.split()
    assert run("list", "collections", "--dataset", "mrna") == 0
    assert "CellTypesPsychEncodeTPM" in capsys.readouterr().out
    target = tmp_path / "pet.csv"
    assert run("fetch", "reference", "pet", "--parcellation", "Schaefer100", "--out",
               str(target), "--quiet") == 0
    assert pd.read_csv(target, index_col=0).shape == (28, 100)


def test_console_script_exit_code(data_url, tmp_path):
    exe = Path(sys.executable).with_name("nispace")
    if not exe.exists():
        pytest.skip("the nispace console script is not installed in this environment")
    res = subprocess.run([str(exe), "colocalize", "--y", "example:painmeta", "--n-perm", "0",
                          "--out", str(tmp_path / "o"), "--quiet"], capture_output=True,
                         text=True, timeout=300, env=dict(os.environ))
    assert res.returncode == 2 and "--n-perm" in res.stderr


def test_image_and_table_inputs(data_url, tmp_path):
    from nispace.datasets import fetch_example

    image = fetch_example("painmeta", verbose=False)  # the ALE z map (NIfTI)
    out = tmp_path / "img"
    assert run("colocalize", "--y", str(image), "--y-labels", "Pain", "--n-perm", "100",
               "--seed", "3", "--out", str(out), "--no-figures", "--no-report",
               "--quiet") == 0
    assert set(pd.read_csv(out / "results.csv")["y"]) == {"Pain"}

    an = fetch_example("anorexianervosa", parcellation="Schaefer200", verbose=False)
    an.to_csv(tmp_path / "an.tsv", sep="\t")
    design = pd.DataFrame({"groups": an.index.str[-2:],
                           "age": range(len(an))}, index=an.index)
    design.to_csv(tmp_path / "design.tsv", sep="\t")
    out = tmp_path / "tab"
    assert run("group-colocalize", "--y", str(tmp_path / "an.tsv"), "--design",
               str(tmp_path / "design.tsv"), "--n-perm", "100", "--seed", "3", "--out",
               str(out), "--no-figures", "--no-report", "--quiet") == 0
    prov = json.loads((out / "results.json").read_text())
    assert prov["transforms"][0]["clean_y"] == "between"  # age regressed, groups protected


def test_workflows_draw_figures_only_with_plot_true(data_url):
    import matplotlib.pyplot as plt

    from nispace.datasets import fetch_example
    from nispace.workflows import colocalization

    pain = fetch_example("painmeta", parcellation="Schaefer200", verbose=False)
    plt.close("all")
    colocalization(pain, x="pet", x_collection="UniqueTracers", n_perm=50, seed=1,
                   plot=False, verbose=False)
    assert plt.get_fignums() == []
    colocalization(pain, x="pet", x_collection="UniqueTracers", n_perm=50, seed=1,
                   plot=True, verbose=False)
    assert len(plt.get_fignums()) == 1
    plt.close("all")


def test_rerun_into_a_results_folder_needs_overwrite(data_url, tmp_path, capsys):
    """A second run into the same --out is refused before any work (exit 2) unless
    --overwrite, which removes the earlier run's outputs (stale figures included) and
    keeps the user's own files; --quiet leaves stderr empty on success."""
    from nispace.datasets import fetch_example

    table = fetch_example("painmeta", parcellation="Schaefer200", verbose=False)
    table.to_csv(tmp_path / "pain.csv")
    out = tmp_path / "pain"
    args = ["colocalize", "--y", str(tmp_path / "pain.csv"), "--n-perm", "50", "--seed",
            "3", "--out", str(out), "--no-report", "--quiet"]
    assert run(*args, "--no-figures") == 0
    assert capsys.readouterr().err == ""
    (out / "figures").mkdir()
    (out / "figures" / "stale.png").write_bytes(b"from an earlier run")
    (out / "my_notes.txt").write_text("keep")
    assert run(*args, "--no-figures") == 2
    assert "--overwrite" in capsys.readouterr().err
    assert run(*args, "--no-figures", "--overwrite") == 0
    assert not (out / "figures").exists()
    assert (out / "my_notes.txt").read_text() == "keep"
    assert (out / "results.json").is_file()
