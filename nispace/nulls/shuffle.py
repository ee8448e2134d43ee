"""Random permutation nulls and the input checks shared by the distance-based families.

Every null family in this package follows the same two-step protocol, so that a
permutation engine can prepare once and then draw chunks of permutations with
child seeds (see :mod:`nispace._random`):

1. ``sampler = Sampler(dist_mat, **options)`` does the map-independent work once
   (weights, eigenvectors, neighbourhoods, ...);
2. ``sampler.fit(data)`` does the map-dependent work once (model fit, target
   statistics) and returns the sampler;
3. ``sampler.draw(n, seed)`` returns ``(n, n_parcels)`` surrogates and depends only
   on the fitted state, ``n`` and ``seed``.

Samplers work on complete data (no NaN). The public functions (:func:`random`,
:func:`nispace.nulls.moran.moran`, ...) run a sampler on the valid parcels only
through :func:`apply_on_valid`, which puts NaN back at the input's NaN parcels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import _validate
from .._random import as_generator
from ..errors import DataError, InputError, InputTypeError, StateError

__all__ = ["RandomSampler", "random", "apply_on_valid"]


# --------------------------------------------------------------------------------------
# documentation shared by all null functions
# --------------------------------------------------------------------------------------

_DOCS = {
    "data": """data : (n_parcels,) array_like
        Map; NaN parcels are left out and stay NaN in every null.""",
    "dist_mat": """dist_mat : (n_parcels, n_parcels) array_like
        Distances in mm; ``inf`` means "not connected" (e.g. between the
        hemispheres of a surface parcellation).""",
    "n_perm": """n_perm : int
        Number of null maps.""",
    "seed": """seed : None, int, SeedSequence or Generator
        Random seed (see :func:`nispace._random.as_generator`); the same seed gives
        the same nulls.""",
}
_DOCS["null_params"] = "\n    ".join(_DOCS[k] for k in ("data", "dist_mat", "n_perm", "seed"))


def fill_doc(fn):
    """Fill ``%(name)s`` placeholders in ``fn.__doc__`` with the shared parameter docs."""
    fn.__doc__ = fn.__doc__ % _DOCS
    return fn


# --------------------------------------------------------------------------------------
# input checks shared by all null families
# --------------------------------------------------------------------------------------

def check_data(data, name: str = "data") -> np.ndarray:
    """``data`` as a 1-D float array; NaN allowed (missing parcels), inf not."""
    arr = np.asarray(data, dtype=float)
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D array (n_parcels,); got shape {arr.shape}.")
    if np.isinf(arr).any():
        raise DataError(f"{name}: expected finite values or NaN; got "
                        f"{int(np.isinf(arr).sum())} infinite value(s).")
    return arr


def check_dist_mat(dist_mat, n_parcels: int, name: str = "dist_mat") -> np.ndarray:
    """``dist_mat`` as a square, symmetric, non-negative float array matching the data
    (:func:`nispace._validate.check_dist_mat`; ``inf`` allowed, NaN not)."""
    return _validate.check_dist_mat(dist_mat, n_parcels, name=name)


def check_n_perm(n_perm, name: str = "n_perm") -> int:
    """``n_perm`` as a positive int, at most :data:`nispace._validate.MAX_N_PERM`
    (:func:`nispace._validate.check_n_perm`; the null functions raise its message as
    an InputError, a ValueError, for every bad value, non-numbers included)."""
    try:
        return _validate.check_n_perm(n_perm, name=name)
    except InputTypeError as err:
        raise InputError(str(err)) from None


def check_map_values(data: np.ndarray, min_parcels: int = 3) -> None:
    """A complete map fed to a spatial sampler: enough parcels and not constant."""
    n = data.shape[0]
    if n < min_parcels:
        raise DataError(f"data: expected at least {min_parcels} non-NaN parcels; got {n}.")
    if np.ptp(data) == 0:
        raise DataError("data: expected a non-constant map; all non-NaN values are "
                        f"{data[0]!r}.")


def check_connected(dist_mat: np.ndarray) -> None:
    """Every parcel needs a finite distance to at least one other parcel.

    An isolated parcel (e.g. a medial-wall parcel with ``inf`` everywhere) could
    not get a neighbour; set its value to NaN to drop it.
    """
    finite = np.isfinite(dist_mat)
    np.fill_diagonal(finite, False)
    isolated = np.flatnonzero(~finite.any(axis=1))
    if isolated.size:
        raise DataError(f"dist_mat: every non-NaN parcel needs a finite distance to another "
                        f"non-NaN parcel; parcel(s) {isolated[:10].tolist()} (positions among "
                        f"the non-NaN parcels) have none. Set their data to NaN to drop them.")


def check_sampler_dist(dist_mat) -> np.ndarray:
    """Checked distance matrix for a sampler (size taken from the matrix; no isolated parcel)."""
    dist = np.asarray(dist_mat, dtype=float)
    dist = check_dist_mat(dist, dist.shape[0] if dist.ndim == 2 else -1)
    check_connected(dist)
    return dist


def check_complete(data, n_parcels: int) -> np.ndarray:
    """``data`` for a fitted sampler: ``n_parcels`` values, no NaN, not constant."""
    x = check_data(data)
    if x.shape[0] != n_parcels or np.isnan(x).any():
        raise InputError(f"data: expected {n_parcels} values without NaN (the parcels of "
                         f"dist_mat); got shape {x.shape} with {int(np.isnan(x).sum())} NaN. "
                         f"The public null functions drop NaN parcels for you.")
    check_map_values(x)
    return x


def start_draw(sampler, n, seed, fitted: str):
    """Checked ``n`` and a Generator for ``sampler.draw``; raises if not fitted."""
    n = check_n_perm(n, "n")
    if not hasattr(sampler, fitted):
        raise StateError(f"{type(sampler).__name__}: call .fit(data) before .draw(n, seed).")
    return n, as_generator(seed)


def apply_on_valid(data, dist_mat, n_perm: int,
                   fn: Callable[[np.ndarray, np.ndarray | None], np.ndarray]) -> np.ndarray:
    """Run a null generator on the non-NaN parcels and put NaN back.

    Parameters
    ----------
    data : (n_parcels,) array_like
        Map; NaN marks missing parcels.
    dist_mat : (n_parcels, n_parcels) array_like or None
        Distance matrix, reduced to the non-NaN parcels before calling ``fn``.
    n_perm : int
        Number of nulls ``fn`` returns.
    fn : callable
        ``fn(x, d) -> (n_perm, n_valid)`` with ``x`` the non-NaN values and ``d``
        the matching sub-matrix of ``dist_mat`` (None if ``dist_mat`` is None).

    Returns
    -------
    nulls : (n_perm, n_parcels) np.ndarray
        NaN at the NaN parcels of ``data`` in every null.
    """
    n_perm = check_n_perm(n_perm)
    x = check_data(data)
    valid = ~np.isnan(x)
    d = None
    if dist_mat is not None:
        d = check_dist_mat(dist_mat, x.shape[0])[np.ix_(valid, valid)]
    out = np.full((n_perm, x.shape[0]), np.nan)
    out[:, valid] = fn(x[valid], d)
    return out


# --------------------------------------------------------------------------------------
# random permutation
# --------------------------------------------------------------------------------------

class RandomSampler:
    """Plain random permutations of a map (no spatial autocorrelation preserved).

    The naive baseline: shuffling parcels destroys spatial autocorrelation, so
    correlations between autocorrelated maps are compared against a null that is
    too narrow and p-values are too small (Alexander-Bloch et al. 2018;
    Markello & Misic 2021).

    Attributes
    ----------
    data_ : (n_parcels,) np.ndarray
        The fitted map.

    References
    ----------
    Alexander-Bloch, A. F., et al. (2018). On testing for spatial correspondence
    between maps of human brain structure and function. NeuroImage, 178, 540-551.
    https://doi.org/10.1016/j.neuroimage.2018.05.070
    Markello, R. D., & Misic, B. (2021). Comparing spatial null models for brain
    maps. NeuroImage, 236, 118052. https://doi.org/10.1016/j.neuroimage.2021.118052
    """

    def fit(self, data) -> RandomSampler:
        """Store the (complete, NaN-free) map ``data`` of shape (n_parcels,)."""
        x = check_data(data)
        if np.isnan(x).any():
            raise InputError("data: expected no NaN; use nispace.nulls.shuffle.random for maps "
                             "with NaN parcels.")
        self.data_ = x
        return self

    def draw(self, n: int, seed=None) -> np.ndarray:
        """``n`` random permutations of the map, shape (n, n_parcels)."""
        n, rng = start_draw(self, n, seed, "data_")
        return rng.permuted(np.tile(self.data_, (n, 1)), axis=1)


@fill_doc
def random(data, n_perm: int = 1000, seed=None) -> np.ndarray:
    """Null maps by random permutation of the non-NaN parcels.

    Parameters
    ----------
    %(data)s
    %(n_perm)s
    %(seed)s

    Returns
    -------
    nulls : (n_perm, n_parcels) np.ndarray
        Each row is a permutation of the non-NaN values of ``data``.

    Notes
    -----
    Spatial autocorrelation is not preserved; included as the naive baseline
    whose false-positive inflation spatial null models correct (see
    :class:`RandomSampler`).
    """
    return apply_on_valid(data, None, n_perm,
                          lambda x, _: RandomSampler().fit(x).draw(n_perm, seed))
