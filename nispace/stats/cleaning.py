"""Covariate cleaning of Y: between- and within-subject regression, ComBat.

The core functions are pure functions on NumPy arrays (no pandas, no I/O, no
logging). :func:`one_hot` is the boundary helper that turns a table of mixed
covariates (e.g. a pandas DataFrame) into the float design matrix the core
functions take; :func:`combat` builds the small table neuroHarmonize needs
internally.

- :func:`regress_between`: for every parcel, an ordinary-least-squares fit
  across subjects of Y on ``[1, covariates, protect]``; only the covariate
  part is removed, so the intercept and the effects of protected variables
  (e.g. the group contrast) stay in the data. This is the partial-residual
  approach of NiSpace's ``clean_y(covariates_between=..., protect=...)``.
- :func:`regress_within`: for every map, an OLS fit across parcels on one or
  more covariate maps plus an intercept; the plain residuals are returned
  (NiSpace's ``clean_y(covariates_within=...)``), so each cleaned map has
  mean zero over its valid parcels.
- :func:`combat`: ComBat site harmonization [1]_ through neuroHarmonize [2]_.

References
----------
.. [1] Johnson, W. E., Li, C., & Rabinovic, A. (2007). Adjusting batch
   effects in microarray expression data using empirical Bayes methods.
   Biostatistics, 8(1), 118-127. https://doi.org/10.1093/biostatistics/kxj037
.. [2] Pomponio, R., et al. (2020). Harmonization of large MRI datasets for
   the analysis of brain imaging patterns throughout the lifespan.
   NeuroImage, 208, 116450. https://doi.org/10.1016/j.neuroimage.2019.116450
.. [3] Fortin, J.-P., et al. (2018). Harmonization of cortical thickness
   measurements across scanners and sites. NeuroImage, 167, 104-120.
   https://doi.org/10.1016/j.neuroimage.2017.11.024
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import DataError, InputError, InputTypeError

__all__ = ["regress_between", "regress_within", "one_hot", "combat"]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _as_float(x: ArrayLike, name: str, ndim: tuple[int, ...], shape_doc: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputTypeError(f"{name}: expected a numeric array of shape {shape_doc}; got "
                             f"{type(x).__name__} that cannot be converted to float (encode "
                             f"categorical columns with one_hot first).") from None
    if arr.ndim not in ndim:
        raise InputError(f"{name}: expected an array of shape {shape_doc}; "
                         f"got shape {arr.shape}.")
    return arr


def _design_columns(x: ArrayLike | None, name: str, n: int) -> np.ndarray:
    """(n, k) float design block without NaN; None -> (n, 0)."""
    if x is None:
        return np.zeros((n, 0))
    arr = _as_float(x, name, (1, 2), "(n_subjects, k)")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[0] != n:
        raise InputError(f"{name}: expected {n} rows (one per subject, as Y); "
                         f"got {arr.shape[0]}.")
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if bad.size:
        raise DataError(f"{name}: contains NaN/inf in row(s) {bad[:10].tolist()}"
                        f"{' ...' if bad.size > 10 else ''}; drop or impute those subjects "
                        f"first.")
    return arr


def _patterns(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique columns of a boolean (n, p) mask and the column -> pattern index."""
    uniq, inverse = np.unique(mask.T, axis=0, return_inverse=True)
    return uniq, inverse.ravel()


def _full_rank(D: np.ndarray) -> bool:
    """More rows than columns and full column rank (so residual dof > 0)."""
    return D.shape[0] > D.shape[1] and np.linalg.matrix_rank(D) == D.shape[1]


# --------------------------------------------------------------------------
# between-subject regression
# --------------------------------------------------------------------------

