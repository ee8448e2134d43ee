"""Workflows: the whole NiSpace pipeline in one call, returning the fitted object.

================================  ==============================  ===========================
function                          question                        null model
================================  ==============================  ===========================
:func:`colocalization`            do these maps colocalize with   spatial null maps
                                  the reference maps?
:func:`group_colocalization`      do group differences            group-label permutation
                                  colocalize with them?
:func:`xsea`                      ... with *sets* of reference    spatial null maps
                                  maps?
:func:`group_xsea`                group differences and sets      group-label permutation
:func:`paired_colocalization`     is each map closest to its own  re-pairing (SPICE)
                                  partner map?
================================  ==============================  ===========================

Each workflow runs ``fit`` → (``clean_y``) → (``transform_y``) → ``colocalize`` →
``permute`` → ``correct_p`` on a :class:`~nispace.api.NiSpace` object, and returns
it (``return_nispace_only=True``, the default) or, as NiSpace's earlier versions
did, ``(colocalizations, p_values, corrected_p_values, nsp)``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ._alignment import align_to_index
from ._docs import DOCDICT, fill_doc
from ._logging import verbose_context
from .api import NiSpace
from .results.objects import pick_all
from .errors import DataError, InputError, InputTypeError, StateError

__all__ = ["colocalization", "group_colocalization", "xsea", "group_xsea",
           "paired_colocalization"]

logger = logging.getLogger("nispace.workflows")

DOCDICT["workflow_nispace"] = """\
data_space : str or list of str, optional
    NiSpace's name for ``space``; giving both with different values raises.
parcellation_space, parcellation_labels, parcellation_hemi : optional
    Passed to :class:`~nispace.api.NiSpace`, as in NiSpace (``["L", "R"]`` = both
    hemispheres).
fit_kwargs : dict, optional
    Passed to :meth:`~nispace.api.NiSpace.fit` (e.g. ``background_value``).
fetch_x_kwargs : dict, optional
    NiSpace's options for fetching ``x``: ``{"collection": ...}`` (=
    ``x_collection``); other keys raise (fetch the table with
    :func:`nispace.datasets.fetch_reference` and pass it as ``x``).
normalize_colocalizations : bool
    After each permutation, z-score the colocalizations against their null
    (:meth:`~nispace.api.NiSpace.normalize_colocalizations`, read with
    ``get_colocalizations(normalized=True)``); a failure is a WARNING. Default False
    (NiSpace: True).
