"""Result objects: provenance, read-only getters, staleness, coexisting permutations,
the tidy table and the open save/load format (no pickle is ever run without opt-in)."""

from __future__ import annotations

import copy
import json
import logging
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nispace import __version__
from nispace.api import NiSpace
from nispace.cli import main
from nispace.datasets import fetch_reference
from nispace.results import (MissingResultError, PermutationResult, PickleRefusedError,
                             StaleResultError, content_hash)


@pytest.fixture
def pet(data_url) -> pd.DataFrame:
    return fetch_reference("pet", parcellation="Schaefer100", collection="UniqueTracers",
                           print_references=False, verbose=False).iloc[:4]


@pytest.fixture
def subjects(pet) -> tuple[pd.DataFrame, pd.Series]:
    """12 simulated subjects: patients carry the first PET map plus noise."""
    rng = np.random.default_rng(0)
    groups = pd.Series(["patient"] * 6 + ["control"] * 6,
                       index=[f"sub-{i:02d}" for i in range(12)], name="groups")
    effect = np.outer(groups.eq("patient").to_numpy(), pet.to_numpy()[0])
    y = pd.DataFrame(effect + rng.normal(0, 1, (12, pet.shape[1])), index=groups.index,
                     columns=pet.columns)
    return y, groups


def group_analysis(pet, subjects, **kwargs) -> NiSpace:
    y, groups = subjects
    nsp = NiSpace(x=pet, y=y, parcellation="Schaefer100", seed=1, verbose=False,
                  **kwargs).fit()
    return nsp.transform_y("hedges(a,b)", groups=groups).colocalize("spearman")


# --------------------------------------------------------------------------------------
# the three silent behaviours of issue 10, case 4

def test_a_transform_after_colocalize_makes_permute_name_the_call(pet, subjects):
    y, groups = subjects
    nsp = NiSpace(x=pet, y=y, parcellation="Schaefer100", verbose=False).fit()
    nsp.colocalize("spearman")
    nsp.transform_y("hedges(a,b)", groups=groups)
    with pytest.raises(StaleResultError, match=r"computed before transform_y\('hedges\(a,b\)'"
                                               r"\); call nsp.colocalize\('spearman'\) again"):
        nsp.permute("groups", n_perm=20)
    assert not nsp.permutations_  # nothing half-done was stored
    nsp.colocalize("spearman").permute("groups", n_perm=20, seed=1)
    assert nsp.get_p_values().shape == (1, 4)


def test_a_correction_that_was_not_computed_is_an_error_not_a_computation(pet, subjects):
    nsp = group_analysis(pet, subjects).permute("groups", n_perm=50).correct_p("meff")
    meff = nsp.get_corrected_p_values()
    table = nsp.to_frame()
    with pytest.raises(MissingResultError,
                       match=r"call nsp.correct_p\(mc_method='bonferroni'"):
        nsp.get_p_values(mc_method="bonferroni")
    # nothing changed: same corrections, same last correction, same table
    assert [c.mc_method for c in nsp.corrections_] == ["meffgalwey"]
    pd.testing.assert_frame_equal(nsp.get_corrected_p_values(), meff)
    pd.testing.assert_frame_equal(nsp.to_frame(), table)
    # once computed it is returned, and Bonferroni is checked against its formula
    nsp.correct_p("bonferroni")
    p = nsp.get_p_values().to_numpy()
    np.testing.assert_allclose(nsp.get_p_values(mc_method="bonferroni").to_numpy(),
                               np.minimum(p * p.shape[1], 1))
    pd.testing.assert_frame_equal(nsp.get_p_values(mc_method="meff"), meff)


def test_group_and_map_permutations_coexist(pet, subjects):
    nsp = group_analysis(pet, subjects)
    nsp.permute("groups", n_perm=50)
    groups_p = nsp.get_p_values()
    nsp.permute("maps", n_perm=50)
    with pytest.raises(ValueError, match=r"permute_what: .*\['groups', 'xmaps'\]"):
        nsp.get_p_values()
    pd.testing.assert_frame_equal(nsp.get_p_values(permute_what="groups"), groups_p)
    maps = nsp.get_permutation_result(permute_what="xmaps")
    assert maps.kind == "maps" and maps.null_model.startswith("alexander_bloch")
    pd.testing.assert_frame_equal(nsp.get_p_values(permute_what="maps"), maps.get_p())
    assert nsp.get_nulls(permute_what="groups").shape == (50, 1, 4)
    # the tidy table has one block per permutation
    table = nsp.to_frame()
    assert sorted(set(table["permute_what"])) == ["groups", "xmaps"] and len(table) == 8


# --------------------------------------------------------------------------------------
# result objects

