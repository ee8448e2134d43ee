"""Multiple-comparison corrections, checked against statsmodels, hand-computed Meff values
and a loop-by-loop Westfall-Young implementation."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from nispace.stats.correction import (
    MC_METHODS,
    canonical_mc_method,
    correct_p,
    meff,
    meff_sidak,
    westfall_young,
)
from nispace.stats.pvalues import null_to_p

STATSMODELS_METHODS = [m for m in MC_METHODS
                       if not m.startswith("meff") and m not in ("maxt", "step_maxt")]


def compound_symmetry(n, r):
    return np.full((n, n), r) + (1 - r) * np.eye(n)


def brute_force_westfall_young(obs, null, tail, step_down):
    """Westfall & Young (1993) for one family, written out hypothesis by hypothesis."""
    def orient(x):
        return abs(x) if tail == "two" else (x if tail == "upper" else -x)

    def perm_max(k, among):  # NaN null values are ignored
        values = [orient(null[k, j]) for j in among if not np.isnan(null[k, j])]
        return max(values) if values else -np.inf

    members = [j for j in range(len(obs)) if not np.isnan(obs[j])]
    t_obs = {j: orient(obs[j]) for j in members}
    perms = [k for k in range(null.shape[0]) if not np.isnan(null[k, members]).all()]
    p = np.full(len(obs), np.nan)
    if not step_down:
        for i in members:
            hits = sum(perm_max(k, members) >= t_obs[i] for k in perms)
            p[i] = (1 + hits) / (1 + len(perms))
        return p
    ordered = sorted(members, key=lambda j: -t_obs[j])
    previous = 0.0
    for r, i in enumerate(ordered):
        hits = sum(perm_max(k, ordered[r:]) >= t_obs[i] for k in perms)
        previous = max(previous, (1 + hits) / (1 + len(perms)))
        p[i] = previous
    return p


@pytest.fixture
def p_grid():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=(4, 12)) ** 2  # some small p-values
    p[1, 3] = np.nan
    p[2, :] = np.nan  # a Y map without p-values
    return p


# --------------------------------------------------------------------------
# statsmodels methods and names
# --------------------------------------------------------------------------

@pytest.mark.parametrize("method", STATSMODELS_METHODS)
def test_multipletests_rows_equal_statsmodels(p_grid, method):
    corrected = correct_p(p_grid, method, mc_dimension="x")
    for row, p_row in zip(corrected, p_grid):
        valid = ~np.isnan(p_row)
        expected = multipletests(p_row[valid], method=method)[1] if valid.any() else []
        np.testing.assert_array_equal(row[valid], expected)
        assert np.all(np.isnan(row[~valid]))


@pytest.mark.parametrize("method", ["holm", "fdr_bh", "fdr_tsbky"])
def test_mc_dimension_y_and_array(p_grid, method):
    by_column = correct_p(p_grid, method, mc_dimension="y")
    for j in range(p_grid.shape[1]):
        valid = ~np.isnan(p_grid[:, j])
        np.testing.assert_array_equal(by_column[valid, j],
                                      multipletests(p_grid[valid, j], method=method)[1])
    everything = correct_p(p_grid, method, mc_dimension="array")
    valid = ~np.isnan(p_grid)
    np.testing.assert_array_equal(everything[valid],
                                  multipletests(p_grid[valid], method=method)[1])
    assert np.isnan(everything[~valid]).all() and np.isnan(by_column[~valid]).all()
    # "array" accepts any shape
    np.testing.assert_array_equal(correct_p(p_grid.ravel(), method, mc_dimension="array"),
                                  everything.ravel())


def test_nan_free_grid_equals_statsmodels_exactly():
    p = np.random.default_rng(1).uniform(size=(3, 7))
    for method in STATSMODELS_METHODS:
        np.testing.assert_array_equal(correct_p(p, method, mc_dimension="array"),
                                      multipletests(p.ravel(), method=method)[1].reshape(3, 7))


@pytest.mark.parametrize("alias, canonical", [
    ("bonf", "bonferroni"), ("b", "bonferroni"), ("Bonferroni", "bonferroni"),
    ("fdr", "fdr_bh"), ("bh", "fdr_bh"), ("fdrbh", "fdr_bh"), ("FDR-BH", "fdr_bh"),
    ("fdr_i", "fdr_bh"), ("by", "fdr_by"), ("fdrby", "fdr_by"), ("fdr_n", "fdr_by"),
    ("hochberg", "simes-hochberg"), ("sh", "simes-hochberg"), ("hs", "holm-sidak"),
    ("holmsidak", "holm-sidak"), ("ho", "hommel"), ("fdr_twostage", "fdr_tsbky"),
    ("fdr_2sbh", "fdr_tsbh"), ("meff", "meffgalwey"), ("meff_galwey", "meffgalwey"),
    ("meff_li_ji", "meffliji"), ("maxT", "maxt"), ("step_maxT", "step_maxt"),
    ("stepmaxt", "step_maxt"),
])
def test_aliases(alias, canonical):
    assert canonical_mc_method(alias) == canonical


def test_statsmodels_aliases_are_all_accepted():
    from statsmodels.stats.multitest import multitest_alias

    for alias, formal in multitest_alias.items():
        if formal.startswith("lfdr"):  # local FDR estimates, not adjusted p-values
            continue
        assert canonical_mc_method(alias) in STATSMODELS_METHODS


def test_unknown_method_lists_valid_names():
    with pytest.raises(ValueError, match=r"method: expected one of .*'fdr_bh'.*'maxt'.*"
                                         r"got 'fdr_hb'.*Did you mean"):
        canonical_mc_method("fdr_hb")
    with pytest.raises(ValueError, match="mc_method: expected"):
        canonical_mc_method("nope", argname="mc_method")
    with pytest.raises(ValueError, match="method"):
        correct_p(np.full((1, 2), 0.5), "lfdr")


def test_input_errors():
    p = np.full((2, 3), 0.5)
    with pytest.raises(ValueError, match="mc_dimension"):
        correct_p(p, "fdr", mc_dimension="rows")
    with pytest.raises(ValueError, match=r"p: expected p-values in \[0, 1\]"):
        correct_p(p + 1, "fdr")
    with pytest.raises(ValueError, match=r"p: expected shape \(n_y, n_x\)"):
        correct_p(p.ravel(), "fdr")
    with pytest.raises(ValueError, match=r"corr_x: .* needs the \(3, 3\) correlation"):
        correct_p(p, "meff")
    with pytest.raises(ValueError, match=r"corr_y: expected the \(2, 2\)"):
        correct_p(p, "meff", mc_dimension="y", corr_y=np.eye(3))
    with pytest.raises(ValueError, match="corr_x: expected a correlation matrix with a unit"):
        correct_p(p, "meff", corr_x=2 * np.eye(3))
    with pytest.raises(ValueError, match="null: method 'maxt' needs"):
        correct_p(p, "maxT", obs=p)
    with pytest.raises(ValueError, match="obs: method 'step_maxt' needs"):
        correct_p(p, "step_maxT", null=np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match="null: expected shape"):
        correct_p(p, "maxt", obs=p, null=np.zeros((5, 3, 2)))


# --------------------------------------------------------------------------
# effective number of tests
# --------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["galwey", "liji"])
def test_meff_textbook_cases(method):
    for m in (1, 2, 5, 30):
        assert meff(np.eye(m), method) == pytest.approx(m, abs=1e-12)
        assert meff(np.ones((m, m)), method) == pytest.approx(1, abs=1e-12)


def test_meff_hand_computed():
    # 2 x 2 with correlation r: eigenvalues 1 + r and 1 - r
    #   Galwey: (sqrt(1+r) + sqrt(1-r))^2 / 2 = 1 + sqrt(1 - r^2); r = 0.6 -> 1.8
    #   Li & Ji: f(1.6) + f(0.4) = (1 + 0.6) + 0.4 = 2
    c2 = compound_symmetry(2, 0.6)
    assert meff(c2, "galwey") == pytest.approx(1.8, abs=1e-12)
    assert meff(c2, "liji") == pytest.approx(2.0, abs=1e-12)
    # 3 x 3 with r = 0.5: eigenvalues 2, 0.5, 0.5
    #   Galwey: (sqrt(2) + 2 sqrt(0.5))^2 / 3 = (2 sqrt(2))^2 / 3 = 8 / 3
    #   Li & Ji: f(2) + 2 f(0.5) = 1 + 1 = 2 (f(2) = 1 exactly, not ~2)
    c3 = compound_symmetry(3, 0.5)
    assert meff(c3, "galwey") == pytest.approx(8 / 3, abs=1e-12)
    assert meff(c3, "liji") == pytest.approx(2.0, abs=1e-12)
    # 3 x 3 with r = 0.9: eigenvalues 2.8, 0.1, 0.1
    #   Galwey: (sqrt(2.8) + 2 sqrt(0.1))^2 / 3 = 1.772200...; Li & Ji: 1.8 + 0.2 = 2
    c3b = compound_symmetry(3, 0.9)
    assert meff(c3b, "galwey") == pytest.approx((2.8 ** 0.5 + 2 * 0.1 ** 0.5) ** 2 / 3,
                                                abs=1e-12)
    assert meff(c3b, "galwey") == pytest.approx(1.772200, abs=1e-6)
    assert meff(c3b, "liji") == pytest.approx(2.0, abs=1e-12)
    # two independent blocks: all-ones (2 x 2) and identity (2 x 2): eigenvalues 2, 0, 1, 1
    #   Galwey: (sqrt(2) + 2)^2 / 4 = 2.914214...; Li & Ji: 1 + 0 + 1 + 1 = 3
    block = np.eye(4)
    block[:2, :2] = 1
    assert meff(block, "galwey") == pytest.approx((2 ** 0.5 + 2) ** 2 / 4, abs=1e-12)
    assert meff(block, "liji") == pytest.approx(3.0, abs=1e-12)
    with pytest.raises(ValueError, match="method"):
        meff(c2, "nyholt")
    with pytest.raises(ValueError, match="corr: expected a symmetric"):
        meff(np.array([[1, 0.5], [0.2, 1]]), "galwey")


def test_meff_sidak_formula():
    p = np.array([0.001, 0.01, 0.2, 0.9, 1.0, np.nan])
    np.testing.assert_allclose(meff_sidak(p, 3.5), 1 - (1 - p) ** 3.5, rtol=1e-12)
    assert meff_sidak(1e-20, 5.0) == pytest.approx(5e-20, rel=1e-12)  # naive form gives 0
    np.testing.assert_array_equal(meff_sidak(p[:5], 1.0), p[:5])
    assert np.isnan(meff_sidak(p, 2.0)[-1])


def test_meff_with_independent_or_identical_maps():
    p = np.random.default_rng(2).uniform(size=(3, 6)) ** 3
    # independent X maps: Meff = M, i.e. statsmodels' Sidak
    for method in ("meffgalwey", "meffliji"):
        np.testing.assert_allclose(correct_p(p, method, corr_x=np.eye(6)),
                                   correct_p(p, "sidak"), rtol=1e-14)
        # identical X maps: one test, nothing to correct
        np.testing.assert_allclose(correct_p(p, method, corr_x=np.ones((6, 6))), p,
                                   rtol=1e-14)


def test_meff_families_x_and_y_with_nan():
    rng = np.random.default_rng(3)
    x_maps, y_maps = rng.normal(size=(5, 50)), rng.normal(size=(3, 50))
    x_maps[1] += x_maps[0]
    cx, cy = np.corrcoef(x_maps), np.corrcoef(y_maps)
    cx[4, :] = cx[:, 4] = np.nan  # e.g. a constant X map, whose p-values are NaN
    p = rng.uniform(size=(3, 5)) ** 2
    p[:, 4] = np.nan
    p[0, 2] = np.nan
    out = correct_p(p, "meff", corr_x=cx)
    for i in range(3):
        keep = ~np.isnan(p[i])
        m_eff = meff(cx[np.ix_(keep, keep)], "galwey")
        np.testing.assert_allclose(out[i, keep], 1 - (1 - p[i, keep]) ** m_eff, rtol=1e-12)
    assert np.isnan(out[:, 4]).all() and np.isnan(out[0, 2])
    out_y = correct_p(p, "meffliji", mc_dimension="y", corr_y=cy)
    m_eff = meff(cy[1:, 1:], "liji")  # column 2 lacks Y map 0
    np.testing.assert_allclose(out_y[1:, 2], 1 - (1 - p[1:, 2]) ** m_eff, rtol=1e-12)


def test_meff_array_is_the_kronecker_family():
    rng = np.random.default_rng(4)
    cx = np.corrcoef(rng.normal(size=(4, 30)) + rng.normal(size=30))
    cy = np.corrcoef(rng.normal(size=(3, 30)) + 0.5 * rng.normal(size=30))
    p = rng.uniform(size=(3, 4)) ** 2
    out = correct_p(p, "meff", mc_dimension="array", corr_x=cx, corr_y=cy)
    m_eff = meff(np.kron(cy, cx), "galwey")
    assert m_eff == pytest.approx(meff(cx) * meff(cy), rel=1e-10)  # Galwey factorises
    np.testing.assert_allclose(out, 1 - (1 - p) ** m_eff, rtol=1e-10)
    # Li & Ji on the same Kronecker family
    np.testing.assert_allclose(
        correct_p(p, "meffliji", mc_dimension="array", corr_x=cx, corr_y=cy),
        1 - (1 - p) ** meff(np.kron(cy, cx), "liji"), rtol=1e-10)
    # scattered NaN: the Kronecker matrix restricted to the tested elements
    p[0, 1] = p[2, 3] = np.nan
    keep = ~np.isnan(p.ravel())
    m_eff = meff(np.kron(cy, cx)[np.ix_(keep, keep)], "galwey")
    out = correct_p(p, "meff", mc_dimension="array", corr_x=cx, corr_y=cy)
    np.testing.assert_allclose(out.ravel()[keep], 1 - (1 - p.ravel()[keep]) ** m_eff,
                               rtol=1e-10)
    # a single Y map needs no corr_y
    np.testing.assert_allclose(correct_p(p[1:2], "meff", mc_dimension="array", corr_x=cx),
                               correct_p(p[1:2], "meff", corr_x=cx))


# --------------------------------------------------------------------------
# Westfall-Young max-T
# --------------------------------------------------------------------------

@pytest.mark.parametrize("tail", ["two", "upper", "lower"])
@pytest.mark.parametrize("step_down", [False, True])
def test_westfall_young_matches_brute_force(tail, step_down):
    rng = np.random.default_rng(5)
    obs = rng.normal(scale=2, size=(3, 6))
    null = rng.normal(size=(60, 3, 6))
    obs[1, 2] = np.nan
    null[rng.random(null.shape) < 0.03] = np.nan
    null[:, 2, 4] = np.round(null[:, 2, 4], 1)  # ties with a rounded observation
    obs[2, 4] = 0.5
    p = westfall_young(obs, null, tail, step_down=step_down)
    for i in range(3):
        expected = brute_force_westfall_young(obs[i], null[:, i], tail, step_down)
        np.testing.assert_array_equal(p[i], expected)


def test_maxt_through_correct_p_and_its_bounds():
    rng = np.random.default_rng(6)
    shared = rng.normal(size=(500, 1, 1))
    null = 0.7 * shared + 0.7 * rng.normal(size=(500, 4, 8))  # correlated tests
    obs = 0.7 * rng.normal(size=(4, 8)) + np.linspace(0, 3, 8)
    raw = null_to_p(obs, null, "two")
    single = correct_p(raw, "maxT", obs=obs, null=null)
    step = correct_p(raw, "step_maxT", obs=obs, null=null)
    assert np.all(step <= single) and np.all(step >= raw)
    assert np.any(step < single)
    np.testing.assert_array_equal(single, westfall_young(obs, null))
    # families: columns for "y", everything for "array"
    np.testing.assert_array_equal(
        correct_p(raw, "step_maxt", mc_dimension="y", obs=obs, null=null),
        westfall_young(obs.T, null.transpose(0, 2, 1), step_down=True).T)
    np.testing.assert_array_equal(
        correct_p(raw, "maxt", mc_dimension="array", obs=obs, null=null),
        westfall_young(obs.ravel(), null.reshape(500, -1)).reshape(4, 8))
    # a NaN p-value leaves its element out of the family
    raw_nan = raw.copy()
    raw_nan[0, 7] = np.nan
    out = correct_p(raw_nan, "maxt", obs=obs, null=null)
    assert np.isnan(out[0, 7])
    np.testing.assert_array_equal(out[0, :7], westfall_young(obs[0, :7], null[:, 0, :7]))


def test_maxt_controls_fwer_with_correlated_tests():
    """Global null, 10 equicorrelated tests (r = 0.6): FWER at 0.05 close to 0.05."""
    rng = np.random.default_rng(7)
    n_sim, n_tests, n_perm = 2000, 10, 199
    common = rng.normal(size=(n_perm + 1, n_sim, 1))
    draws = np.sqrt(0.6) * common + np.sqrt(0.4) * rng.normal(size=(n_perm + 1, n_sim, n_tests))
    obs, null = draws[0], draws[1:]  # obs exchangeable with each null draw
    raw = null_to_p(obs, null, "two")
    for method in ("maxt", "step_maxt"):
        adjusted = correct_p(raw, method, obs=obs, null=null)  # each row is a family
        fwer = np.mean((adjusted <= 0.05).any(axis=1))
        assert 0.03 <= fwer <= 0.07, (method, fwer)
    bonferroni = np.mean((correct_p(raw, "bonf") <= 0.05).any(axis=1))
    assert bonferroni < fwer  # Bonferroni ignores the correlation: conservative