**kwargs
    NiSpace's deprecated ``p_from_average_y`` (= ``pooled_p``, with a WARNING); any
    other name raises."""


def _init_kwargs(init_kwargs, x_collection, space, data_space, fetch_x_kwargs,
                 **nispace_params) -> tuple[dict, str | None, Any]:
    """NiSpace's workflow parameters folded into ``init_kwargs``; returns
    ``(init_kwargs, x_collection, space)``."""
    if data_space is not None:
        if space is not None and space != data_space:
            raise InputError(f"data_space: NiSpace's name for space; got both "
                             f"data_space={data_space!r} and space={space!r}; give one.")
        space = data_space
    fetch_x_kwargs = dict(fetch_x_kwargs or {})
    if "collection" in fetch_x_kwargs:
        collection = fetch_x_kwargs.pop("collection")
        if x_collection is not None and x_collection != collection:
            raise InputError(f"fetch_x_kwargs['collection']: {collection!r} differs from "
                             f"x_collection={x_collection!r}; give one.")
        x_collection = collection
    if fetch_x_kwargs:
        raise InputError(f"fetch_x_kwargs: only 'collection' is accepted; got "
                         f"{sorted(fetch_x_kwargs)}. Fetch the table with "
                         f"nispace.datasets.fetch_reference(...) and pass it as x=.")
    kwargs = {k: v for k, v in nispace_params.items() if v is not None and v is not False}
    clash = sorted(set(kwargs) & set(init_kwargs or {}))
    if clash:
        raise InputError(f"{clash[0]}: given both as a workflow argument and in "
                         f"init_kwargs; give one.")
    return {**(init_kwargs or {}), **kwargs}, x_collection, space


def _deprecated(kwargs: dict, call: str, pooled_p):
    """NiSpace's deprecated ``p_from_average_y`` (returns ``pooled_p``); any other
    leftover keyword raises."""
    if "p_from_average_y" in kwargs:
        given = kwargs.pop("p_from_average_y")
        if pooled_p is not False and given != pooled_p:
            raise InputError(f"p_from_average_y: NiSpace's deprecated name for pooled_p; "
                             f"got both p_from_average_y={given!r} and "
                             f"pooled_p={pooled_p!r}; give pooled_p only.")
        logger.warning("%s: p_from_average_y is deprecated (as in NiSpace); use "
                       "pooled_p=%r.", call, given)
        pooled_p = given
    if kwargs:
        raise InputTypeError(f"{call}: unexpected keyword argument(s) {sorted(kwargs)}; see "
                             f"help(nispace.workflows.{call}) and the 'Differences from "
                             f"NiSpace' page.")
    return pooled_p



def _nispace(y, x, z, x_collection, standardize, parcellation, n_proc, seed, verbose,
             nispace_object, init_kwargs, space=None, xsea: bool = False,
             fit_kwargs: dict | None = None) -> NiSpace:
    if nispace_object is not None:
        if not isinstance(nispace_object, NiSpace):
            raise InputTypeError(f"nispace_object: expected a NiSpace object; got "
                                 f"{type(nispace_object).__name__}.")
        nsp = nispace_object
        given = [n for n, v in (("y", y), ("z", z), ("init_kwargs", init_kwargs))
                 if v is not None and not (isinstance(v, dict) and not v)]
        if given:
            raise InputError(f"{given[0]}: nispace_object already holds its data and "
                             f"settings, so {given} would be ignored; pass them when "
                             f"building the NiSpace object, or leave out nispace_object.")
        if space is not None and space != nsp.data_space:
            raise InputError(f"space: {space!r} differs from the data_space of nispace_object "
                             f"({nsp.data_space!r}); set it when building the NiSpace object.")
        if not nsp._fitted:
            nsp.fit(**(fit_kwargs or {}))
        elif fit_kwargs:
            raise InputError("fit_kwargs: nispace_object is already fitted; call "
                             "nsp.fit(...) yourself or leave out fit_kwargs.")
        return nsp
    if y is None:
        raise InputError("y: expected your map(s) (images, a table or an array); got None.")
    if isinstance(x, str):
        logger.info("Loading integrated %s dataset as X data.", x)
    kwargs = dict(x=x, y=y, z=z, x_collection=x_collection, standardize=standardize,
                  parcellation=parcellation, n_proc=n_proc, seed=seed, verbose=verbose)
    if space is not None:
        if (init_kwargs or {}).get("data_space", space) != space:
            raise InputError(f"space: {space!r} and init_kwargs['data_space'] "
                             f"({init_kwargs['data_space']!r}) differ; give one of them.")
        kwargs["data_space"] = space
    kwargs.update(init_kwargs or {})
    source = None
    if xsea and kwargs["x_collection"] is None:
        kwargs["x_collection"] = _default_collection(x)
        source = None if kwargs["x_collection"] is None else "dataset default"
    nsp = NiSpace(**kwargs)
    if source is not None:  # fit() records it in fit_record_["x_collection"]
        nsp._x_collection_source = source
    return nsp.fit(**(fit_kwargs or {}))


def _default_collection(x) -> str | None:
    """The default collection of reference dataset ``x`` (XSEA needs sets), or None when
    ``x`` is not a dataset name or the dataset names no default."""
    from .datasets.collections import default_collection
    from .datasets.registry import list_names

    if not isinstance(x, str) or x.lower() not in {n.lower() for n in list_names("reference")}:
        return None
    name = default_collection(x)
    if name is not None:
        logger.info("x_collection: using %r, the default collection of dataset %r; pass "
                    "x_collection= to choose another.", name, x)
    return name


def _methods(colocalization_method, binary_y: bool = False) -> list[str]:
    from .stats.coloc import COLOC_METHODS
    from ._errors import check_option

    if colocalization_method is None:  # NiSpace's default
        colocalization_method = "pearson" if binary_y else "spearman"
        logger.info("colocalization_method: using %r (NiSpace's default%s).",
                    colocalization_method, " for binary_y=True" if binary_y else "")
    methods = [colocalization_method] if isinstance(colocalization_method, str) \
        else list(colocalization_method)
    if not methods:
        raise InputError("colocalization_method: expected a method name or a list of them; "
                         "got an empty list.")
    for m in methods:
        check_option("colocalization_method", m, list(COLOC_METHODS))
    return methods


def _check_workflow(y, n_perm, seed, n_proc, mc_method, null_method=None, pooled_p=False,
                    plot=True, permute_kwargs=None, kwarg_dicts=None) -> None:
    """Every argument a workflow can check before ``fit()`` loads any data."""
    from ._validate import check_bool, check_n_perm, check_n_proc, check_seed, check_tails
    from .nulls import parse_null_method
    from .stats.correction import canonical_mc_method
    from .stats.pvalues import resolve_pooled_p

    if y is None:
        raise InputError("y: expected your map(s) (images, a table or an array); got None.")
    check_n_perm(n_perm)
    check_seed(seed)
    check_n_proc(n_proc, allow_none=False)
    for mc in _mc_methods(mc_method):
        canonical_mc_method(mc, "mc_method")
    if null_method is not None:
        parse_null_method(null_method)
    resolve_pooled_p(pooled_p, 2)  # checks the value only
    check_bool(plot, "plot")
    for name, value in (kwarg_dicts or {}).items():
        if value is not None and not isinstance(value, dict):
            raise InputTypeError(f"{name}: expected a dict of keyword arguments or None; got "
                                 f"{type(value).__name__}.")
    permute_kwargs = permute_kwargs or {}
    check_tails(permute_kwargs.get("p_tails"))
    if permute_kwargs.get("null_method") is not None:
        parse_null_method(permute_kwargs["null_method"])
    if "n_perm" in permute_kwargs:
        check_n_perm(permute_kwargs["n_perm"], name="permute_kwargs['n_perm']")


def _mc_methods(mc_method) -> list[str]:
    """``mc_method`` as a list (NiSpace takes one name or a list; None = none)."""
    if mc_method is None:
        return []
    methods = list(mc_method) if isinstance(mc_method, (list, tuple)) else [mc_method]
    if not methods:
        raise InputError("mc_method: expected a correction name, a list of them or None; "
                         "got an empty list.")
    return methods


def _finish(nsp: NiSpace, methods: list[str], xsea: bool, what: str, n_perm: int, seed,
            n_proc, pooled_p, mc_method, plot: bool, colocalize_kwargs, permute_kwargs,
            correct_p_kwargs, plot_kwargs, return_nispace_only: bool,
            normalize: bool = False, **permute_defaults):
    correct_p_kwargs = dict(correct_p_kwargs or {})
    mc_methods = _mc_methods(correct_p_kwargs.pop("mc_method", mc_method))
    keys = []
    for method in methods:
        nsp.colocalize(method, xsea=xsea, **(colocalize_kwargs or {}))
        key = method + ("_xsea" if xsea else "")
        kwargs: dict[str, Any] = dict(what=what, method=key, n_perm=n_perm, seed=seed,
                                      n_proc=n_proc, pooled_p=pooled_p, **permute_defaults)
        kwargs.update(permute_kwargs or {})
        nsp.permute(**kwargs)
        for mc in mc_methods:
            nsp.correct_p(mc, method=key, **correct_p_kwargs)
        if normalize:
            try:
                nsp.normalize_colocalizations(method=key)
            except (InputError, DataError, StateError) as err:  # as NiSpace: warned only
                logger.warning("normalize_colocalizations failed for %r: %s", key, err)
        keys.append(key)
    if plot:
        for key in keys:
            nsp.plot(method=key, **(plot_kwargs or {}))
    if return_nispace_only:
        return nsp
    pick = (lambda f: f[keys[0]]) if len(keys) == 1 else (lambda f: f)
    # one statistic: its table; several (e.g. mlr's r2 and beta): {stat: table}
    def tables(frames):
        frames = pick_all(frames)
        return next(iter(frames.values())) if len(frames) == 1 else frames

    colocs = {k: tables(nsp.get_colocalization_result(k).stats) for k in keys}
    ps = {k: tables(nsp.get_permutation_result(k).p) for k in keys}
    def corrected(key):
        q = {mc: tables(nsp.get_correction_result(key, mc_method=mc).p) for mc in mc_methods}
        return next(iter(q.values())) if len(q) == 1 else (q or None)

    qs = {k: corrected(k) for k in keys}
    return pick(colocs), pick(ps), pick(qs), nsp


@fill_doc
def colocalization(y, x="pet", z=None, x_collection: str | None = None,
                   standardize: str | bool = "xz", parcellation="Schaefer200",
                   y_covariates: pd.DataFrame | None = None, combat: bool = False,
                   colocalization_method: str | list[str] | None = None, null_method=None,
                   pooled_p: bool | str = False, mc_method: str | None = "meff",
                   n_perm: int = 10000, seed: int | None = None, n_proc: int = 1,
                   plot: bool = True, verbose: bool | str | int | None = None,
                   return_nispace_only: bool = True,
                   nispace_object: NiSpace | None = None, init_kwargs: dict | None = None,
                   clean_y_kwargs: dict | None = None, colocalize_kwargs: dict | None = None,
                   permute_kwargs: dict | None = None, correct_p_kwargs: dict | None = None,
                   plot_kwargs: dict | None = None, xsea: bool = False,
                   space: str | list[str] | None = None, binary_y: bool = False,
                   data_space: str | list[str] | None = None,
                   parcellation_space: str | None = None, parcellation_labels=None,
                   parcellation_hemi=None, fit_kwargs: dict | None = None,
                   fetch_x_kwargs: dict | None = None,
                   normalize_colocalizations: bool = False, **kwargs):
    """Colocalize group-level map(s) Y with reference maps X; spatial null maps.

    Parameters
    ----------
    y : images, table, array or dict
        Your map(s): a NIfTI/GIfTI image or path, a list or ``{label: image}`` dict,
        a DataFrame (maps x parcels) or an array.
    %(x)s
    %(z)s
    %(x_collection)s
    %(standardize)s
    %(parcellation)s
    y_covariates : DataFrame, optional
        Subject covariates to regress from Y first (``combat=True``: harmonise the
        ``site`` column with ComBat).
    %(colocalization_method)s
    %(null_method)s
    pooled_p : bool or {"mean", "median", "auto"}
        One p per X map from colocalizations averaged over the Y maps.
    %(mc_method)s
    %(n_perm_seed_n_proc)s
    %(plot)s
    %(verbose)s
    %(return_nispace_only)s
    nispace_object : NiSpace, optional
        Continue with this object instead of building one.
    init_kwargs, clean_y_kwargs, colocalize_kwargs, permute_kwargs, correct_p_kwargs,
    plot_kwargs : dict, optional
        Passed to the corresponding NiSpace methods.
    xsea : bool
        Aggregate colocalizations over the sets of X (see :func:`xsea`).
    %(space)s
    binary_y : bool
        Y are binary or fractional maps (see :class:`~nispace.api.NiSpace`); the
        default ``colocalization_method`` is then ``"pearson"`` (else ``"spearman"``).
    %(workflow_nispace)s

    Returns
    -------
    %(workflow_returns)s

    Examples
    --------
    >>> from nispace.workflows import colocalization
    >>> nsp = colocalization(y="my_map.nii.gz", x="pet", x_collection="UniqueTracers",
    ...                      n_perm=1000, seed=42)  # doctest: +SKIP
    >>> nsp.to_frame()  # doctest: +SKIP
    """
    with verbose_context(verbose):
        pooled_p = _deprecated(kwargs, "colocalization", pooled_p)
        methods = _methods(colocalization_method, binary_y)
        _check_workflow(y if nispace_object is None else True, n_perm, seed, n_proc,
                        mc_method, null_method, pooled_p, plot, permute_kwargs,
                        dict(init_kwargs=init_kwargs, clean_y_kwargs=clean_y_kwargs,
                             colocalize_kwargs=colocalize_kwargs,
                             permute_kwargs=permute_kwargs,
                             correct_p_kwargs=correct_p_kwargs, plot_kwargs=plot_kwargs,
                             fit_kwargs=fit_kwargs, fetch_x_kwargs=fetch_x_kwargs))
        init_kwargs, x_collection, space = _init_kwargs(
            init_kwargs, x_collection, space, data_space, fetch_x_kwargs,
            parcellation_space=parcellation_space, parcellation_labels=parcellation_labels,
            parcellation_hemi=parcellation_hemi, binary_y=binary_y)
        nsp = _nispace(y, x, z, x_collection, standardize, parcellation, n_proc, seed, verbose,
                       nispace_object, init_kwargs or None, space, xsea=xsea,
                       fit_kwargs=fit_kwargs)
        if y_covariates is not None or combat:
            kwargs = dict(how="between", covariates_between=y_covariates, combat=combat)
            kwargs.update(clean_y_kwargs or {})
            nsp.clean_y(**kwargs)
        return _finish(nsp, methods, xsea, "maps", n_perm, seed, n_proc, pooled_p, mc_method,
                       plot, colocalize_kwargs, permute_kwargs, correct_p_kwargs, plot_kwargs,
                       return_nispace_only, normalize_colocalizations, null_method=null_method)


def _check_design(design, paired, combat) -> None:
    """The design's type and columns, before any data are loaded."""
    from ._validate import check_bool

    check_bool(paired, "paired")
    check_bool(combat, "combat")
    if isinstance(design, pd.DataFrame):
        needed = ["groups"] + (["subjects"] if paired else []) + (["site"] if combat else [])
        missing = [c for c in needed if c not in design.columns]
        if missing:
            raise InputError(f"design: expected column(s) {needed}; missing {missing} "
                             f"(columns: {list(design.columns)}).")
        groups = design["groups"].dropna().unique()
    elif isinstance(design, (pd.Series, list, tuple, np.ndarray)) and np.ndim(design) == 1:
        groups = pd.unique(pd.Series(np.asarray(design, dtype=object)).dropna())
        if paired:
            raise InputError("design: paired=True needs a DataFrame with 'groups' and "
                             "'subjects' columns; got 1D group labels.")
    else:
        raise InputTypeError(f"design: expected a DataFrame with a 'groups' column (and "
                             f"covariates) or a 1D array of group labels; got "
                             f"{type(design).__name__}.")
    if len(groups) < 2:
        raise InputError(f"design: expected at least 2 groups in 'groups' to permute; got "
                         f"{len(groups)} ({list(groups)[:5]}).")