def test_results_are_immutable_and_getters_hand_out_copies(pet, subjects):
    nsp = group_analysis(pet, subjects).permute("groups", n_perm=30)
    perm = nsp.get_permutation_result()
    with pytest.raises(AttributeError):
        perm.n_perm = 5
    with pytest.raises(ValueError):
        perm.nulls["rho"][0, 0, 0] = 1.0  # stored arrays are read-only
    p = nsp.get_p_values()
    p.iloc[0, 0] = -1.0
    stored = perm.p["rho"]
    stored.iloc[0, 0] = -1.0
    nsp.get_nulls()[0, 0, 0] = 99.0
    assert nsp.get_p_values().iloc[0, 0] > 0 and nsp.get_nulls()[0, 0, 0] != 99.0


def test_provenance_records_data_steps_fit_record_and_versions(pet, subjects):
    nsp = group_analysis(pet, subjects)
    nsp.fit_record_["example"] = {"decided": "by fit"}  # whatever fit() records
    nsp.permute("groups", n_perm=20)
    prov = nsp.get_permutation_result().provenance
    assert prov["data"]["y"]["sha256"] == content_hash(nsp.get_y())
    assert prov["data"]["x"]["labels"] == [" · ".join(i) for i in pet.index]
    assert prov["steps"] == [{"y": "hedges(a,b)", "n_maps_in": 12, "n_maps_out": 1,
                              "group_sizes": {"control": 6, "patient": 6}}]
    assert prov["y_steps"][0]["formula"] == "hedges(a,b)"
    assert len(prov["y_steps"][0]["groups"]["sha256"]) == 64  # a hash, not the array
    assert prov["fit_record"]["example"] == {"decided": "by fit"}
    assert prov["nispace"] == __version__ and prov["packages"]["numpy"] == np.__version__
    assert any(k.startswith("reference/pet/") for k in prov["data_files"])
    json.dumps(dict(prov))  # JSON types only
    # the content hash sees values and labels
    y = nsp.get_y()
    assert content_hash(y) != content_hash(y.set_axis(["other"]))
    assert content_hash(y) != content_hash(y + 1e-12)


# --------------------------------------------------------------------------------------
# save / load

def assert_same_results(a: NiSpace, b: NiSpace) -> None:
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    for name in ("get_x", "get_y"):
        pd.testing.assert_frame_equal(getattr(a, name)(), getattr(b, name)())
        pd.testing.assert_frame_equal(getattr(a, name)(raw=True), getattr(b, name)(raw=True))
    assert list(a.colocalizations_) == list(b.colocalizations_)
    for key, coloc in a.colocalizations_.items():
        other = b.colocalizations_[key]
        assert dict(coloc.provenance) == dict(other.provenance)
        for stat in coloc.stats:
            pd.testing.assert_frame_equal(a.get_colocalizations(key, stat),
                                          b.get_colocalizations(key, stat))
    for key, kinds in a.permutations_.items():
        for what, perm in kinds.items():
            back = b.get_permutation_result(key, what)
            assert back.describe() == perm.describe()
            assert dict(back.provenance) == dict(perm.provenance)
            for stat in perm.p:
                pd.testing.assert_frame_equal(a.get_p_values(key, stat, permute_what=what),
                                              b.get_p_values(key, stat, permute_what=what))
                np.testing.assert_array_equal(a.get_nulls(key, stat, permute_what=what),
                                              b.get_nulls(key, stat, permute_what=what))
    assert [c.describe() for c in a.corrections_] == [c.describe() for c in b.corrections_]
    for c, d in zip(a.corrections_, b.corrections_):
        for stat in c.p:
            pd.testing.assert_frame_equal(c.get_p(stat), d.get_p(stat))
        assert dict(c.provenance) == dict(d.provenance)
    assert b.fit_record_ == json.loads(json.dumps(a.fit_record_))


@pytest.mark.parametrize("name", ["saved", "saved.zip"])
def test_save_and_load_round_trip(pet, subjects, tmp_path, name):
    nsp = group_analysis(pet, subjects)
    nsp.permute("groups", n_perm=40).permute("maps", n_perm=30)
    nsp.correct_p("meff", permute_what="groups").correct_p("fdr_bh", permute_what="xmaps")
    path = nsp.save(tmp_path / name)
    back = NiSpace.load(path)
    assert_same_results(nsp, back)
    pd.testing.assert_frame_equal(back.get_corrected_p_values(permute_what="groups"),
                                  nsp.get_p_values(mc_method="meff", permute_what="groups"))
    assert "permutations" in repr(back)
    fig, _ = back.plot(permute_what="groups")
    fig, _ = back.plot_nulls(permute_what="xmaps")
    # NiSpace's names write and read the same open format
    nsp.to_pickle(tmp_path / "again")
    assert (tmp_path / "again" / "manifest.json").is_file()
    assert_same_results(nsp, NiSpace.from_pickle(tmp_path / "again"))
    # without nulls: everything but the nulls
    small = NiSpace.load(nsp.save(tmp_path / "small", save_nulls=False))
    pd.testing.assert_frame_equal(small.to_frame(), nsp.to_frame())
    with pytest.raises(MissingResultError, match="save_nulls=False"):
        small.get_nulls(permute_what="groups")
    fig, _ = small.plot(permute_what="groups")  # p and q marks, no null bands


