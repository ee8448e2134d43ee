"""nispace.stats.factor against the factor_analyzer package (0.5.1), the FA backend of
upstream NiSpace, on synthetic maps and on real PET maps.

factor_analyzer is installed with ``pip install --no-deps factor-analyzer==0.5.1`` (see
README); its 0.5.1 release passes ``force_all_finite`` to scikit-learn's ``check_array``,
which newer scikit-learn dropped, so the tests patch that call. Tolerance: 1e-4 absolute
(both fit minres with L-BFGS-B; the optimizers stop at slightly different points).
"""

from __future__ import annotations

import os
from contextlib import nullcontext

import numpy as np
import pytest

from nispace.errors import DataError, InputError
from scipy.optimize import minimize

from nispace.stats.factor import (OBLIQUE_ROTATIONS, ROTATIONS, count_factors,
                                  extract_factors, factor_analysis, factor_scores,
                                  rotate_factors)
from nispace.stats.reduce import reduce_x

TOL = dict(rtol=0, atol=1e-4)


@pytest.fixture
def FactorAnalyzer(monkeypatch):
    """factor_analyzer's estimator, made to run with the installed scikit-learn; skips
    without the package, but fails under CI=true (CI installs it)."""
    try:
        import factor_analyzer.factor_analyzer as module
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip("factor_analyzer is not installed (pip install --no-deps "
                    "factor-analyzer==0.5.1)")
    from sklearn.utils import check_array

    def check_array_compatible(*args, force_all_finite=True, **kwargs):
        return check_array(*args, ensure_all_finite=force_all_finite, **kwargs)

    monkeypatch.setattr(module, "check_array", check_array_compatible)
    return module.FactorAnalyzer


@pytest.fixture
def maps() -> np.ndarray:
    """60 parcels x 8 maps driven by 2 latent spatial patterns plus noise."""
    rng = np.random.default_rng(42)
    latent = rng.standard_normal((60, 2))
    weights = np.array([[0.9, 0.8, 0.7, 0.6, 0.1, 0.0, 0.2, 0.1],
                        [0.0, 0.1, 0.2, 0.1, 0.8, 0.7, 0.9, 0.6]])
    return latent @ weights + 0.5 * rng.standard_normal((60, 8))


