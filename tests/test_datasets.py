"""The fetchers on the real data mirror, served over HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nispace.datasets import (DataFetchError, available_datasets, fetch_example, fetch_file,
                              fetch_metadata, fetch_parcellation, fetch_reference,
                              fetch_template, list_collections)
from nispace.datasets.collections import parse_collection
from nispace.datasets.references import filter_maps


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_mirror_table(mirror, relpath) -> pd.DataFrame:
    return pd.read_csv(mirror / relpath, index_col=0)


def test_every_dataset_table_matches_the_mirror(data_url, mirror):
    # every parcellated table of every dataset arrives verified and unchanged
    for dataset in ["pet", "mrna", "enigmathick", "enigmaarea"]:
        assert dataset in available_datasets()
        tabs = sorted(p.name for p in (mirror / "reference" / dataset / "tab").iterdir())
        for tab in tabs:
            parc = tab.split("_parc-")[1].removesuffix(".csv.gz")
            got = fetch_reference(dataset, parcellation=parc, standardize_parcellated=False,
                                  print_references=False, verbose=False)
            expected = read_mirror_table(mirror, f"reference/{dataset}/tab/{tab}")
            assert got.shape == expected.shape, (dataset, parc)
            assert list(got.columns) == list(expected.columns)
            np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy(dtype=float))


def test_shapes_of_the_documented_tables(data_url):
    pet = fetch_reference("pet", parcellation="Schaefer200", print_references=False)
    assert pet.shape == (28, 200) and pet.index.names == ["map"]

    unique = fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                             print_references=False)
    assert unique.index.names == ["set", "map"]

    combined = fetch_reference("pet", parcellation="Schaefer200TianS1", print_references=False)
    assert combined.shape == (28, 216)
    assert list(combined.columns[200:]) == fetch_parcellation("TianS1").labels

    thick = fetch_reference("enigmathick", parcellation="DesikanKilliany",
                            print_references=False)
    assert thick.shape == (17, 68)

    an = fetch_example("anorexianervosa", parcellation="Schaefer200")
    assert an.shape == (100, 200) and an.index[0] == "sub-001AN"


def test_standardized_tables_are_zscored_per_map(data_url, mirror):
    raw = read_mirror_table(mirror, "reference/pet/tab/dset-pet_parc-TianS1.csv.gz")
    z = fetch_reference("pet", parcellation="TianS1", print_references=False)
    # independent reference: pandas' own mean/std with NaN skipped, ddof=0
    expected = raw.sub(raw.mean(axis=1), axis=0).div(raw.std(axis=1, ddof=0), axis=0)
    np.testing.assert_allclose(z.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-12)
    assert z.isna().sum().sum() == raw.isna().sum().sum()  # NaN parcels stay NaN


def test_collections_build_flat_or_set_indices(data_url, mirror):
    assert set(list_collections("pet")) == {"All", "AllTargetSets", "UniqueTracers",
                                            "UniqueTracerSets"}
    flat = fetch_reference("pet", parcellation="Schaefer100", collection="All",
                           print_references=False)
    assert flat.index.names == ["map"] and len(flat) == 28

    weighted = fetch_reference("pet", parcellation="Schaefer100", collection="AllTargetSets",
                               print_references=False)
    assert weighted.index.names == ["set", "map", "weight"]
    csv = pd.read_csv(mirror / "reference/pet/collection-AllTargetSets.collect")
    assert list(weighted.index.get_level_values("map")) == list(csv["x"])

    sets = json.loads((mirror / "reference/pet/collection-UniqueTracers.collect").read_text())
    unique = fetch_reference("pet", parcellation="Schaefer100", collection="UniqueTracers",
                             print_references=False)
    assert list(unique.index) == [(s, m) for s, maps in sets.items() for m in maps]

    mrna = fetch_reference("mrna", parcellation="DesikanKilliany",
                           collection="CellTypesPsychEncodeTPM", print_references=False)
    assert mrna.index.names == ["set", "map"] and mrna.shape[1] == 68


def test_a_users_own_collection_file(data_url, tmp_path):
    own = tmp_path / "my_collection.csv"
    own.write_text("set,map\nserotonin,target-5HTT_tracer-dasb_n-100_dx-hc_pub-beliveau2017\n"
                   "dopamine,target-D1_tracer-sch23390_n-13_dx-hc_pub-kaller2017\n")
    before = own.read_bytes()
    tab = fetch_reference("pet", parcellation="Schaefer200", collection=own,
                          print_references=False)
    assert list(tab.index.get_level_values("set")) == ["serotonin", "dopamine"]
    assert own.read_bytes() == before  # nothing user-supplied is modified


def test_parse_collection_formats():
    assert list(parse_collection("a\nb\n").columns) == ["map"]
    assert list(parse_collection("map\na\nb\n")["map"]) == ["a", "b"]
    two = parse_collection("s1,a\ns2,b\n")
    assert list(two.columns) == ["set", "map"]
    three = parse_collection("set,x,weight\ns1,a,2\ns1,b,3\n")
    assert list(three.columns) == ["set", "map", "weight"] and three["weight"].sum() == 5
    js = parse_collection('{"s1": ["a", "b"], "s2": ["c"]}')
    assert list(js.itertuples(index=False, name=None)) == [("s1", "a"), ("s1", "b"), ("s2", "c")]
    with pytest.raises(ValueError, match="columns"):
        parse_collection("a,b,c,d\n")


def test_map_filters():
    names = ["target-D1_tracer-x_n-13", "target-D23_tracer-y_n-49", "target-D2_tracer-z_n-7",
             "target-5HTT_tracer-dasb_n-100"]
    assert filter_maps(names, {"target": ["D1", "D23"]}) == names[:2]  # exact, not substring
    assert filter_maps(names, {"n": ">20"}) == [names[1], names[3]]
    assert filter_maps(names, {"n": "<=13", "target": "D1"}) == [names[0]]
    assert filter_maps(names, "dasb") == [names[3]]
    assert filter_maps(names, ["tracer-x", "TRACER-Y"]) == names[:2]
    with pytest.raises(ValueError, match="unknown key"):
        filter_maps(names, {"receptor": "D1"})
    with pytest.raises(ValueError, match="matched none"):
        filter_maps(names, "nothing-like-this")


def test_images_without_parcellation(data_url, mirror):
    paths = fetch_reference("pet", maps={"target": "D1"}, print_references=False)
    assert len(paths) == 1 and paths[0].name.endswith("space-MNI152NLin6Asym_desc-proc.nii.gz")
    rel = paths[0].relative_to(paths[0].parents[4])
    assert sha256(paths[0]) == sha256(mirror / rel)
    with pytest.raises(ValueError, match="space: expected one of"):
        fetch_reference("pet", space="fsLR", print_references=False)
    with pytest.raises(ValueError, match="parcellation="):
        fetch_reference("mrna", print_references=False)


def test_references_are_printed(data_url, capsys):
    fetch_reference("pet", parcellation="Schaefer200", maps={"target": "DAT"})
    out = capsys.readouterr().out
    assert "We additionally ask to cite:" in out and "Dukart et al., 2021" in out
    assert "target-DAT_tracer-fpcit_n-174_dx-hc_pub-dukart2018 Source: Dukart2018" in out
    assert "CAVE: SPECT, not PET!" in out
    assert "nispace version" in out
    tab, info = fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                                print_references=False, return_metadata=True)
    assert list(info.index) == list(tab.index.get_level_values("map"))
    assert fetch_metadata("pet").loc[info.index[0], "license"]


def test_parcellation_spaces_and_aliases(data_url):
    parc = fetch_parcellation("Schaefer200")
    assert parc.name == "Schaefer200Parcels7Networks"
    assert parc.spaces == ["MNI152NLin2009cAsym", "MNI152NLin6Asym", "fsaverage", "fsLR"]
    assert parc.n_parcels == 200 and parc.labels[0] == "hemi-L_div-Vis_lab-1"
    assert len(parc.get_hemi_indices("L")) == len(parc.get_hemi_indices("R")) == 100
    for spelled in ["Schaefer200TianS1", "Schaefer200 TianS1", "Schaefer200+TianS1",
                    ("Schaefer200", "MelbourneS1"), "schaefer200tians1"]:
        combined = fetch_parcellation(spelled, verbose=False)
        assert combined.n_parcels == 216
        assert combined.library_names == ("Schaefer200Parcels7Networks", "TianS1")
    assert fetch_parcellation("MelbourneS1").name == "TianS1"
    assert fetch_parcellation("HCP").name == "Glasser"


def test_combined_parcellation_volume(data_url):
    combined = fetch_parcellation("Schaefer200TianS1")
    assert combined.spaces == ["MNI152NLin2009cAsym", "MNI152NLin6Asym"]
    assert combined.surface_spaces_cortex == ["fsaverage", "fsLR"]
    data = combined.get_data("MNI152NLin6Asym")
    assert set(np.unique(data)) == set(range(217))
    np.testing.assert_array_equal(combined.cortex_indices, np.arange(200))
    np.testing.assert_array_equal(combined.subcortex_indices, np.arange(200, 216))
    tian = fetch_parcellation("TianS1").get_data("MNI152NLin6Asym")
    np.testing.assert_array_equal(data[(tian > 0) & (data > 200)] - 200,
                                  tian[(tian > 0) & (data > 200)])


def test_distance_matrix_of_schaefer200(data_url):
    parc = fetch_parcellation("Schaefer200")
    parc.set_active_space("MNI152NLin2009cAsym")
    dist = parc.get_dist_mat()
    assert dist.shape == (200, 200)
    np.testing.assert_array_equal(dist, dist.T)
    assert np.all(np.diag(dist) == 0) and np.all(dist[~np.eye(200, dtype=bool)] > 0)
    # Euclidean between centroids, checked directly
    c = parc.get_centroids()
    np.testing.assert_allclose(dist[3, 150], np.linalg.norm(c[3] - c[150]))


def test_surface_distance_matrix_is_cached_on_disk(data_url, isolated_env):
    parc = fetch_parcellation("Schaefer100", space="fsaverage")
    dist = parc.get_dist_mat()
    left, right = parc.get_hemi_indices("L"), parc.get_hemi_indices("R")
    assert np.isinf(dist[np.ix_(left, right)]).all()
    within = dist[np.ix_(left, left)]
    assert np.isfinite(within).all() and np.all(within[~np.eye(50, dtype=bool)] > 0)
    cached = list((isolated_env / "cache" / "distmat").glob("*.npy"))
    assert len(cached) == 1
    again = fetch_parcellation("Schaefer100", space="fsaverage").get_dist_mat()
    np.testing.assert_array_equal(again, dist)


def test_templates_and_examples(data_url, mirror):
    lh, rh = fetch_template("fsLR", desc="sphere")
    assert lh.name == "tpl-fsLR_desc-sphere_res-32k_hemi-L.surf.gii"
    assert sha256(rh) == sha256(mirror / "template/fsLR/map/sphere" / rh.name)
    assert fetch_template("MNI152NLin6Asym", desc="brainmask", res="2mm").name.endswith(
        "desc-brainmask_res-2mm.nii.gz")
    thick, info = fetch_example("enigma", parcellation="DesikanKilliany", return_info=True)
    assert thick.shape[1] == 68 and list(info.index) == list(thick.index)
    assert {"dx", "age", "sex"} <= set(info.columns)
    pain = fetch_example("painmeta")
    assert pain.name == "example-painmeta_space-MNI152NLin6Asym.nii.gz"


@pytest.mark.parametrize("call, match", [
    (lambda: fetch_reference("pett"), r"dataset: unknown dataset 'pett'.*Did you mean 'pet'"),
    (lambda: fetch_reference("pet", parcellation="Schaefer300", print_references=False),
     r"parcellation: unknown parcellation 'Schaefer300'.*Did you mean"),
    (lambda: fetch_reference("pet", collection="UniqueTracer", print_references=False),
     r"collection: 'UniqueTracer'.*Did you mean 'UniqueTracers'"),
    (lambda: fetch_reference("enigmathick", parcellation="Schaefer200", print_references=False),
     r"no table for 'Schaefer200Parcels7Networks'.*DesikanKilliany"),
    (lambda: fetch_parcellation("Schaefer200").set_active_space("MNI152"),
     r"space: expected one of .*Did you mean"),
    (lambda: fetch_template("fsLR", desc="pial"), r"desc: expected one of"),
    (lambda: fetch_example("anorexia", parcellation="Schaefer200"),
     r"example: unknown example 'anorexia'.*Did you mean 'anorexianervosa'"),
])
def test_unknown_names_list_the_valid_ones(data_url, call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_verified_cache_works_offline(data_url, monkeypatch, tmp_path):
    from conftest import closed_port_url
    from nispace.datasets import download

    tab = fetch_reference("pet", parcellation="Schaefer200", print_references=False)
    monkeypatch.setenv("NISPACE_DATA_URL", closed_port_url())
    download.clear_memo()
    again = fetch_reference("pet", parcellation="Schaefer200", print_references=False)
    pd.testing.assert_frame_equal(tab, again)
    with pytest.raises(DataFetchError, match="parcellation/TianS2/parc.yaml.*NISPACE_DATA_URL"):
        fetch_parcellation("TianS2")


def test_fetch_file_rejects_paths_outside_the_repository(data_url):
    with pytest.raises(ValueError, match="relpath"):
        fetch_file("../secrets.txt")
    with pytest.raises(KeyError, match="not listed in the data manifest"):
        fetch_file("reference/pet/does-not-exist.csv")


def test_files_nispace_names_itself_missing_from_the_manifest_are_a_data_problem(data_url):
    """A user's file name missing from the manifest is a wrong argument (exit 2); a file that
    nispace itself needs (a transform sphere, a parcellation image) is a data problem."""
    from nispace.datasets.download import NotInManifestError, fetch_library_file
    from nispace.errors import InputError

    rel = "transform/fsLR-fsaverage/not-a-sphere.surf.gii"
    with pytest.raises(NotInManifestError) as user:
        fetch_file(rel)
    assert isinstance(user.value, InputError)
    with pytest.raises(DataFetchError, match=f"lacks '{rel}'.*NISPACE_DATA_URL") as library:
        fetch_library_file(rel)
    assert not isinstance(library.value, InputError)


def test_a_missing_annot_pair_is_a_missing_file_not_an_unknown_name(data_url, tmp_path):
    from nispace.errors import MissingFileError

    pair = (str(tmp_path / "lh.aparc.annot"), str(tmp_path / "rh.aparc.annot"))
    with pytest.raises(MissingFileError, match="file not found: .*lh.aparc.annot"):
        fetch_parcellation(pair)
    with pytest.raises(MissingFileError, match="file not found: .*x.dlabel.nii"):
        fetch_parcellation(str(tmp_path / "x.dlabel.nii"))
