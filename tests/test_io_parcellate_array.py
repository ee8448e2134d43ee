"""parcellate_array: the pure core, checked against a loop, scipy.ndimage and pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from nispace.io import parcellate_array

STRATEGIES = ["mean", "median", "sum", "min", "max", "std"]
NUMPY = {"mean": np.mean, "median": np.median, "sum": np.sum, "min": np.min, "max": np.max,
         "std": np.std}


def brute_force(data, labels, label_values, strategy, valid=None, min_valid=1):
    """One parcel at a time, one map at a time: the obvious implementation."""
    out = np.full((data.shape[0], len(label_values)), np.nan)
    for m, row in enumerate(data):
        ok = np.isfinite(row) if valid is None else np.isfinite(row) & valid[m]
        for j, v in enumerate(label_values):
            in_parcel = labels == v
            values = row[in_parcel & ok]
            need = min_valid if isinstance(min_valid, int) else min_valid * in_parcel.sum()
            if values.size and values.size >= need:
                out[m, j] = NUMPY[strategy](values)
    return out


@pytest.fixture
def example():
    """5 maps on 3000 points; labels 0 (background), 2, 5, 9, 11, 40 (40 is never used)."""
    rng = np.random.default_rng(42)
    labels = rng.choice([0, 2, 5, 9, 11], size=3000, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    data = rng.gamma(2.0, 1.5, size=(5, 3000))
    data[1, rng.choice(3000, 300, replace=False)] = np.nan
    data[2, labels == 11] = np.nan  # a parcel without any finite value in map 2
    label_values = np.array([9, 2, 11, 5, 40])  # unsorted, one absent from the labels
    return data, labels, label_values


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_strategies_match_a_brute_force_loop(example, strategy):
    data, labels, label_values = example
    got = parcellate_array(data, labels, label_values, strategy=strategy)
    assert got.shape == (5, 5) and got.dtype == np.float64
    np.testing.assert_allclose(got, brute_force(data, labels, label_values, strategy),
                               rtol=1e-12, atol=1e-12, equal_nan=True)
    assert np.isnan(got[:, 4]).all()  # label 40 has no points
    assert np.isnan(got[2, 2])  # map 2 has no finite value in label 11


@pytest.mark.parametrize("strategy, reference", [
    ("mean", ndimage.mean), ("median", ndimage.median), ("sum", ndimage.sum_labels),
    ("min", ndimage.minimum), ("max", ndimage.maximum), ("std", ndimage.standard_deviation)])
def test_strategies_match_scipy_ndimage(strategy, reference):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 30, size=(20, 20, 20))  # 3D labels, raveled like an image
    data = rng.normal(size=(3, 20, 20, 20))
    values = np.arange(1, 30)
    got = parcellate_array(data.reshape(3, -1), labels.ravel(), values, strategy=strategy)
    expected = np.array([reference(d, labels=labels, index=values) for d in data])
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_median_matches_labeled_comprehension_and_pandas(example):
    data, labels, label_values = example
    row = data[1]  # has NaNs: nanmedian over each parcel
    expected = ndimage.labeled_comprehension(row, labels, label_values[:4], np.nanmedian,
                                             float, np.nan)
    got = parcellate_array(row, labels, label_values[:4], strategy="median")[0]
    np.testing.assert_allclose(got, expected)
    # pandas groupby skips NaN the same way, for every strategy
    groups = pd.Series(row).groupby(labels)
    for strategy, agg in [("mean", "mean"), ("median", "median"), ("sum", "sum"),
                          ("min", "min"), ("max", "max")]:
        ref = groups.agg(agg).reindex(label_values[:4]).to_numpy()
        np.testing.assert_allclose(parcellate_array(row, labels, label_values[:4],
                                                    strategy=strategy)[0], ref)
    np.testing.assert_allclose(parcellate_array(row, labels, label_values[:4], "std")[0],
                               groups.std(ddof=0).reindex(label_values[:4]).to_numpy())


def test_valid_mask_and_min_valid(example):
    data, labels, label_values = example
    rng = np.random.default_rng(3)
    valid = rng.random(data.shape) > 0.4
    for min_valid in (1, 20, 0.5, 1.0):
        got = parcellate_array(data, labels, label_values, valid=valid, min_valid=min_valid)
        np.testing.assert_allclose(
            got, brute_force(data, labels, label_values, "mean", valid, min_valid),
            equal_nan=True)
    # one shared mask for all maps, given as (n_points,)
    shared = valid[0]
    np.testing.assert_allclose(
        parcellate_array(data, labels, label_values, valid=shared),
        parcellate_array(data, labels, label_values, valid=np.tile(shared, (5, 1))),
        equal_nan=True)
    # an int counts points, a float is a fraction of the parcel: 1 and 1.0 differ
    one_missing = np.ones(3000, bool)
    one_missing[np.flatnonzero(labels == 2)[0]] = False
    assert np.isfinite(parcellate_array(data[0], labels, [2], valid=one_missing,
                                        min_valid=1)).all()
    assert np.isnan(parcellate_array(data[0], labels, [2], valid=one_missing,
                                     min_valid=1.0)).all()


def test_small_worked_example():
    data = np.array([[1.0, 2.0, 3.0, 10.0, np.nan, 7.0]])
    labels = np.array([1, 1, 2, 2, 2, 0])
    np.testing.assert_array_equal(parcellate_array(data, labels, [1, 2]), [[1.5, 6.5]])
    np.testing.assert_array_equal(parcellate_array(data, labels, [1, 2], "max"), [[2, 10]])
    np.testing.assert_array_equal(parcellate_array(data, labels, [2, 1], "median"),
                                  [[6.5, 1.5]])
    # float labels with integer values are accepted (label images are often float)
    np.testing.assert_array_equal(parcellate_array(data, labels.astype(float), [1, 2]),
                                  [[1.5, 6.5]])


def test_inputs_are_not_modified(example):
    data, labels, label_values = example
    copies = [a.copy() for a in (data, labels, label_values)]
    for strategy in STRATEGIES:
        parcellate_array(data, labels, label_values, strategy=strategy)
    for a, b in zip((data, labels, label_values), copies):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(strategy="maximum"), ValueError, r"strategy: expected one of .*Did you mean 'max'"),
    (dict(strategy="avg"), ValueError, r"strategy: expected one of \['mean', 'median'"),
    (dict(min_valid=0), ValueError, r"min_valid: expected an int >= 1 .* got 0"),
    (dict(min_valid=1.5), ValueError, r"min_valid: a float is a fraction .* got 1.5"),
    (dict(min_valid=True), TypeError, r"min_valid: expected an int >= 1"),
    (dict(labels=np.zeros(10, int)), ValueError,
     r"labels: expected a 1D array with one label per point \(30\); got shape \(10,\)"),
    (dict(labels=np.full(30, 1.5)), TypeError, r"labels: expected integer label values"),
    (dict(label_values=[1, 1, 2]), ValueError, r"label_values: expected unique values"),
    (dict(valid=np.ones((2, 30))), TypeError, r"valid: expected a boolean array"),
    (dict(valid=np.ones((3, 30), bool)), ValueError,
     r"valid: expected shape \(2, 30\) or \(30,\) like data; got \(3, 30\)"),
    (dict(data=np.zeros((2, 3, 5))), ValueError,
     r"data: expected a 2D array \(n_maps, n_points\); got a 3D array"),
])
def test_bad_arguments(kwargs, error, match):
    args = dict(data=np.ones((2, 30)), labels=np.repeat([1, 2, 3], 10), label_values=[1, 2, 3])
    args.update(kwargs)
    with pytest.raises(error, match=match):
        parcellate_array(**args)