def test_the_saved_format_is_json_csv_and_npy(pet, subjects, tmp_path):
    nsp = group_analysis(pet, subjects).permute("groups", n_perm=20)
    path = nsp.save(tmp_path / "saved")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format"] == "nispace-results" and manifest["format_version"] == 1
    suffixes = {p.suffix for p in path.rglob("*") if p.is_file()}
    assert suffixes <= {".json", ".csv", ".npy"}
    (npy,) = path.glob("permutations/*.npy")
    assert np.load(npy, allow_pickle=False).shape == (20, 1, 4)


# --------------------------------------------------------------------------------------
# pickles: never run without an explicit opt-in

class Exploit:
    """Unpickling this creates ``marker`` (stands in for any code a pickle can run)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def cli_results(tmp_path: Path) -> Path:
    out = tmp_path / "res"
    code = main(["colocalize", "--y", "example:painmeta", "--x", "pet", "--x-collection",
                 "UniqueTracers", "--parcellation", "Schaefer200", "--n-perm", "50",
                 "--seed", "1", "--out", str(out), "--no-figures", "--quiet"])
    assert code == 0
    return out


def test_crafted_pickles_are_never_run(data_url, tmp_path, caplog):
    out = cli_results(tmp_path)
    assert not list(out.rglob("*.pkl"))  # the CLI writes no pickle
    marker = tmp_path / "pwned"
    (out / "nispace.pkl").write_bytes(pickle.dumps(Exploit(marker)))
    with caplog.at_level(logging.WARNING, logger="nispace"):
        assert main(["report", str(out), "--no-figures", "--quiet"]) == 0
    assert not marker.exists()
    assert any("nispace.pkl" in r.getMessage() and "never unpickles" in r.getMessage()
               for r in caplog.records)
    with pytest.raises(PickleRefusedError, match="allow_pickle=True"):
        NiSpace.load(out / "nispace.pkl")
    assert not marker.exists()
    # with the opt-in, the file is unpickled (and runs), after a WARNING
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nispace"):
        with pytest.raises(ValueError, match="not a NiSpace object"):
            NiSpace.load(out / "nispace.pkl", allow_pickle=True)
    assert marker.exists()
    assert any("allow_pickle=True" in r.getMessage() for r in caplog.records)


def test_an_old_pickle_loads_with_the_opt_in(pet, subjects, tmp_path, caplog):
    nsp = group_analysis(pet, subjects).permute("groups", n_perm=30).correct_p("meff")
    coloc, perm = nsp.get_colocalization_result(), nsp.get_permutation_result()
    # the object as older nispace versions pickled it: result dicts, no result objects
    old = copy.deepcopy(nsp)
    d = old.__dict__
    del d["corrections_"]
    d.update(colocalizations_={"spearman": coloc.stats.to_dict()},
             coloc_params_={"spearman": {"method": "spearman", "xsea": False,
                                         "xsea_aggr": "mean", "options": {}}},
             permutations_={"spearman": {"what": "groups", "n_perm": 30, "seed": 1,
                                         "n_proc": 1, "p_tails": perm.tails.to_dict(),
                                         "pooled_p": False, "paired": False,
                                         "observed": perm.observed.to_dict()}},
             p_values_={"spearman": perm.p.to_dict()}, z_values_={"spearman": perm.z.to_dict()},
             nulls_={"spearman": {"rho": np.array(perm.nulls["rho"])}},
             p_corrected_={"spearman": {("meffgalwey", "x"): nsp.corrections_[0].p.to_dict()}})
    path = tmp_path / "old.pkl"
    path.write_bytes(pickle.dumps({"format": "nispace-object", "version": "0.1",
                                   "object": old}))
    with pytest.raises(PickleRefusedError):
        NiSpace.load(path)
    with caplog.at_level(logging.WARNING, logger="nispace"):
        back = NiSpace.load(path, allow_pickle=True)
    assert any("allow_pickle=True" in r.getMessage() for r in caplog.records)
    assert isinstance(back.get_permutation_result(), PermutationResult)
    pd.testing.assert_frame_equal(back.to_frame(), nsp.to_frame())


# --------------------------------------------------------------------------------------
# the CLI folder

def test_cli_results_csv_equals_to_frame_and_the_folder_reloads(data_url, tmp_path):
    out = cli_results(tmp_path)
    nsp = NiSpace.load(out / "nispace")
    table = nsp.to_frame()
    csv = pd.read_csv(out / "results.csv", dtype={"y": str, "x": str, "set": str})
    pd.testing.assert_frame_equal(csv, table)
    prov = json.loads((out / "results.json").read_text())
    assert prov["permutations"][0]["n_perm"] == 50
    assert dict(nsp.get_permutation_result().provenance)["data_files"]
    # the report re-renders from the open format alone
    (out / "report.html").unlink()
    assert main(["report", str(out), "--no-figures", "--quiet"]) == 0
    assert "Schaefer200" in (out / "report.html").read_text(encoding="utf-8")