def regress_between(Y: ArrayLike, covariates: ArrayLike,
                    protect: ArrayLike | None = None) -> np.ndarray:
    r"""Remove covariate effects across subjects, per parcel.

    For each parcel ``j`` the model

    .. math:: y_j = \beta_0 + C\,\beta_C + P\,\beta_P + \varepsilon

    is fitted by ordinary least squares and the covariate part is removed:

    .. math:: \tilde y_j = y_j - C\,\hat\beta_C
                        = \hat\beta_0 + P\,\hat\beta_P + \hat\varepsilon .

    Because the protected variables ``P`` are in the model, the covariate
    effects are estimated while controlling for them (e.g. the group
    contrast is not regressed out even when age differs between groups).

    All parcels without missing values are fitted in one least-squares solve
    (``numpy.linalg.lstsq`` with an ``(n_subjects, n_parcels)`` right-hand
    side); parcels with NaN are fitted on their valid subjects, one solve per
    distinct missingness pattern, and keep NaN where Y was NaN.

    Parameters
    ----------
    Y : array-like of shape (n_subjects, n_parcels)
        Subject data.
    covariates : array-like of shape (n_subjects, k) or (n_subjects,)
        Nuisance covariates to remove, already numeric (one-hot encode
        categorical ones with :func:`one_hot`). No NaN allowed.
    protect : array-like of shape (n_subjects, m) or (n_subjects,), optional
        Variables whose effects are kept (e.g. one-hot group membership).

    Returns
    -------
    numpy.ndarray of shape (n_subjects, n_parcels)
        Cleaned data. A parcel whose valid subjects are too few to estimate
        the model (rank-deficient design) is NaN.

    Raises
    ------
    ValueError
        For mismatched shapes, NaN in `covariates`/`protect`, or a design
        ``[1, covariates, protect]`` that is not of full column rank (a
        constant or collinear column).
    """
    Y = _as_float(Y, "Y", (2,), "(n_subjects, n_parcels)")
    n = Y.shape[0]
    C = _design_columns(covariates, "covariates", n)
    P = _design_columns(protect, "protect", n)
    if C.shape[1] == 0:
        raise InputError("covariates: expected at least one covariate column; got 0.")
    D = np.column_stack([np.ones(n), C, P])
    if not _full_rank(D):
        raise DataError(
            f"covariates/protect: the design [intercept, {C.shape[1]} covariate(s), "
            f"{P.shape[1]} protected] must have full column rank with more subjects than "
            f"columns; got {n} subjects and rank {np.linalg.matrix_rank(D)} of {D.shape[1]} "
            f"(a constant column, a duplicated column or a level coded twice?).")
    k = C.shape[1]
    out = np.full(Y.shape, np.nan)
    nan = np.isnan(Y)
    uniq, inverse = _patterns(nan)
    for p_idx, pattern in enumerate(uniq):
        cols = np.flatnonzero(inverse == p_idx)
        rows = np.flatnonzero(~pattern)
        Dp = D[rows]
        if rows.size == 0 or (rows.size < n and not _full_rank(Dp)):
            continue  # stays NaN: too few valid subjects for this parcel
        Ysub = Y[np.ix_(rows, cols)]
        beta = np.linalg.lstsq(Dp, Ysub, rcond=None)[0]
        out[np.ix_(rows, cols)] = Ysub - C[rows] @ beta[1:1 + k]
    return out


# --------------------------------------------------------------------------
# within-subject (across-parcel) regression
# --------------------------------------------------------------------------