def match_columns(ours: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column order and signs that map `ref`'s factors onto `ours` (factors can come out
    in another order when two explain about the same variance)."""
    order, signs = [], []
    for column in ours.T:
        similarity = [abs(column @ r) if j not in order else -1 for j, r in enumerate(ref.T)]
        j = int(np.argmax(similarity))
        order.append(j)
        signs.append(np.sign(column @ ref[:, j]) or 1.0)
    return np.array(order), np.array(signs)


def assert_same_solution(ours, ref, data):
    order, signs = match_columns(ours.loadings, ref.loadings_)
    np.testing.assert_allclose(ours.loadings, ref.loadings_[:, order] * signs, **TOL)
    np.testing.assert_allclose(ours.explained_variance,
                               ref.get_factor_variance()[1][order], **TOL)
    np.testing.assert_allclose(ours.scores, ref.transform(data)[:, order] * signs, **TOL)


@pytest.mark.parametrize("method", ["minres", "principal"])
@pytest.mark.parametrize("rotation", ROTATIONS)
def test_loadings_variance_and_scores_match_factor_analyzer(maps, FactorAnalyzer, method,
                                                             rotation):
    for n_factors in (1, 2, 3):
        ours = factor_analysis(maps, n_factors, method=method, rotation=rotation)
        ref = FactorAnalyzer(n_factors=n_factors, method=method, rotation=rotation)
        with pytest.warns(UserWarning) if n_factors == 1 and rotation else nullcontext():
            ref.fit(maps)  # factor_analyzer warns that one factor is not rotated
        assert_same_solution(ours, ref, maps)
        assert ours.converged
        assert (ours.phi is not None) == (rotation in OBLIQUE_ROTATIONS and n_factors > 1)


def test_minres_uniquenesses_match_factor_analyzer(maps, FactorAnalyzer):
    ours = factor_analysis(maps, 2, rotation="promax")
    ref = FactorAnalyzer(n_factors=2, rotation=None).fit(maps)
    np.testing.assert_allclose(ours.uniquenesses, ref.get_uniquenesses(), **TOL)
    # two latent patterns: the noise share of every map is the uniqueness
    assert np.all((ours.uniquenesses > 0.05) & (ours.uniquenesses < 0.9))


def test_promax_finds_the_two_latent_patterns(maps):
    fa = factor_analysis(maps, 2)  # minres + promax, NiSpace's defaults
    dominant = np.argmax(np.abs(fa.loadings), axis=1)
    assert len(set(dominant[:4])) == 1 and len(set(dominant[4:])) == 1
    assert dominant[0] != dominant[4]
    assert fa.phi.shape == (2, 2) and np.allclose(np.diag(fa.phi), 1)
    assert np.all(fa.loadings.sum(axis=0) > 0)  # column signs are fixed
    assert fa.explained_variance[0] >= fa.explained_variance[1]


def test_real_pet_maps_match_factor_analyzer(data_url, FactorAnalyzer):
    from nispace.datasets import fetch_reference

    pet = fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                          print_references=False, verbose=False)
    values = pet.to_numpy()[:8]
    data = values[:, ~np.isnan(values).any(axis=0)].T  # parcels x maps
    ours = factor_analysis(data, 3)
    ref = FactorAnalyzer(n_factors=3, method="minres", rotation="promax").fit(data)
    assert_same_solution(ours, ref, data)
    # reduce_x uses this implementation: maps are the factor scores per parcel
    reduced = reduce_x(values, "fa", n_components=3)
    np.testing.assert_allclose(reduced.loadings, ours.loadings, **TOL)
    valid = ~np.isnan(values).any(axis=0)
    np.testing.assert_allclose(reduced.maps[:, valid], ours.scores.T, **TOL)
    assert np.isnan(reduced.maps[:, ~valid]).all()


def test_building_blocks_compose_to_factor_analysis(maps):
    corr = np.corrcoef(maps, rowvar=False)
    unrotated, converged = extract_factors(corr, 2, "minres")
    rotated, phi = rotate_factors(unrotated, "varimax")
    assert converged and phi is None
    # an orthogonal rotation keeps the communalities
    np.testing.assert_allclose((rotated ** 2).sum(1), (unrotated ** 2).sum(1), atol=1e-12)
    fa = factor_analysis(maps, 2, rotation="varimax")
    order, signs = match_columns(fa.loadings, rotated)
    np.testing.assert_allclose(fa.loadings, rotated[:, order] * signs, atol=1e-12)
    np.testing.assert_allclose(fa.scores, factor_scores(maps, fa.loadings), atol=1e-12)


def test_inputs_are_not_modified(maps):
    copy = maps.copy()
    loadings = np.ones((8, 2)) * 0.5 + np.eye(8, 2)
    loadings_copy = loadings.copy()
    factor_analysis(maps, 2)
    rotate_factors(loadings, "promax")
    np.testing.assert_array_equal(maps, copy)
    np.testing.assert_array_equal(loadings, loadings_copy)


def test_errors_name_the_argument(maps):
    with pytest.raises(InputError, match=r"n_factors: expected an integer between 1 and 8; "
                                         r"got 9"):
        factor_analysis(maps, 9)
    with pytest.raises(InputError, match=r"method: expected one of \['minres', "):
        factor_analysis(maps, 2, method="ml")
    with pytest.raises(InputError, match="rotation: expected one of .*got 'spin'"):
        factor_analysis(maps, 2, rotation="spin")
    with pytest.raises(DataError, match="data: expected no NaN"):
        factor_analysis(np.where(np.eye(60, 8) == 1, np.nan, maps), 2)
    constant = maps.copy()
    constant[:, 3] = 1.0
    with pytest.raises(DataError, match=r"columns \[3\] are constant"):
        factor_analysis(constant, 2)


def test_an_optimizer_that_does_not_converge_is_logged(maps, monkeypatch, caplog):
    import nispace.stats.factor as factor

    def stopped_early(*args, **kwargs):
        result = minimize(*args, **kwargs)
        result.success = False
        return result

    monkeypatch.setattr(factor, "minimize", stopped_early)
    with caplog.at_level("WARNING", logger="nispace"):
        fa = factor_analysis(maps, 2)
    assert not fa.converged
    assert "did not converge" in caplog.text


def test_rotating_factors_without_loadings_raises_with_the_call_to_make(maps):
    # three maps copied twice: minres with 6 factors leaves factors without loadings
    data = np.hstack([maps[:, :3], maps[:, :3] + 1e-3 * maps[:, 3:6]])
    n_real = count_factors(factor_analysis(data, 6, rotation=None).loadings)
    assert n_real < 6
    with pytest.raises(DataError, match=rf"only {n_real} factor\(s\).*at most {n_real}"):
        factor_analysis(data, 6, rotation="promax")
