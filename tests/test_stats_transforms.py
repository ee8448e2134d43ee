"""Effect sizes (nispace.stats.effectsize) and the transform_y formula grammar
(nispace.stats.transforms), checked against textbook formulas written out here
and against SciPy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nispace.stats import effectsize as es
from nispace.stats.transforms import (ACCEPTED_FORMS, Transform, apply_transform,
                                      parse_transform)

RNG_SEED = 20240601


@pytest.fixture
def two_groups():
    rng = np.random.default_rng(RNG_SEED)
    a = rng.normal(1.0, 2.0, size=(9, 6))
    b = rng.normal(0.0, 1.5, size=(12, 6))
    return a, b


# ---------------------------------------------------------------------------
# textbook references, written out
# ---------------------------------------------------------------------------

def ref_cohen_d(a, b):
    """Cohen (1988): (mean_a - mean_b) / pooled SD, pooled with n - 1."""
    out = []
    for j in range(a.shape[1]):
        x, y = a[:, j], b[:, j]
        x, y = x[~np.isnan(x)], y[~np.isnan(y)]
        na, nb = len(x), len(y)
        sa2 = sum((v - x.mean()) ** 2 for v in x) / (na - 1)
        sb2 = sum((v - y.mean()) ** 2 for v in y) / (nb - 1)
        sp = math.sqrt(((na - 1) * sa2 + (nb - 1) * sb2) / (na + nb - 2))
        out.append((x.mean() - y.mean()) / sp)
    return np.array(out)


def ref_J(df):
    """Hedges (1981) exact correction with math.gamma."""
    return math.gamma(df / 2) / (math.sqrt(df / 2) * math.gamma((df - 1) / 2))


# ---------------------------------------------------------------------------
# effect sizes
# ---------------------------------------------------------------------------

def test_mean_diff(two_groups):
    a, b = two_groups
    np.testing.assert_allclose(es.mean_diff(a, b), a.mean(0) - b.mean(0))


def test_cohen_d_pooled_sd(two_groups):
    a, b = two_groups
    np.testing.assert_allclose(es.cohen_d(a, b), ref_cohen_d(a, b), rtol=1e-12)
    np.testing.assert_allclose(es.cohen_d(b, a), -ref_cohen_d(a, b), rtol=1e-12)


def test_hedges_g_exact_gamma_and_approximation(two_groups):
    a, b = two_groups
    df = a.shape[0] + b.shape[0] - 2
    expected = ref_cohen_d(a, b) * ref_J(df)
    np.testing.assert_allclose(es.hedges_g(a, b), expected, rtol=1e-12)
    # the common approximation 1 - 3 / (4 df - 1) is close to the exact J
    approx = ref_cohen_d(a, b) * (1 - 3 / (4 * df - 1))
    np.testing.assert_allclose(es.hedges_g(a, b), approx, rtol=2e-4)


@pytest.mark.parametrize("df", [2, 3, 5, 10, 19, 50, 120])
def test_hedges_correction_matches_gamma_form(df):
    assert es.hedges_correction(df) == pytest.approx(ref_J(df), rel=1e-12)
    assert es.hedges_correction(df) == pytest.approx(1 - 3 / (4 * df - 1),
                                                     rel=2e-2 if df < 5 else 5e-3 if df < 10 else 1e-3)


def test_hedges_correction_large_df_does_not_overflow():
    # math.gamma overflows above ~340; the log-gamma form does not
    assert es.hedges_correction(10_000) == pytest.approx(1 - 3 / (4 * 10_000 - 1), rel=1e-9)
    assert np.isnan(es.hedges_correction(1))


def test_paired_cohen_dz():
    rng = np.random.default_rng(1)
    pre = rng.normal(size=(15, 4))
    post = pre + rng.normal(0.5, 1.0, size=(15, 4))
    diff = post - pre
    expected = diff.mean(0) / diff.std(0, ddof=1)
    np.testing.assert_allclose(es.paired_cohen_d(post, pre), expected, rtol=1e-12)


def test_zscore_against_scipy(two_groups):
    a, b = two_groups
    np.testing.assert_allclose(es.zscore(a), stats.zscore(a, axis=0, ddof=1), rtol=1e-12)
    expected = (a - b.mean(0)) / b.std(0, ddof=1)
    np.testing.assert_allclose(es.zscore(a, ref=b), expected, rtol=1e-12)


def test_rzscore_against_scipy_mad(two_groups):
    a, b = two_groups
    mad = stats.median_abs_deviation(b, axis=0, scale=1 / 1.4826)  # = 1.4826 * MAD
    expected = (a - np.median(b, axis=0)) / mad
    np.testing.assert_allclose(es.rzscore(a, ref=b), expected, rtol=1e-12)
    mad_a = stats.median_abs_deviation(a, axis=0, scale=1 / 1.4826)
    np.testing.assert_allclose(es.rzscore(a), (a - np.median(a, 0)) / mad_a, rtol=1e-12)


def test_centile_against_percentileofscore(two_groups):
    a, b = two_groups
    a = a.copy()
    a[0, 0] = b[3, 0]  # a tie with a reference value
    out = es.centile(a, ref=b)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            assert out[i, j] == pytest.approx(
                stats.percentileofscore(b[:, j], a[i, j], kind="weak"))
    own = es.centile(a)
    assert own[0, 1] == pytest.approx(stats.percentileofscore(a[:, 1], a[0, 1], kind="weak"))


def test_prc_is_percent_change_from_b():
    a = np.array([[110.0, 50.0, 3.0], [90.0, 100.0, 1.0]])
    b = np.array([[100.0, 100.0, 0.0], [100.0, 80.0, 2.0]])
    out = es.prc(a, b)
    np.testing.assert_allclose(out[:, :2], [[10.0, -50.0], [-10.0, 25.0]])
    assert np.isnan(out[0, 2])  # division by zero is undefined
    assert out[1, 2] == pytest.approx(-50.0)


def test_logfc_is_log2_of_mean_ratio():
    rng = np.random.default_rng(3)
    a = rng.uniform(1, 4, size=(7, 5))
    b = rng.uniform(1, 4, size=(6, 5))
    np.testing.assert_allclose(es.logfc(a, b), np.log2(a.mean(0) / b.mean(0)), rtol=1e-12)
    b[:, 2] = -1.0
    with pytest.warns(RuntimeWarning, match="1 parcel"):
        out = es.logfc(a, b)
    assert np.isnan(out[2]) and np.isfinite(out[[0, 1, 3, 4]]).all()


def test_nan_drops_subject_per_parcel_only(two_groups):
    a, b = two_groups
    a_nan = a.copy()
    a_nan[2, 1] = np.nan
    d = es.cohen_d(a_nan, b)
    np.testing.assert_allclose(d[[0, 2, 3, 4, 5]], ref_cohen_d(a, b)[[0, 2, 3, 4, 5]])
    assert d[1] == pytest.approx(ref_cohen_d(np.delete(a[:, [1]], 2, axis=0), b[:, [1]])[0])
    g = es.hedges_g(a_nan, b)
    df1 = (a.shape[0] - 1) + b.shape[0] - 2
    assert g[1] == pytest.approx(d[1] * ref_J(df1))
    z = es.zscore(b, ref=a_nan)
    col = np.delete(a[:, 1], 2)
    np.testing.assert_allclose(z[:, 1], (b[:, 1] - col.mean()) / col.std(ddof=1))


def test_zero_spread_gives_nan():
    a = np.ones((4, 2))
    a[:, 1] = [1, 2, 3, 4]
    b = np.ones((3, 2))
    b[:, 1] = [0, 1, 5]
    d = es.cohen_d(a, b)
    assert np.isnan(d[0]) and np.isfinite(d[1])
    assert np.isnan(es.zscore(b, ref=a)[:, 0]).all()
    assert np.isnan(es.rzscore(b, ref=a)[:, 0]).all()


@pytest.mark.parametrize("fun", [es.cohen_d, es.hedges_g])
def test_two_group_sd_needs_two_members(fun, two_groups):
    a, b = two_groups
    with pytest.raises(ValueError, match=r"b: .* at least 2 row.*group 'b'; got 1"):
        fun(a, b[:1])
    with pytest.raises(ValueError, match=r"a: .*group 'a'; got 1"):
        fun(a[:1], b)


def test_effect_size_input_errors(two_groups):
    a, b = two_groups
    with pytest.raises(ValueError, match=r"a: expected a 2-D array .* got an array of shape \(9,\)"):
        es.cohen_d(a[:, 0], b)
    with pytest.raises(ValueError, match="same number of parcels"):
        es.hedges_g(a, b[:, :3])
    with pytest.raises(ValueError, match="ref: .*at least 2"):
        es.zscore(a, ref=b[:1])
    with pytest.raises(ValueError, match="same shape"):
        es.paired_cohen_d(a, b)
    with pytest.raises(ValueError, match="same shape"):
        es.prc(a, b)


# ---------------------------------------------------------------------------
# grammar: parsing
# ---------------------------------------------------------------------------

EXPECTED_PARSE = {
    "y": ("identity", ("y",), False, True),
    "mean(y)": ("mean", ("y",), False, False),
    "median(y)": ("median", ("y",), False, False),
    "std(y)": ("std", ("y",), False, False),
    "var(y)": ("var", ("y",), False, False),
    "a-b": ("elemdiff", ("a", "b"), True, True),
    "elemdiff(a,b)": ("elemdiff", ("a", "b"), True, True),
    "mean(a)-mean(b)": ("meandiff", ("a", "b"), False, False),
    "meandiff(a,b)": ("meandiff", ("a", "b"), False, False),
    "a-mean(b)": ("center", ("a", "b"), False, True),
    "center(a,b)": ("center", ("a", "b"), False, True),
    "cohen(a,b)": ("cohen", ("a", "b"), False, False),
    "pairedcohen(a,b)": ("pairedcohen", ("a", "b"), True, False),
    "hedges(a,b)": ("hedges", ("a", "b"), False, False),
    "zscore(a)": ("zscore", ("a",), False, True),
    "zscore(a,b)": ("zscore", ("a", "b"), False, True),
    "rzscore(a)": ("rzscore", ("a",), False, True),
    "rzscore(a,b)": ("rzscore", ("a", "b"), False, True),
    "centile(a)": ("centile", ("a",), False, True),
    "centile(a,b)": ("centile", ("a", "b"), False, True),
    "prc(a,b)": ("prc", ("a", "b"), True, True),
    "logfc(a,b)": ("logfc", ("a", "b"), False, False),
}


def test_expected_table_covers_every_accepted_form():
    assert set(EXPECTED_PARSE) == set(ACCEPTED_FORMS)


@pytest.mark.parametrize("formula", ACCEPTED_FORMS)
def test_every_form_parses(formula):
    t = parse_transform(formula)
    op, args, paired, per_row = EXPECTED_PARSE[formula]
    assert (t.operation, t.args, t.paired, t.per_row) == (op, args, paired, per_row)
    assert t.needs_groups == ("a" in args or "b" in args)
    assert parse_transform(t.formula) == t  # canonical text round-trips


@pytest.mark.parametrize("variant, canonical", [
    (" HEDGES ( a , b ) ", "hedges(a,b)"),
    ("Hedges(A,B)", "hedges(a,b)"),
    ("\tmean( a )  -  MEAN(b)\n", "mean(a)-mean(b)"),
    ("A - B", "a-b"),
    ("a -mean( b)", "a-mean(b)"),
    ("ZScore(a , b)", "zscore(a,b)"),
    ("  Y ", "y"),
])
def test_whitespace_and_case_insensitive(variant, canonical):
    assert parse_transform(variant) == parse_transform(canonical)


def test_sugar_equals_function_form():
    assert parse_transform("a-b") == parse_transform("elemdiff(a,b)")
    assert parse_transform("mean(a)-mean(b)") == parse_transform("meandiff(a,b)")
    assert parse_transform("a-mean(b)") == parse_transform("center(a,b)")


@pytest.mark.parametrize("bad", [
    "hedges(a", "foo(a,b)", "a+b", "__import__('os')", "", "   ", "hedges(a,b", "hedges a,b",
    "mean(a,b)", "hedges(a,a)", "cohen(y,b)", "a-b-a", "mean(a)-b", "zscore(c)", "y)",
    "hedges((a,b))", "mean(mean(a))", "a*b", "hedges(a,b);import os", "me an(a)", "a--b",
    "open('x').read()", "lambda: 1",
])
def test_malformed_formulas_list_every_accepted_form(bad):
    with pytest.raises(ValueError, match=r"^formula: could not use") as info:
        parse_transform(bad)
    message = str(info.value)
    for form in ACCEPTED_FORMS:
        assert form in message


def test_formula_must_be_a_string():
    with pytest.raises(TypeError, match="formula: expected a string"):
        parse_transform(42)


# ---------------------------------------------------------------------------
# grammar: applying
# ---------------------------------------------------------------------------

@pytest.fixture
def paired_design():
    """6 subjects measured twice ('post' and 'pre'), rows shuffled."""
    rng = np.random.default_rng(7)
    n_sub, n_parcels = 6, 5
    subj = np.array([f"sub-{i:02d}" for i in range(n_sub)])
    pre = rng.uniform(1, 3, size=(n_sub, n_parcels))
    post = pre + rng.normal(0.3, 0.5, size=(n_sub, n_parcels))
    Y = np.vstack([post, pre])
    groups = np.array(["post"] * n_sub + ["pre"] * n_sub)
    subjects = np.concatenate([subj, subj])
    perm = rng.permutation(2 * n_sub)
    return Y[perm], groups[perm], subjects[perm], dict(zip(subj, post)), dict(zip(subj, pre))


def _expected(formula, Y, groups, subjects, post, pre):
    """Independent reference: a = 'post' (sorted first), b = 'pre'."""
    a = Y[groups == "post"]
    b = Y[groups == "pre"]
    a_ids = subjects[groups == "post"]
    b_matched = np.array([pre[s] for s in a_ids])
    a_sd, b_sd = a.std(0, ddof=1), b.std(0, ddof=1)
    df = len(a) + len(b) - 2
    d = ref_cohen_d(a, b)
    centile = np.array([[stats.percentileofscore(b[:, j], v, kind="weak")
                         for j, v in enumerate(row)] for row in a])
    centile_own = np.array([[stats.percentileofscore(a[:, j], v, kind="weak")
                             for j, v in enumerate(row)] for row in a])
    mad = lambda x: 1.4826 * np.median(np.abs(x - np.median(x, 0)), 0)  # noqa: E731
    table = {
        "y": (Y, list(subjects)),
        "mean(y)": (Y.mean(0), ["mean"]),
        "median(y)": (np.median(Y, 0), ["median"]),
        "std(y)": (Y.std(0, ddof=1), ["std"]),
        "var(y)": (Y.var(0, ddof=1), ["var"]),
        "a-b": (a - b_matched, list(a_ids)),
        "elemdiff(a,b)": (a - b_matched, list(a_ids)),
        "mean(a)-mean(b)": (a.mean(0) - b.mean(0), ["meandiff"]),
        "meandiff(a,b)": (a.mean(0) - b.mean(0), ["meandiff"]),
        "a-mean(b)": (a - b.mean(0), list(a_ids)),
        "center(a,b)": (a - b.mean(0), list(a_ids)),
        "cohen(a,b)": (d, ["cohen"]),
        "pairedcohen(a,b)": ((a - b_matched).mean(0) / (a - b_matched).std(0, ddof=1),
                             ["pairedcohen"]),
        "hedges(a,b)": (d * ref_J(df), ["hedges"]),
        "zscore(a)": ((a - a.mean(0)) / a_sd, list(a_ids)),
        "zscore(a,b)": ((a - b.mean(0)) / b_sd, list(a_ids)),
        "rzscore(a)": ((a - np.median(a, 0)) / mad(a), list(a_ids)),
        "rzscore(a,b)": ((a - np.median(b, 0)) / mad(b), list(a_ids)),
        "centile(a)": (centile_own, list(a_ids)),
        "centile(a,b)": (centile, list(a_ids)),
        "prc(a,b)": (100 * (a - b_matched) / b_matched, list(a_ids)),
        "logfc(a,b)": (np.log2(a.mean(0) / b.mean(0)), ["logfc"]),
    }
    return table[formula]


@pytest.mark.parametrize("formula", ACCEPTED_FORMS)
def test_every_form_applies(formula, paired_design):
    Y, groups, subjects, post, pre = paired_design
    values, labels = apply_transform(Y, formula, groups=groups, subjects=subjects)
    expected, expected_labels = _expected(formula, Y, groups, subjects, post, pre)
    expected = np.atleast_2d(expected)
    assert values.shape == expected.shape == (len(labels), Y.shape[1])
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-12)
    assert labels == expected_labels


def test_paired_matching_is_independent_of_row_order(paired_design):
    Y, groups, subjects, post, pre = paired_design
    diff, labels = apply_transform(Y, "a-b", groups=groups, subjects=subjects)
    for row, s in zip(diff, labels):
        np.testing.assert_allclose(row, post[s] - pre[s])
    rng = np.random.default_rng(0)
    for _ in range(3):
        perm = rng.permutation(len(Y))
        d2, l2 = apply_transform(Y[perm], "a-b", groups=groups[perm], subjects=subjects[perm])
        got = dict(zip(l2, d2))
        for s in labels:
            np.testing.assert_allclose(got[s], post[s] - pre[s])
        dz1, _ = apply_transform(Y, "pairedcohen(a,b)", groups=groups, subjects=subjects)
        dz2, _ = apply_transform(Y[perm], "pairedcohen(a,b)", groups=groups[perm],
                                 subjects=subjects[perm])
        np.testing.assert_allclose(dz1, dz2)


def test_reversed_arguments(paired_design):
    Y, groups, subjects, post, pre = paired_design
    g_ab, _ = apply_transform(Y, "hedges(a,b)", groups=groups)
    g_ba, _ = apply_transform(Y, "hedges(b,a)", groups=groups)
    np.testing.assert_allclose(g_ab, -g_ba)
    d_ba, labels = apply_transform(Y, "b-a", groups=groups, subjects=subjects)
    for row, s in zip(d_ba, labels):
        np.testing.assert_allclose(row, pre[s] - post[s])


def test_group_order_sorted_categorical_and_explicit():
    rng = np.random.default_rng(11)
    Y = rng.normal(size=(8, 3))
    groups = np.array(["HC", "AN"] * 4)  # HC appears first, AN sorts first
    an, hc = Y[groups == "AN"], Y[groups == "HC"]
    md = an.mean(0) - hc.mean(0)
    out, _ = apply_transform(Y, "mean(a)-mean(b)", groups=groups)
    np.testing.assert_allclose(out[0], md)  # a = "AN" (sorted, as NiSpace)
    out, _ = apply_transform(Y, "mean(a)-mean(b)", groups=groups, levels=("HC", "AN"))
    np.testing.assert_allclose(out[0], -md)
    cat = pd.Categorical(groups, categories=["HC", "AN"])
    out, _ = apply_transform(Y, "mean(a)-mean(b)", groups=cat)
    np.testing.assert_allclose(out[0], -md)
    out, _ = apply_transform(Y, "mean(a)-mean(b)", groups=pd.Series(cat))
    np.testing.assert_allclose(out[0], -md)
    # numeric labels: a = 0
    num = (groups == "HC").astype(int)
    out, _ = apply_transform(Y, "mean(a)-mean(b)", groups=num)
    np.testing.assert_allclose(out[0], md)


def test_row_labels_and_defaults(paired_design):
    Y, groups, subjects, *_ = paired_design
    _, labels = apply_transform(Y, "zscore(y)")
    assert labels == [str(i) for i in range(len(Y))]
    names = [f"row{i}" for i in range(len(Y))]
    _, labels = apply_transform(Y, "zscore(a,b)", groups=groups, row_labels=names)
    assert labels == [n for n, g in zip(names, groups) if g == "post"]
    t = parse_transform("hedges(a,b)")
    values, labels = apply_transform(Y, t, groups=groups)
    assert isinstance(t, Transform) and labels == ["hedges"] and values.shape == (1, 5)


def test_y_formulas_ignore_groups():
    Y = np.random.default_rng(2).normal(size=(5, 3))
    out, _ = apply_transform(Y, "mean(y)", groups=["x", "y", "z", "x", "y"])
    np.testing.assert_allclose(out[0], Y.mean(0))


# ---------------------------------------------------------------------------
# grammar: bad inputs
# ---------------------------------------------------------------------------

def test_three_levels_for_two_group_formula():
    Y = np.zeros((6, 2))
    with pytest.raises(ValueError, match=r"groups: .*exactly two group levels; found 3: "
                                         r"\['x', 'y', 'z'\]"):
        apply_transform(Y, "hedges(a,b)", groups=["x", "y", "z", "x", "y", "z"])


def test_one_level_for_two_group_formula():
    with pytest.raises(ValueError, match=r"exactly two group levels; found 1: \['x'\]"):
        apply_transform(np.zeros((4, 2)), "cohen(a,b)", groups=["x"] * 4)


def test_group_with_one_member_is_named():
    Y = np.random.default_rng(0).normal(size=(5, 3))
    groups = ["AN", "HC", "HC", "HC", "HC"]
    with pytest.raises(ValueError, match=r"groups: 'hedges\(a,b\)' needs at least 2 rows "
                                         r"in group 'AN' \(a\); got 1"):
        apply_transform(Y, "hedges(a,b)", groups=groups)
    with pytest.raises(ValueError, match=r"group 'AN' \(a\)"):
        apply_transform(Y, "zscore(b,a)", groups=groups)
    # a single member is fine where no SD of that group is needed
    out, labels = apply_transform(Y, "zscore(a,b)", groups=groups)
    assert out.shape == (1, 3) and labels == ["0"]


def test_missing_groups_or_subjects():
    Y = np.zeros((4, 2))
    with pytest.raises(ValueError, match="groups: formula 'hedges\\(a,b\\)' refers to groups"):
        apply_transform(Y, "hedges(a,b)")
    with pytest.raises(ValueError, match="subjects: paired formula 'elemdiff\\(a,b\\)'"):
        apply_transform(Y, "a-b", groups=["x", "x", "y", "y"])
    with pytest.raises(ValueError, match=r"groups: expected one label per row of Y \(4\); got 3"):
        apply_transform(Y, "cohen(a,b)", groups=["x", "y", "y"])
    with pytest.raises(ValueError, match=r"groups: contains missing labels at row\(s\) \[1\]"):
        apply_transform(Y, "cohen(a,b)", groups=["x", np.nan, "y", "y"])
    with pytest.raises(ValueError, match=r"levels=\('x', 'y'\)|not in levels"):
        apply_transform(Y, "cohen(a,b)", groups=["x", "x", "y", "z"], levels=("x", "y"))


def test_unmatched_and_duplicated_subjects():
    Y = np.random.default_rng(0).normal(size=(6, 2))
    groups = ["pre", "pre", "pre", "post", "post", "post"]
    with pytest.raises(ValueError, match=r"subjects: .*unmatched in group 'post' \(a\): "
                                         r"\['s4'\], in group 'pre' \(b\): \['s3'\]"):
        apply_transform(Y, "a-b", groups=groups, subjects=["s1", "s2", "s3", "s1", "s2", "s4"])
    with pytest.raises(ValueError, match=r"subjects: .*once per group; group 'pre' \(b\) "
                                         r"repeats \['s1'\]"):
        apply_transform(Y, "prc(a,b)", groups=groups,
                        subjects=["s1", "s1", "s2", "s1", "s2", "s3"])


def test_bad_Y_shape():
    with pytest.raises(ValueError, match=r"Y: expected a 2-D array .*got an array of shape \(4,\)"):
        apply_transform(np.zeros(4), "mean(y)")