def _within_one_design(Y: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Residuals of each row of Y (maps) on the rows of Z (covariate maps) + 1."""
    n_maps, n_parcels = Y.shape
    D = np.column_stack([np.ones(n_parcels), Z.T])
    out = np.full(Y.shape, np.nan)
    invalid = np.isnan(Y) | np.isnan(D).any(axis=1)[None, :]
    uniq, inverse = _patterns(invalid.T)  # patterns over parcels, one per map
    for p_idx, pattern in enumerate(uniq):
        maps = np.flatnonzero(inverse == p_idx)
        parcels = np.flatnonzero(~pattern)
        Dp = D[parcels]
        if parcels.size == 0 or not _full_rank(Dp):
            continue
        Ysub = Y[np.ix_(maps, parcels)].T  # (n_valid_parcels, n_maps_in_pattern)
        beta = np.linalg.lstsq(Dp, Ysub, rcond=None)[0]
        out[np.ix_(maps, parcels)] = (Ysub - Dp @ beta).T
    return out


def regress_within(Y: ArrayLike, covariate_maps: ArrayLike) -> np.ndarray:
    r"""Regress covariate maps out of each map, across parcels.

    For each map ``y`` (a row of `Y`) the model
    :math:`y = \beta_0 + Z^\top \beta + \varepsilon` is fitted across parcels
    by ordinary least squares and the residuals :math:`\hat\varepsilon` are
    returned, as NiSpace does (the intercept is removed too, so every
    cleaned map has mean zero over its valid parcels).

    Maps sharing the same valid parcels are fitted in one solve. Parcels
    that are NaN in the map or in any covariate map are left out of the fit
    and are NaN in the result.

    Parameters
    ----------
    Y : array-like of shape (n_maps, n_parcels)
        Maps to clean (subjects or group-level maps in rows).
    covariate_maps : array-like of shape (k, n_parcels), (n_parcels,) or (n_maps, k, n_parcels)
        Covariate maps (e.g. a grey-matter map, or the ``Z`` data). A 2-D
        array is used for every map; a 3-D array gives each map its own
        ``k`` covariate maps (NiSpace's ``within_y_specific``).

    Returns
    -------
    numpy.ndarray of shape (n_maps, n_parcels)
        Residual maps; NaN where the input or a covariate is NaN, and for a
        map with too few valid parcels to fit the model.

    Raises
    ------
    ValueError
        For mismatched shapes.
    """
    Y = _as_float(Y, "Y", (2,), "(n_maps, n_parcels)")
    Z = _as_float(covariate_maps, "covariate_maps", (1, 2, 3),
                  "(k, n_parcels) or (n_maps, k, n_parcels)")
    if Z.ndim == 1:
        Z = Z[None, :]
    if Z.shape[-1] != Y.shape[1]:
        raise InputError(f"covariate_maps: expected {Y.shape[1]} parcels (columns, as Y); "
                         f"got {Z.shape[-1]}.")
    if Z.ndim == 2:
        return _within_one_design(Y, Z)
    if Z.shape[0] != Y.shape[0]:
        raise InputError(f"covariate_maps: a 3-D array needs one (k, n_parcels) block per "
                         f"map of Y ({Y.shape[0]}); got {Z.shape[0]}.")
    return np.vstack([_within_one_design(Y[i:i + 1], Z[i]) for i in range(Y.shape[0])])


# --------------------------------------------------------------------------
# categorical encoding (boundary helper)
# --------------------------------------------------------------------------

def _is_categorical_column(col: Any) -> bool:
    dtype = getattr(col, "dtype", None)
    if dtype is not None and (getattr(dtype, "name", "") == "category"
                              or dtype.kind in "OSU"
                              or "string" in str(dtype) or "str" == str(dtype)):
        return True
    return np.asarray(col).dtype.kind in "OSU"


def _column_levels(col: Any, values: list) -> list:
    present = list(dict.fromkeys(values))
    categories = None
    if hasattr(col, "cat"):
        categories = list(col.cat.categories)
    elif hasattr(col, "categories"):
        categories = list(col.categories)
    if categories is not None:
        return [c for c in categories if c in present]
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=str)


def one_hot(covariates: Mapping[str, ArrayLike] | Any,
            categorical: Sequence[str] | None = None,
            drop_first: bool = True) -> tuple[np.ndarray, list[str]]:
    """Encode a table of covariates as a float design matrix.

    Categorical columns become indicator (dummy) columns named
    ``"{column}_{level}"``; with ``drop_first=True`` the first level (sorted,
    or in category order for a pandas Categorical) is the reference and gets
    no column, as in ``pandas.get_dummies(drop_first=True)`` and NiSpace
    (e.g. groups ``["AN", "HC"]`` give the single column ``"groups_HC"``).
    Numeric columns are passed through unchanged, in their input order.

    This is a boundary helper: it accepts a pandas DataFrame (or any mapping
    of column name to 1-D values) and returns plain arrays for
    :func:`regress_between` and :func:`combat`.

    Parameters
    ----------
    covariates : pandas.DataFrame or mapping of str to array-like
        One row per subject.
    categorical : sequence of str, optional
        Columns to encode even though they are numeric (e.g. a ``site``
        column coded 1, 2, 3). Columns of object, string or categorical
        dtype are always encoded; boolean columns pass through as 0/1.
    drop_first : bool, default True
        Drop the first level of each categorical column (avoids collinearity
        with the intercept).

    Returns
    -------
    design : numpy.ndarray of shape (n_subjects, n_columns)
    names : list of str, length n_columns

    Raises
    ------
    ValueError
        For unknown column names in `categorical`, columns of different
        lengths, or missing values in a categorical column.
    """
    if hasattr(covariates, "columns") and hasattr(covariates, "__getitem__"):
        names_in = [str(c) for c in covariates.columns]
        columns = {str(c): covariates[c] for c in covariates.columns}
    elif isinstance(covariates, Mapping):
        names_in = [str(c) for c in covariates]
        columns = {str(c): v for c, v in covariates.items()}
    else:
        raise InputTypeError(f"covariates: expected a pandas DataFrame or a mapping of column "
                             f"name to values; got {type(covariates).__name__}.")
    categorical = [str(c) for c in (categorical or [])]
    unknown = [c for c in categorical if c not in columns]
    if unknown:
        raise InputError(f"categorical: column(s) {unknown} not found; available: {names_in}.")
    lengths = {c: len(np.asarray(v, dtype=object).ravel()) for c, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise InputError(f"covariates: all columns must have one value per subject; "
                         f"got lengths {lengths}.")
    n = next(iter(lengths.values()), 0)

    blocks: list[np.ndarray] = []
    names: list[str] = []
    for name in names_in:
        col = columns[name]
        if name in categorical or _is_categorical_column(col):
            values = np.asarray(col, dtype=object).ravel().tolist()
            missing = [i for i, v in enumerate(values)
                       if v is None or type(v).__name__ in ("NAType", "NaTType")
                       or (isinstance(v, float) and np.isnan(v))]
            if missing:
                raise InputError(f"covariates: categorical column {name!r} has missing "
                                 f"values at row(s) {missing[:10]}.")
            levels = _column_levels(col, values)
            for level in levels[1:] if drop_first else levels:
                blocks.append(np.array([v == level for v in values], dtype=np.float64))
                names.append(f"{name}_{level}")
        else:
            blocks.append(_as_float(col, f"covariates[{name!r}]", (1,), "(n_subjects,)"))
            names.append(name)
    design = np.column_stack(blocks) if blocks else np.zeros((n, 0))
    return design, names


# --------------------------------------------------------------------------
# ComBat
# --------------------------------------------------------------------------

def combat(Y: ArrayLike, site: ArrayLike, covariates: ArrayLike | None = None,
           **kwargs: Any) -> np.ndarray:
    """ComBat harmonization of site effects [1]_, via neuroHarmonize [2]_.

    Calls ``neuroHarmonize.harmonizationLearn`` (Pomponio et al., 2020; the
    neuroimaging ComBat of Fortin et al., 2018 [3]_) with a ``SITE`` column
    and the covariates, whose effects are preserved. neuroHarmonize is an
    optional dependency, imported only here.

    Parameters
    ----------
    Y : array-like of shape (n_subjects, n_parcels)
        Subject data. Parcels that are NaN for every subject are left out
        and returned as NaN; any other NaN is an error (ComBat needs complete
        data).
    site : array-like of shape (n_subjects,)
        Site (scanner, batch) label per subject; at least two sites with at
        least two subjects each.
    covariates : array-like of shape (n_subjects, k) or (n_subjects,), optional
        Numeric covariates whose effects ComBat protects (e.g. age, one-hot
        sex and group, see :func:`one_hot`).
    **kwargs
        Passed to ``harmonizationLearn`` (e.g. ``eb=False``,
        ``smooth_terms``, ``ref_batch``).

    Returns
    -------
    numpy.ndarray of shape (n_subjects, n_parcels)
        Harmonized data.

    Raises
    ------
    ImportError
        If neuroHarmonize is not installed (``pip install --no-deps
        neuroHarmonize==2.5.2 neuroCombat==0.2.12``: neuroHarmonize declares
        ``numpy<2`` and ``pandas<3`` although it runs with current versions, so a
        plain install would downgrade them).
    ValueError
        For mismatched shapes, NaN in the data, or too few sites/subjects.
    """
    Y = _as_float(Y, "Y", (2,), "(n_subjects, n_parcels)")
    n = Y.shape[0]
    site_vals = np.asarray(site, dtype=object).ravel()
    if site_vals.size != n:
        raise InputError(f"site: expected one label per row of Y ({n}); got {site_vals.size}.")
    missing = [i for i, v in enumerate(site_vals.tolist())
               if v is None or (isinstance(v, float) and np.isnan(v))]
    if missing:
        raise InputError(f"site: contains missing labels at row(s) {missing[:10]}.")
    labels = [str(v) for v in site_vals.tolist()]
    levels, counts = np.unique(labels, return_counts=True)
    if levels.size < 2:
        raise InputError(f"site: ComBat needs at least two sites; got {levels.tolist()}.")
    small = levels[counts < 2].tolist()
    if small:
        raise InputError(f"site: ComBat needs at least two subjects per site; site(s) "
                         f"{small} have one.")
    C = _design_columns(covariates, "covariates", n)

    all_nan = np.isnan(Y).all(axis=0)
    keep = ~all_nan
    partial = np.isnan(Y[:, keep]).any(axis=0)
    if partial.any():
        bad = np.flatnonzero(keep)[partial]
        raise DataError(f"Y: ComBat needs complete data; parcel(s) {bad[:10].tolist()}"
                        f"{' ...' if bad.size > 10 else ''} have NaN for some subjects. "
                        f"Drop or impute them first.")

    try:
        from neuroHarmonize import harmonizationLearn
    except ImportError as err:
        raise ImportError('combat needs the optional dependency neuroHarmonize: '
                          'pip install --no-deps neuroHarmonize==2.5.2 neuroCombat==0.2.12 '
                          '(--no-deps: its declared numpy<2/pandas<3 pins would downgrade '
                          'numpy and pandas; it runs with current versions)') from err
    import pandas as pd  # neuroHarmonize's interface takes a DataFrame

    covars = pd.DataFrame({"SITE": labels})
    for i in range(C.shape[1]):
        covars[f"covariate_{i}"] = C[:, i]
    with warnings.catch_warnings():
        # neuroHarmonize uses numpy.matrix internally; not actionable for our users
        warnings.filterwarnings("ignore", "the matrix subclass", PendingDeprecationWarning)
        _, adjusted = harmonizationLearn(Y[:, keep], covars, **kwargs)
    out = np.full(Y.shape, np.nan)
    out[:, keep] = np.asarray(adjusted, dtype=np.float64)
    return out
