"""XSEA on a reference dataset uses the dataset's default collection, and says so."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from nispace.api import NiSpace
from nispace.datasets import fetch_example
from nispace.workflows import group_xsea, xsea


@pytest.fixture
def pain(data_url) -> pd.DataFrame:
    return fetch_example("painmeta", parcellation="Schaefer200", verbose=False)


def run_xsea(pain, verbose=False, **kwargs) -> NiSpace:
    return xsea(pain, x="mrna", parcellation="Schaefer200", n_perm=20, seed=3,
                mc_method=None, plot=False, verbose=verbose, **kwargs)


def test_xsea_mrna_applies_the_default_collection(pain, caplog):
    with caplog.at_level(logging.INFO, logger="nispace"):
        default = run_xsea(pain, verbose=True)
    assert "the default collection of dataset 'mrna'" in caplog.text
    assert default.fit_record_["x_collection"] == {"name": "CellTypesPsychEncodeTPM",
                                                  "source": "dataset default"}
    explicit = run_xsea(pain, x_collection="CellTypesPsychEncodeTPM")
    assert explicit.fit_record_["x_collection"] == {"name": "CellTypesPsychEncodeTPM",
                                                   "source": "x_collection"}
    a, b = default.get_colocalizations(), explicit.get_colocalizations()
    assert a.columns.name == "set" and a.shape[1] > 1
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(default.get_p_values(), explicit.get_p_values())


def test_nispace_without_sets_names_the_call_to_make(pain):
    nsp = NiSpace(x="mrna", y=pain, parcellation="Schaefer200", verbose=False).fit()
    assert "x_collection" not in nsp.fit_record_
    with pytest.raises(ValueError, match=r"pass x_collection= .*nispace list collections "
                                         r"--dataset mrna"):
        nsp.colocalize("spearman", xsea=True)
    assert np.isfinite(nsp.colocalize("spearman").get_colocalizations().to_numpy()).any()


def test_the_report_names_the_collection_and_where_it_came_from(pain):
    from nispace.report.context import _fit_rows

    rows = dict(_fit_rows(run_xsea(pain).fit_record_))
    assert rows["X collection"] == "CellTypesPsychEncodeTPM (dataset default)"


def test_group_xsea_applies_the_default_collection(data_url):
    an = fetch_example("anorexianervosa", parcellation="Schaefer200", verbose=False)
    design = pd.DataFrame({"groups": an.index.str[-2:]}, index=an.index)
    kwargs = dict(x="mrna", parcellation="Schaefer200", n_perm=10, seed=1, mc_method=None,
                  plot=False, verbose=False)
    default = group_xsea(an, design, **kwargs)
    assert default.fit_record_["x_collection"]["source"] == "dataset default"
    explicit = group_xsea(an, design, x_collection="CellTypesPsychEncodeTPM", **kwargs)
    pd.testing.assert_frame_equal(default.get_colocalizations(),
                                  explicit.get_colocalizations())