def _design_frame(design, y_index: pd.Index, paired: bool,
                  record: list | None = None) -> pd.DataFrame:
    """The design with one row per Y map, matched by label (a new DataFrame indexed by
    the Y labels); unlabelled designs are taken in Y's order with a WARNING."""
    if isinstance(design, pd.DataFrame):
        logger.info("DataFrame provided for design. Expecting 'groups'%s column(s).",
                    " and 'subjects'" if paired else "")
        frame = design
    elif isinstance(design, pd.Series) and np.ndim(design) == 1:
        logger.info("1D design: using it as the group labels.")
        frame = design.rename("groups").to_frame()
    elif isinstance(design, (list, tuple, np.ndarray)) and np.ndim(design) == 1:
        logger.info("1D design: using it as the group labels.")
        frame = pd.DataFrame({"groups": np.asarray(design)})
    else:
        raise InputTypeError(f"design: expected a DataFrame with a 'groups' column (and "
                             f"covariates) or a 1D array of group labels; got "
                             f"{type(design).__name__}.")
    needed = ["groups"] + (["subjects"] if paired else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(f"design: expected column(s) {needed}; missing {missing} (columns: "
                         f"{list(frame.columns)}).")
    frame = align_to_index(frame, y_index, argument="design", record=record)
    logger.info("Design matrix of shape %s. Assuming %d subjects/maps.", frame.shape,
                len(frame))
    return frame


@fill_doc
def group_colocalization(y, design, x="pet", z=None, x_collection: str | None = None,
                         standardize: str | bool = "xz", parcellation="Schaefer200",
                         comparison_method: str = "hedges(a,b)", paired: bool = False,
                         combat: bool = False,
                         colocalization_method: str | list[str] = "spearman",
                         mc_method: str | None = "meff", n_perm: int = 10000,
                         seed: int | None = None, n_proc: int = 1, plot: bool = True,
                         verbose: bool | str | int | None = None,
                         return_nispace_only: bool = True,
                         nispace_object: NiSpace | None = None,
                         init_kwargs: dict | None = None, clean_y_kwargs: dict | None = None,
                         transform_y_kwargs: dict | None = None,
                         colocalize_kwargs: dict | None = None,
                         permute_kwargs: dict | None = None,
                         correct_p_kwargs: dict | None = None, plot_kwargs: dict | None = None,
                         xsea: bool = False, space: str | list[str] | None = None,
                         data_space: str | list[str] | None = None,
                         parcellation_space: str | None = None, parcellation_labels=None,
                         parcellation_hemi=None, fit_kwargs: dict | None = None,
                         fetch_x_kwargs: dict | None = None,
                         normalize_colocalizations: bool = False, **kwargs):
    """Colocalize a group comparison of subject data with reference maps; the null
    permutes the group labels and replays covariate cleaning and the comparison.

    Parameters
    ----------
    y : table, images or array
        Subject-level data, one row (map) per subject.
    design : DataFrame, Series or 1D array
        One row per subject: a ``groups`` column (two levels), ``subjects`` when
        ``paired``, ``site`` for ``combat``, and any other columns as covariates to
        regress out (the group effect is protected). Rows are matched to the Y maps
        by label (index = Y labels; numbers and their text are the same ID, ``1`` =
        ``"1"``, but zero padding is not ignored); missing, extra or duplicated IDs
        raise. A 1D array, a list or a table with a default RangeIndex is taken in
        Y's order with a WARNING, recorded in ``nsp.fit_record_["alignment"]``.
    comparison_method : str
        A ``transform_y`` formula, default ``"hedges(a,b)"`` (a = first group level
        in sorted order).
    paired : bool
        Paired design (labels exchanged within subjects only).
    %(x)s
    %(z)s
    %(x_collection)s
    %(standardize)s
    %(parcellation)s
    combat : bool
        Harmonise the ``site`` column of ``design`` with ComBat before the comparison.
    %(colocalization_method)s
    %(mc_method)s
    %(n_perm_seed_n_proc)s
    %(plot)s
    %(verbose)s
    %(return_nispace_only)s
    nispace_object : NiSpace, optional
        Continue with this object instead of building one.
    init_kwargs, clean_y_kwargs, transform_y_kwargs, colocalize_kwargs, permute_kwargs, correct_p_kwargs, plot_kwargs : dict, optional
        Passed to the corresponding NiSpace methods.
    xsea : bool
        Aggregate colocalizations over the sets of X (see :func:`group_xsea`).
    %(space)s
    %(workflow_nispace)s

    Returns
    -------
    %(workflow_returns)s
    """
    with verbose_context(verbose):
        pooled = _deprecated(kwargs, "group_colocalization", False)
        if pooled is not False:  # NiSpace ignores it here too
            logger.warning("group_colocalization: p_from_average_y=%r has no effect: the "
                           "group comparison gives one map of Y.", pooled)
        methods = _methods(colocalization_method)
        _check_workflow(y if nispace_object is None else True, n_perm, seed, n_proc,
                        mc_method, None, False, plot, permute_kwargs,
                        dict(init_kwargs=init_kwargs, clean_y_kwargs=clean_y_kwargs,
                             transform_y_kwargs=transform_y_kwargs,
                             colocalize_kwargs=colocalize_kwargs,
                             permute_kwargs=permute_kwargs,
                             correct_p_kwargs=correct_p_kwargs, plot_kwargs=plot_kwargs,
                             fit_kwargs=fit_kwargs, fetch_x_kwargs=fetch_x_kwargs))
        _check_design(design, paired, combat)
        init_kwargs, x_collection, space = _init_kwargs(
            init_kwargs, x_collection, space, data_space, fetch_x_kwargs,
            parcellation_space=parcellation_space, parcellation_labels=parcellation_labels,
            parcellation_hemi=parcellation_hemi)
        nsp = _nispace(y, x, z, x_collection, standardize, parcellation, n_proc, seed, verbose,
                       nispace_object, init_kwargs or None, space, xsea=xsea,
                       fit_kwargs=fit_kwargs)
        frame = _design_frame(design, nsp.get_y().index, paired,
                              record=nsp.fit_record_.setdefault("alignment", []))
        covariates = frame.drop(columns=["subjects"], errors="ignore")
        if combat or covariates.shape[1] > 1:
            kwargs = dict(how="between", covariates_between=covariates, protect="groups",
                          combat=combat)
            kwargs.update(clean_y_kwargs or {})
            nsp.clean_y(**kwargs)
        # labelled Series (indexed by the Y labels): matched by label, no warning
        kwargs = dict(groups=frame["groups"], subjects=frame["subjects"] if paired else None)
        kwargs.update(transform_y_kwargs or {})
        nsp.transform_y(comparison_method, **kwargs)
        return _finish(nsp, methods, xsea, "groups", n_perm, seed, n_proc, False, mc_method,
                       plot, colocalize_kwargs, permute_kwargs, correct_p_kwargs, plot_kwargs,
                       return_nispace_only, normalize_colocalizations, paired=paired)


@fill_doc
def xsea(y, x="mrna", z=None, x_collection: str | None = None,
         standardize: str | bool = "xz", parcellation="Schaefer200",
         colocalization_method: str | list[str] | None = None, null_method=None,
         pooled_p: bool | str = False, mc_method: str | None = "meff", n_perm: int = 10000,
         seed: int | None = None, n_proc: int = 1, plot: bool = True,
         verbose: bool | str | int | None = None,
         return_nispace_only: bool = True, space: str | list[str] | None = None,
         xsea_aggregation_method: str = "mean", permute_sets: bool = False,
         x_background=None, **kwargs):
    """X-set enrichment analysis: do the map(s) colocalize with *sets* of reference maps
    (e.g. cell-type marker genes) more than expected from spatial null maps of Y?

    Set statistics average the colocalizations of a set's maps (correlations on
    Fisher's z scale); nulls are spatial null maps of Y aggregated the same way.

    With a dataset name as ``x`` and no ``x_collection``, the dataset's default
    collection is used (``"CellTypesPsychEncodeTPM"`` for ``"mrna"``,
    ``"UniqueTracers"`` for ``"pet"``); which one is recorded in
    ``nsp.fit_record_["x_collection"]``.

    Parameters
    ----------
    y : images, table, array or dict
        Your map(s), as in :func:`colocalization`.
    x : str, images, table or array
        Reference maps with a ``set`` index level, or a dataset name (default
        ``"mrna"``: gene expression, sets from ``x_collection``, e.g. cell-type
        marker genes).
    %(z)s
    %(x_collection)s
    %(standardize)s
    %(parcellation)s
    %(colocalization_method)s
    %(null_method)s
    pooled_p : bool or {"mean", "median", "auto"}
        One p per set from colocalizations averaged over the Y maps.
    %(mc_method)s
    %(n_perm_seed_n_proc)s
    %(plot)s
    %(verbose)s
    %(return_nispace_only)s
    %(space)s
    xsea_aggregation_method : {"mean", "median", "absmean", ...}
        How a set's colocalizations are aggregated (as in NiSpace; passed to
        :meth:`~nispace.api.NiSpace.colocalize`).
    permute_sets : bool
        NiSpace's set permutation: the null draws random sets of the same size from
        all maps of X (``permute(what="sets")``) instead of spatial null maps of Y.
    x_background : None
        NiSpace's background maps for ``permute_sets``; refused: the random sets are
        drawn from all maps of ``x``, so give the background as ``x``.
    %(workflow_kwargs)s

    Returns
    -------
    %(workflow_returns)s
    """
    if x_background is not None:
        raise InputError("x_background: the random sets of permute_sets=True are drawn "
                         "from all maps of x; give the background maps (e.g. the whole "
                         "collection) as x= instead.")
    if xsea_aggregation_method != "mean":
        kwargs["colocalize_kwargs"] = {"xsea_aggregation_method": xsea_aggregation_method,
                                       **(kwargs.get("colocalize_kwargs") or {})}
    if permute_sets:
        kwargs["permute_kwargs"] = {"what": "sets", "null_method": None,
                                    **(kwargs.get("permute_kwargs") or {})}
    return colocalization(y, x=x, z=z, x_collection=x_collection, standardize=standardize,
                          parcellation=parcellation,
                          colocalization_method=colocalization_method,
                          null_method=null_method, pooled_p=pooled_p, mc_method=mc_method,
                          n_perm=n_perm, seed=seed, n_proc=n_proc, plot=plot, verbose=verbose,
                          return_nispace_only=return_nispace_only, xsea=True, space=space,
                          **kwargs)


@fill_doc
def group_xsea(y, design, x="mrna", z=None, x_collection: str | None = None,
               comparison_method: str = "hedges(a,b)", parcellation="Schaefer200",
               colocalization_method: str | list[str] = "spearman",
               mc_method: str | None = "meff", n_perm: int = 10000, seed: int | None = None,
               n_proc: int = 1, plot: bool = True, verbose: bool | str | int | None = None,
               return_nispace_only: bool = True, space: str | list[str] | None = None,
               **kwargs):
    """Group comparison with set enrichment: :func:`group_colocalization` with XSEA.

    Group labels are permuted to make null effect-size maps, which are colocalized
    with all reference maps and aggregated into sets like the observed map.

    Without ``x_collection`` the dataset's default collection is used, as in
    :func:`xsea`.

    Parameters
    ----------
    y : table, images or array
        Subject-level data, one row (map) per subject.
    design : DataFrame, Series or 1D array
        One row per subject, matched to Y by label, as in
        :func:`group_colocalization`.
    x : str, images, table or array
        Reference maps with a ``set`` index level, or a dataset name (default
        ``"mrna"``).
    %(z)s
    %(x_collection)s
    comparison_method : str
        A ``transform_y`` formula, default ``"hedges(a,b)"``.
    %(parcellation)s
    %(colocalization_method)s
    %(mc_method)s
    %(n_perm_seed_n_proc)s
    %(plot)s
    %(verbose)s
    %(return_nispace_only)s
    %(space)s
    **kwargs
        Further arguments of :func:`group_colocalization` (e.g. ``paired``,
        ``combat``, ``init_kwargs``).

    Returns
    -------
    %(workflow_returns)s
    """
    return group_colocalization(y, design, x=x, z=z, x_collection=x_collection,
                                parcellation=parcellation,
                                comparison_method=comparison_method,
                                colocalization_method=colocalization_method,
                                mc_method=mc_method, n_perm=n_perm, seed=seed, n_proc=n_proc,
                                plot=plot, verbose=verbose,
                                return_nispace_only=return_nispace_only, xsea=True,
                                space=space, **kwargs)


@fill_doc
def paired_colocalization(y, x, z=None, standardize: str | bool = "xz",
                          parcellation="Schaefer200",
                          colocalization_method: str = "spearman", n_perm: int = 10000,
                          seed: int | None = None, n_proc: int = 1,
                          verbose: bool | str | int | None = None,
                          return_nispace_only: bool = True,
                          space: str | list[str] | None = None, **kwargs):
    """Are paired maps (Y_i, X_i; e.g. two modalities of each subject) more similar to
    each other than to other subjects' maps? The statistic is the mean within-pair
    colocalization; its null re-pairs the maps at random (SPICE; Weinstein et al.,
    2021, https://doi.org/10.1002/hbm.25577).

    Parameters
    ----------
    y, x : images, table or array
        The paired maps: the i-th map of Y is paired with the i-th map of X (same
        number of maps).
    %(z)s
    %(standardize)s
    %(parcellation)s
    colocalization_method : str
        Colocalization statistic, default ``"spearman"``.
    %(n_perm_seed_n_proc)s
    %(verbose)s
    %(return_nispace_only)s
    %(space)s
    %(workflow_kwargs)s

    Returns
    -------
    %(workflow_returns)s
    """
    return colocalization(y, x=x, z=z, standardize=standardize, parcellation=parcellation,
                          colocalization_method=colocalization_method, mc_method=None,
                          n_perm=n_perm, seed=seed, n_proc=n_proc, plot=False,
                          verbose=verbose, return_nispace_only=return_nispace_only, space=space,
                          permute_kwargs={"what": "pairs", "null_method": None,
                                          **(kwargs.pop("permute_kwargs", None) or {})},
                          **kwargs)


__all__ += ["correlate_within_region"]


def _is_covariate(data) -> bool:
    return isinstance(data, pd.Series) or (isinstance(data, np.ndarray) and data.ndim == 1)


@fill_doc
def correlate_within_region(x, y, z=None, standardize: str | bool = False,
                            parcellation="Schaefer200", method: str = "pearson",
                            n_perm: int = 1000, seed: int | None = None, n_proc: int = 1,
                            verbose: bool | str | int | None = None,
                            init_kwargs: dict | None = None, fit_kwargs: dict | None = None,
                            correlate_kwargs: dict | None = None,
                            space: str | list[str] | None = None) -> NiSpace:
    """Correlate subject data X and Y across subjects, parcel by parcel
    (:meth:`~nispace.api.NiSpace.correlate_within_region`; null: re-paired subjects).

    Parameters
    ----------
    x, y : images, table, array or Series
        Subject data (one map per subject, the same subjects by label); one side may
        be a covariate (a Series over the subjects, e.g. age or 0/1 groups).
    %(z)s
    standardize : str or bool
        As in :class:`~nispace.api.NiSpace`; default False (as in NiSpace: the
        correlation across subjects needs no z-scoring across parcels).
    %(parcellation)s
    method : {"pearson", "spearman"}
        Correlation across subjects.
    %(n_perm_seed_n_proc)s
    %(verbose)s
    init_kwargs, fit_kwargs, correlate_kwargs : dict, optional
        Passed to :class:`~nispace.api.NiSpace`, :meth:`~nispace.api.NiSpace.fit` and
        :meth:`~nispace.api.NiSpace.correlate_within_region`.
    %(space)s

    Returns
    -------
    NiSpace
        Read the results with ``nsp.get_within_region_correlations()`` and
        ``nsp.get_within_region_correlations_omnibus()``.
    """
    with verbose_context(verbose):
        if _is_covariate(x) and _is_covariate(y):
            raise InputError("x, y: expected subject data on at least one side; got two "
                             "covariates (1D).")
        covariate = {"X": x} if _is_covariate(x) else {"Y": y} if _is_covariate(y) else {}
        data = y if "X" in covariate else x
        init_kwargs = dict(init_kwargs or {})
        if covariate:  # one side of data: NiSpace(x=data, y=None), Y is then X
            init_kwargs["y"] = None
        nsp = _nispace(data if covariate else y, data, z, None, standardize, parcellation,
                       n_proc, seed, verbose, None, init_kwargs, space, fit_kwargs=fit_kwargs)
        return nsp.correlate_within_region(method=method, n_perm=n_perm, seed=seed,
                                           **covariate, **(correlate_kwargs or {}))


# --------------------------------------------------------------------------------------
# NiSpace's deprecated workflow names

__all__ += ["simple_colocalization", "group_comparison", "simple_xsea"]


def _deprecated_name(old: str, new):
    logger.warning("%s is deprecated (as in NiSpace); use nispace.workflows.%s(...).", old,
                   new.__name__)
    return new


def simple_colocalization(*args, **kwargs):
    """Deprecated NiSpace name of :func:`colocalization` (same behaviour, WARNING).

    Parameters
    ----------
    *args, **kwargs
        The arguments of :func:`colocalization`.

    Returns
    -------
    NiSpace or tuple
        As :func:`colocalization`.
    """
    return _deprecated_name("simple_colocalization", colocalization)(*args, **kwargs)


def group_comparison(*args, **kwargs):
    """Deprecated NiSpace name of :func:`group_colocalization` (same behaviour,
    WARNING).

    Parameters
    ----------
    *args, **kwargs
        The arguments of :func:`group_colocalization`.

    Returns
    -------
    NiSpace or tuple
        As :func:`group_colocalization`.
    """
    return _deprecated_name("group_comparison", group_colocalization)(*args, **kwargs)


def simple_xsea(*args, **kwargs):
    """Deprecated NiSpace name of :func:`xsea` (same behaviour, WARNING).

    Parameters
    ----------
    *args, **kwargs
        The arguments of :func:`xsea`.

    Returns
    -------
    NiSpace or tuple
        As :func:`xsea`.
    """
    return _deprecated_name("simple_xsea", xsea)(*args, **kwargs)


# ======================================================================================
# Y from peak coordinates (NiMARE)

__all__ += ["nimare_colocalization", "nimare_xsea"]


def _check_nimare_nulls(nimare_nulls, y_labels: pd.Index) -> dict | None:
    """``nimare_nulls`` as ``{Y label: array}`` covering exactly the Y maps."""
    if nimare_nulls is None:
        return None
    if not isinstance(nimare_nulls, dict):
        raise InputTypeError(f"nimare_nulls: expected a dict {{Y label: array (n_perm, "
                             f"n_parcels)}}; got {type(nimare_nulls).__name__}.")
    keys, labels = [str(k) for k in nimare_nulls], [str(v) for v in y_labels]
    if sorted(keys) != sorted(labels):
        raise InputError(f"nimare_nulls: expected one entry per Y map {labels}; got the keys "
                         f"{keys}. Name the Y map with y_label= or rename the keys.")
    return {str(k): np.asarray(v, dtype=float) for k, v in nimare_nulls.items()}


def _nimare_y(y, parcellation, estimator, nimare_map: str, y_label, nimare_nulls,
              n_perm: int, seed, n_proc, space, verbose):
    """Y (maps x parcels), its null maps (or None) and the record of how both were made."""
    import os

    from .coordinates import (NIMARE_SPACE, coordinate_null_maps, is_coordinates,
                              meta_analysis_map, read_coordinates)
    from .datasets import fetch_parcellation
    from .io.extract import parcellate
    from .parcellation import Parcellation

    parc = parcellation
    if not isinstance(parc, Parcellation):
        own = not isinstance(parc, str) or os.path.exists(parc)
        parc = fetch_parcellation(parc, space=None if own else space, verbose=verbose)
    if y_label is not None and not isinstance(y_label, str):
        raise InputTypeError(f"y_label: expected a string or None; got "
                             f"{type(y_label).__name__}.")
    if is_coordinates(y):
        if space is not None and space != NIMARE_SPACE:
            raise InputError(f"space: maps from coordinates are made on NiMARE's template "
                             f"(mni152_2mm = {NIMARE_SPACE!r}); got {space!r}. Leave space "
                             f"out.")
        dataset = read_coordinates(y)
        est_name = estimator if isinstance(estimator, str) else type(estimator).__name__
        label = y_label or est_name
        logger.info("Y: %s map (%r) of %d experiments with %d foci, on NiMARE's template "
                    "(%s).", est_name, nimare_map, len(dataset.ids), len(dataset.coordinates),
                    NIMARE_SPACE)
        img = meta_analysis_map(dataset, estimator, nimare_map)
        Y = parcellate({label: img}, parc, space=NIMARE_SPACE, background=None,
                       verbose=verbose)
        record: dict[str, Any] = {
            "y_source": "peak coordinates", "estimator": est_name, "map": nimare_map,
            "n_experiments": int(len(dataset.ids)),
            "n_foci": int(len(dataset.coordinates)),
            "data_space": NIMARE_SPACE,
            "data_space_source": "NiMARE template mni152_2mm (FSL MNI152)",
            "background": "none (zeros are values)"}
        nulls = _check_nimare_nulls(nimare_nulls, Y.index)
        if nulls is None:
            nulls = {label: coordinate_null_maps(dataset, parc, estimator, nimare_map,
                                                 n_perm=n_perm, seed=seed, n_proc=n_proc,
                                                 verbose=verbose)}
            record.update(null=("random foci: every focus moved to a voxel drawn uniformly "
                                "from the estimator's brain mask; experiments, foci counts "
                                "and sample sizes kept"), null_n_perm=int(n_perm),
                          null_seed=None if seed is None else int(seed))
        else:
            record["null"] = "nimare_nulls given by the user"
        return Y, nulls, parc, record
    Y = parcellate(y, parc, space=space, labels=None if y_label is None else [y_label],
                   background=None, verbose=verbose)
    record = {"y_source": "meta-analytic image(s)", "background": "none (zeros are values)"}
    nulls = _check_nimare_nulls(nimare_nulls, Y.index)
    record["null"] = "nimare_nulls given by the user" if nulls is not None else \
        "spatial null maps (no nimare_nulls)"
    return Y, nulls, parc, record


def _nimare_workflow(y, x, z, x_collection, standardize, parcellation, colocalization_method,
                     mc_method, pooled_p, plot, nimare_nulls, estimator, nimare_map, y_label,
                     n_perm, seed, n_proc, verbose, return_nispace_only, init_kwargs,
                     colocalize_kwargs, permute_kwargs, correct_p_kwargs, plot_kwargs, space,
                     xsea: bool, binary_y: bool = False):
    with verbose_context(verbose):
        if binary_y is not False:
            raise InputError(f"binary_y: got {binary_y!r}; the nimare workflows have no "
                             f"binary cluster-map mode (Y is NiMARE's continuous map, "
                             f"nimare_map=). Threshold the map yourself and run "
                             f"colocalization(mask, binary_y=True).")
        _methods(colocalization_method)
        _check_workflow(y, n_perm, seed, n_proc, mc_method, None, pooled_p, plot,
                        permute_kwargs,
                        dict(init_kwargs=init_kwargs, colocalize_kwargs=colocalize_kwargs,
                             permute_kwargs=permute_kwargs,
                             correct_p_kwargs=correct_p_kwargs, plot_kwargs=plot_kwargs))
        Y, nulls, parc, record = _nimare_y(y, parcellation, estimator, nimare_map, y_label,
                                           nimare_nulls, n_perm, seed, n_proc, space, verbose)
        kwargs = dict(x=x, y=Y, z=z, x_collection=x_collection, standardize=standardize,
                      parcellation=parc, n_proc=n_proc, seed=seed, verbose=verbose)
        kwargs.update(init_kwargs or {})
        nsp = NiSpace(**kwargs).fit()
        nsp.fit_record_["y_meta_analysis"] = record
        permute = dict(permute_kwargs or {})
        if nulls is not None:
            permute.setdefault("null_maps", nulls)
            permute.setdefault("maps_which", "Y")
        elif not xsea:
            logger.info("No nimare_nulls: X is permuted with spatial null maps.")
            permute.setdefault("maps_which", "X")
        return colocalization(None, nispace_object=nsp,
                              colocalization_method=colocalization_method,
                              pooled_p=pooled_p, mc_method=mc_method, n_perm=n_perm,
                              seed=seed, n_proc=n_proc, plot=plot, verbose=verbose,
                              return_nispace_only=return_nispace_only,
                              colocalize_kwargs=colocalize_kwargs, permute_kwargs=permute,
                              correct_p_kwargs=correct_p_kwargs, plot_kwargs=plot_kwargs,
                              xsea=xsea)


def nimare_colocalization(y, x="pet", z=None, x_collection: str | None = None,
                          standardize: str | bool = "xz", parcellation="Schaefer200",
                          colocalization_method: str | list[str] = "spearman",
                          mc_method: str | None = "meff", pooled_p: bool | str = False,
                          plot: bool = True, nimare_nulls: dict | None = None,
                          estimator="ALE", nimare_map: str = "stat",
                          y_label: str | None = None, n_perm: int = 10000,
                          seed: int | None = None, n_proc: int = 1,
                          verbose: bool | str | int | None = None,
                          return_nispace_only: bool = True, init_kwargs: dict | None = None,
                          colocalize_kwargs: dict | None = None,
                          permute_kwargs: dict | None = None,
                          correct_p_kwargs: dict | None = None,
                          plot_kwargs: dict | None = None, space: str | None = None,
                          binary_y: bool = False):
    """Colocalize a coordinate-based meta-analysis with reference maps X; the null
    places the foci at random.

    From peak coordinates, Y is the meta-analytic map of a NiMARE estimator (ALE
    by default; Eickhoff et al., 2012), parcellated with zeros kept as values. Its
    ``n_perm`` null maps are the same estimator applied to the same experiments
    (same numbers of foci, same sample sizes) with every focus moved to a voxel
    drawn uniformly from NiMARE's brain mask, as in NiMARE's Monte-Carlo FWE
    correction; p-values come from the colocalizations of these null maps with X
    (:meth:`NiSpace.permute` with ``null_maps``). Needs NiMARE (``pip install
    nimare``; see :mod:`nispace.coordinates`).

    Parameters
    ----------
    y : NiMARE Dataset, Sleuth file, DataFrame, or image(s)
        Peak coordinates: a :class:`nimare.dataset.Dataset`, a Sleuth ``.txt`` file,
        or a table with one row per focus and the columns ``experiment``, ``x``,
        ``y``, ``z`` (MNI152 mm) and ``sample_size``. Or, as in NiSpace, a
        meta-analytic image you made (e.g. ``result.get_map("stat")``): it is
        parcellated with zeros kept, and tested against ``nimare_nulls`` if given,
        else by spatial null maps of X.
    x, z, x_collection, standardize, parcellation, colocalization_method, mc_method,
    pooled_p, plot
        As :func:`colocalization`.
    nimare_nulls : dict, optional
        Your own null maps ``{Y label: array (n_perm, n_parcels)}`` (parcels in the
        order of the parcellation's labels); coordinate input then skips making them.
    estimator : {"ALE", "MKDADensity", "KDA"} or NiMARE CBMA estimator
        Estimator for Y and the null maps (an instance is copied, not fitted).
    nimare_map : str
        Map of the NiMARE result used as Y (default ``"stat"``: ALE values).
    y_label : str, optional
        Label of Y (default: the estimator's name; images: their file names).
    n_perm : int
        Null maps (default 10,000; each is one estimator fit, about 0.1 s for a
        small ALE).
    seed, n_proc
        The null foci depend on ``seed`` only: identical for any ``n_proc``.
    verbose, return_nispace_only, init_kwargs, colocalize_kwargs, permute_kwargs,
    correct_p_kwargs, plot_kwargs
        As :func:`colocalization`.
    space : str, optional
        Space of Y images. Coordinates always give maps on NiMARE's template
        (``"MNI152NLin6Asym"``).
    binary_y : bool
        NiSpace's binary cluster-map mode; only False: Y is NiMARE's continuous map.
        For a cluster mask, threshold the map yourself and run
        :func:`colocalization` with ``binary_y=True``.

    Returns
    -------
    NiSpace, or a tuple (see ``return_nispace_only``).
    How Y and its nulls were made is in ``nsp.fit_record_["y_meta_analysis"]``
    and in the provenance of the results.

    References
    ----------
    Eickhoff, S. B., Bzdok, D., Laird, A. R., Kurth, F., & Fox, P. T. (2012).
    Activation likelihood estimation meta-analysis revisited. NeuroImage, 59(3),
    2349-2361. https://doi.org/10.1016/j.neuroimage.2011.09.017
    """
    return _nimare_workflow(y, x, z, x_collection, standardize, parcellation,
                            colocalization_method, mc_method, pooled_p, plot, nimare_nulls,
                            estimator, nimare_map, y_label, n_perm, seed, n_proc, verbose,
                            return_nispace_only, init_kwargs, colocalize_kwargs,
                            permute_kwargs, correct_p_kwargs, plot_kwargs, space, xsea=False,
                            binary_y=binary_y)


def nimare_xsea(y, x="mrna", z=None, x_collection: str | None = None,
                standardize: str | bool = "xz", parcellation="Schaefer200",
                colocalization_method: str | list[str] = "spearman",
                mc_method: str | None = "meff", pooled_p: bool | str = False,
                plot: bool = True, nimare_nulls: dict | None = None, estimator="ALE",
                nimare_map: str = "stat", y_label: str | None = None, n_perm: int = 10000,
                seed: int | None = None, n_proc: int = 1,
                verbose: bool | str | int | None = None, return_nispace_only: bool = True,
                init_kwargs: dict | None = None, colocalize_kwargs: dict | None = None,
                permute_kwargs: dict | None = None, correct_p_kwargs: dict | None = None,
                plot_kwargs: dict | None = None, space: str | None = None,
                binary_y: bool = False):
    """X-set enrichment of a coordinate-based meta-analysis: :func:`nimare_colocalization`
    with the colocalizations aggregated over the sets of X (see :func:`xsea`).

    The null maps of Y (randomly placed foci, or ``nimare_nulls``) are aggregated
    the same way; without either (Y given as an image and no ``nimare_nulls``), Y
    is permuted with spatial null maps, as in :func:`xsea`.

    Parameters
    ----------
    y, z, x_collection, standardize, parcellation, colocalization_method, mc_method
        As in :func:`nimare_colocalization`.
    x : str, images, table or array
        Reference maps with a ``set`` index level, or a dataset name (default
        ``"mrna"``, with its default collection).
    pooled_p, plot, nimare_nulls, estimator, nimare_map, y_label, n_perm, seed, n_proc
        As in :func:`nimare_colocalization`.
    verbose, return_nispace_only, init_kwargs, colocalize_kwargs, permute_kwargs
        As in :func:`nimare_colocalization`.
    correct_p_kwargs, plot_kwargs, space, binary_y
        As in :func:`nimare_colocalization`.

    Returns
    -------
    NiSpace or (NiSpace, figures)
        As :func:`nimare_colocalization`.
    """
    return _nimare_workflow(y, x, z, x_collection, standardize, parcellation,
                            colocalization_method, mc_method, pooled_p, plot, nimare_nulls,
                            estimator, nimare_map, y_label, n_perm, seed, n_proc, verbose,
                            return_nispace_only, init_kwargs, colocalize_kwargs,
                            permute_kwargs, correct_p_kwargs, plot_kwargs, space, xsea=True,
                            binary_y=binary_y)
