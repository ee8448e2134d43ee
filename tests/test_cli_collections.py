"""``nispace list collections``: the dataset is named explicitly, never assumed."""

from __future__ import annotations

import pytest

from nispace.cli import main
from nispace.datasets.collections import datasets_with_collections, default_collection


def test_list_collections_of_a_dataset_names_its_default(data_url, capsys):
    assert main(["list", "collections", "--dataset", "mrna"]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == ["CellTypesPsychEncodeTPM"]  # one name per line
    assert "default collection of mrna: CellTypesPsychEncodeTPM" in captured.err

    assert main(["list", "collections", "--dataset", "PET", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "UniqueTracers" in captured.out.split() and "All" in captured.out.split()
    assert captured.err == ""


def test_list_collections_without_dataset_is_a_usage_error(data_url, capsys):
    assert main(["list", "collections"]) == 2
    err = capsys.readouterr().err
    assert "--dataset: 'nispace list collections' needs a dataset" in err
    assert "mrna (default CellTypesPsychEncodeTPM)" in err
    assert "pet (default UniqueTracers)" in err


def test_unknown_dataset_names_the_option(data_url, capsys):
    assert main(["list", "collections", "--dataset", "mrnaa", "--quiet"]) == 2
    assert "--dataset: unknown dataset 'mrnaa'" in capsys.readouterr().err


def test_default_collection_is_read_from_the_dataset_manifest(data_url):
    assert default_collection("mrna") == "CellTypesPsychEncodeTPM"
    assert default_collection("Pet") == "UniqueTracers"
    having = datasets_with_collections()
    assert having["pet"] == "UniqueTracers" and having["mrna"] == "CellTypesPsychEncodeTPM"
    with pytest.raises(ValueError, match="dataset: unknown dataset 'nope'"):
        default_collection("nope")
