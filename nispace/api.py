"""The :class:`NiSpace` object: data in, colocalizations out.

A thin stateful layer over the pure functions of :mod:`nispace.io` and
:mod:`nispace.stats`: every method validates its arguments, calls the array
layer, and stores a *named* result (``get_colocalizations(method=...)``), so
nothing depends on hidden "whatever ran last" state.

Typical use::

    nsp = NiSpace(x=pet_maps, y={"Pain": pain_map}, parcellation="Schaefer200")
    nsp.fit()
    nsp.colocalize("spearman")
    rho = nsp.get_colocalizations("spearman")
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._alignment import align_to_index, is_default_parcel_axis
from ._docs import fill_doc
from ._errors import check_option
from ._logging import verbose_context
from ._validate import check_bool, check_n_perm, check_n_proc, check_seed, check_tails
from .errors import DataError, InputError, InputTypeError, MissingFileError, StateError
from .parcellation import Parcellation
from .results.objects import (ColocalizationResult, CorrectionResult, MissingResultError,
                              PermutationResult, StaleResultError, main_stat)
from .results.provenance import flat_label

logger = logging.getLogger("nispace.api")

_STANDARDIZE = {"x", "y", "z"}
#: fewest valid (finite) parcels a map needs; fewer: a WARNING (or a DataError when no
#: map of an input has enough), as a correlation on 3 points has no meaningful null
MIN_VALID_PARCELS = 4
_SAVE_FORMAT = "nispace-object"
#: methods whose cross-validation folds are spatial blocks of parcel centroids
_CV_METHODS = {"pls", "pcr", "lasso", "ridge", "elasticnet"}

#: no value of such a parameter is accepted (deprecated or meaningless in nispace)
_REFUSED = object()
#: NiSpace's names of the correct_p families
_MC_DIMENSIONS = {"c": "x", "col": "x", "cols": "x", "column": "x", "columns": "x",
                  "r": "y", "row": "y", "rows": "y", "a": "array"}
_SET_AT_INIT = ("is set once on the object: NiSpace({name}=...) or "
                "nispace.set_verbosity(...) for verbose")
_CALL_FIRST = "call {call} first; nispace keeps one current {what} and colocalizes it"
#: NiSpace parameters nispace does not take, per call: ``{name: (value, replacement)}``.
#: NiSpace's default ``value`` (which changes nothing here) is accepted; any other value
#: raises an InputError naming what to do instead (listed in docs/differences.rst).
_NISPACE_ONLY: dict[str, dict[str, tuple[Any, str]]] = {
    "NiSpace": {
        "parcellation_symmetric": (False, "nispace does not mirror distance matrices between "
                                          "hemispheres; pass a symmetric "
                                          "parcellation_dist_mat= if you need one"),
        "parcellation_idc_lh": (None, "hemispheres come from the parcellation (surface "
                                      "hemispheres or 'hemi-L'/'hemi-R' in the labels); name "
                                      "them in parcellation_labels= or select one with "
                                      "parcellation_hemi='L'"),
        "parcellation_idc_rh": (None, "hemispheres come from the parcellation (surface "
                                      "hemispheres or 'hemi-L'/'hemi-R' in the labels); name "
                                      "them in parcellation_labels= or select one with "
                                      "parcellation_hemi='R'"),
        "parcellation_idc_sc": (None, "combine a cortical and a subcortical parcellation by "
                                      "name (parcellation='Schaefer200TianS1'), which marks "
                                      "the subcortex"),
        "parcellation_spin_mat": (None, "pass precomputed null maps to "
                                        "nsp.permute(null_maps={label: (n_perm, n_parcels)})"),
        "load_dist_mat": (True, "the library's distance matrices are always used (verified "
                                "by hash); pass parcellation_dist_mat= to use your own"),
        "load_spin_mat": (True, "spins are drawn from the parcellation's sphere with the "
                                "seed; pass nsp.permute(null_maps=...) to use your own"),
        "return_self": (True, "every nispace step returns the object; read results with "
                              "nsp.get_colocalizations() / nsp.get_p_values()"),
    },
    "fit": {
        "ignore_background_data": (_REFUSED, "deprecated in NiSpace; use "
                                             "nsp.fit(background_value=...) (False: keep it)"),
        "drop_background_parcels": (_REFUSED, "deprecated in NiSpace; use "
                                              "nsp.fit(min_fraction_valid_datapoints=...)"),
    },
    "clean_y": {
        "combat_protect": (None, "ComBat keeps the effect of every covariates_between "
                                 "column; add the column there (and to protect=)"),
        "combat_keep": (_REFUSED, "deprecated (ignored) in NiSpace; leave it out"),
        "combat_train": (None, "ComBat is learned on all Y maps; call "
                               "nispace.stats.cleaning.combat(...) yourself for a subset"),
        "combat_model": (None, "a fitted ComBat model cannot be reused here; clean all maps "
                               "in one clean_y(combat=True) call"),
        "plot_design_between": (False, "draw the design with "
                                       "nilearn.plotting.plot_design_matrix(covariates)"),
        "replace": (True, "clean_y always replaces the current Y; nsp.get_y(raw=True) "
                          "gives the Y before any step"),
        "n_proc": (None, _SET_AT_INIT.format(name="n_proc")),
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
    },
    "colocalize": {
        "X_reduction": (None, _CALL_FIRST.format(call="nsp.reduce_x(...)", what="X")),
        "Y_transform": (None, _CALL_FIRST.format(call="nsp.transform_y(...)", what="Y")),
        "groups": (None, _CALL_FIRST.format(call="nsp.transform_y(formula, groups=...)",
                                            what="Y")),
        "subjects": (None, _CALL_FIRST.format(call="nsp.transform_y(formula, subjects=...)",
                                              what="Y")),
        "X": (None, "give the maps to NiSpace(x=...) and fit()"),
        "Y": (None, "give the maps to NiSpace(y=...) and fit()"),
        "Z": (None, "give the maps to NiSpace(z=...) and fit()"),
        "store": (True, "results are always stored; read them with "
                        "nsp.get_colocalizations(method)"),
        "force_dict": (False, "all statistics of a method: "
                              "nsp.get_colocalization_result(method).stats"),
        "r_equal_one": ("raise", "nispace keeps correlations of 1 as they are; replace them "
                                 "in the table of nsp.get_colocalizations() if needed"),
        "dist_mat_kwargs": (None, "pass coords= (parcel centroids, n_parcels x 3) for the "
                                  "spatial cross-validation blocks"),
        "n_proc": (None, _SET_AT_INIT.format(name="n_proc")),
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
    },
    "permute": {
        "X_reduction": (None, _CALL_FIRST.format(call="nsp.reduce_x(...)", what="X")),
        "Y_transform": (None, _CALL_FIRST.format(call="nsp.transform_y(...)", what="Y")),
        "xsea": (None, "name the XSEA colocalization: nsp.permute(..., "
                       "method='spearman_xsea')"),
        "sets_X_background": (None, "the random sets are drawn from all X maps; build the "
                                    "NiSpace object with the background maps in x= (e.g. "
                                    "the whole collection)"),
        "store": (True, "results are always stored; read them with nsp.get_p_values()"),
        "force_dict": (False, "all statistics: nsp.get_permutation_result(method).p"),
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
    },
    "correlate_within_region": {
        "X_reduction": (None, _CALL_FIRST.format(call="nsp.reduce_x(...)", what="X")),
        "Y_transform": (None, _CALL_FIRST.format(call="nsp.transform_y(...)", what="Y")),
        "store": (True, "results are always stored; read them with "
                        "nsp.get_within_region_correlations()"),
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
    },
    "reduce_x": {
        "store": (True, "the reduction always replaces X; nsp.get_x(raw=True) gives X "
                        "before it"),
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
    },
    "copy": {
        "deep": (True, "a shallow copy would share the stored results; nsp.copy() is deep"),
        "verbose": (True, _SET_AT_INIT.format(name="verbose")),
    },
    "get_x": {
        "copy": (True, "getters always return copies, so stored data cannot change"),
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
        "X_reduction": (None, _CALL_FIRST.format(call="nsp.reduce_x(...)", what="X")),
    },
    "get_y": {
        "copy": (True, "getters always return copies, so stored data cannot change"),
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
        "Y_transform": (None, _CALL_FIRST.format(call="nsp.transform_y(...)", what="Y")),
    },
    "correct_p": {
        "store": (True, "corrections are always stored; read them with "
                        "nsp.get_p_values(mc_method=...)"),
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
    },
    "normalize_colocalizations": {
        "store": (True, "normalized colocalizations are always stored; read them with "
                        "nsp.get_colocalizations(normalized=True)"),
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
    },
    "plot": {
        "X_reduction": (None, _CALL_FIRST.format(call="nsp.reduce_x(...)", what="X")),
        "Y_transform": (None, _CALL_FIRST.format(call="nsp.transform_y(...)", what="Y")),
        "xsea": (None, "name the XSEA colocalization: nsp.plot(method='spearman_xsea')"),
        "Y_labels": (None, "select maps with y_maps= (labels or positions)"),
        "X_labels": (None, "select maps with x_maps= (labels or positions)"),
        "colocalizations_dict": (None, "plot your own tables with "
                                       "nispace.plotting.plot_colocalizations(observed, ...)"),
        "nulls_dict": (None, "plot your own tables with "
                             "nispace.plotting.plot_colocalizations(observed, nulls, ...)"),
        "p_dict": (None, "plot your own tables with "
                         "nispace.plotting.plot_colocalizations(observed, p=...)"),
        "pc_dict": (None, "plot your own tables with "
                          "nispace.plotting.plot_colocalizations(observed, q=...)"),
        "sort_colocs": (False, "use sort_by='coloc'"),
        "fig": (None, "pass ax= (the figure is ax.figure)"),
        "show": (True, "the figure is returned, not shown; call matplotlib.pyplot.show()"),
        "plot_kwargs": (None, "call nispace.plotting.plot_colocalizations(...) for more "
                              "control"),
        "nullplot_kwargs": (None, "call nispace.plotting.plot_colocalizations(...) for more "
                                  "control"),
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
    },
    "plot_brain": {
        "X_reduction": (None, _CALL_FIRST.format(call="nsp.reduce_x(...)", what="X")),
        "Y_transform": (None, _CALL_FIRST.format(call="nsp.transform_y(...)", what="Y")),
        "kind": (None, "the kind follows the parcellation (surface views for cortex, "
                       "slices for volumes)"),
        "shared_colorscale": (False, "pass vmin= and vmax= for one colour scale"),
        "colorbar": (True, "pass colorbar_label=None and remove the colorbar axes"),
        "ncols": (1, "the layout is fixed: one row per map"),
        "show": (True, "the figure is returned, not shown; call matplotlib.pyplot.show()"),
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
    },
    "save": {
        "verbose": (None, _SET_AT_INIT.format(name="verbose")),
    },
}


def _same(value, default) -> bool:
    """``value`` is NiSpace's no-op ``default`` (never true for arrays or tables)."""
    if default is _REFUSED:
        return False
    if default is None or value is None:
        return value is default
    return isinstance(value, (bool, int, str)) and type(value) is type(default) \
        and value == default


def _nispace_only(call: str, kwargs: dict, strict: bool = True) -> dict:
    """Check the NiSpace-only keyword arguments of ``call`` (see :data:`_NISPACE_ONLY`)
    and return the others; with ``strict`` any other is an unexpected argument."""
    table = _NISPACE_ONLY.get(call, {})
    rest = {}
    for name, value in kwargs.items():
        if name not in table:
            rest[name] = value
            continue
        default, replacement = table[name]
        if not _same(value, default):
            raise InputError(f"{call}({name}={value!r}): NiSpace's {name!r} is not a "
                             f"nispace parameter: {replacement}.")
    if strict and rest:
        raise InputTypeError(f"{call}: unexpected keyword argument(s) {sorted(rest)}; see "
                             f"help(NiSpace.{call}) and the 'Differences from NiSpace' page.")
    return rest


def _alias(kwargs: dict, nispace_name: str, name: str, value, default):
    """``value`` of ``name``, or the value given under NiSpace's ``nispace_name``
    (popped from ``kwargs``); giving both with different values raises."""
    if nispace_name not in kwargs:
        return value
    given = kwargs.pop(nispace_name)
    if not (value is default or _same(value, default)) and not _same(given, value):
        raise InputError(f"{nispace_name}: NiSpace's name for {name}; got both "
                         f"{nispace_name}={given!r} and {name}={value!r}; give one.")
    return given


def _is_annotation_key(item) -> bool:
    return (isinstance(item, tuple) and len(item) == 4
            and all(isinstance(v, str) for v in item))


def _is_annotation(data) -> bool:
    """A neuromaps-style annotation ``(source, desc, space, den|res)`` or a list of them."""
    if _is_annotation_key(data):
        return True
    return (isinstance(data, list) and len(data) > 0
            and all(_is_annotation_key(d) for d in data))


def _stat_label(key: str, stat: str, method_label) -> str:
    """Readable name of a stored statistic (the key itself for unknown methods)."""
    try:
        return method_label(key, stat)
    except (ValueError, TypeError):
        return f"{key} {stat}"




def _fetch_annotations(data, verbose) -> dict:
    """``{"source_desc_space_denres": path or (L, R)}`` for annotation tuple(s)."""
    from .datasets import fetch_annotation

    out = {}
    for source, desc, space, denres in ([data] if _is_annotation_key(data) else data):
        key = "res" if denres.endswith("mm") else "den"
        paths = fetch_annotation(source=source, desc=desc, space=space, **{key: denres},
                                 return_single=True, verbose=verbose)
        if isinstance(paths, dict):
            raise InputError(f"annotation ({source}, {desc}, {space}, {denres}) matches "
                             f"several files: {list(paths)}.")
        out[f"{source}_{desc}_{space}_{denres}"] = (tuple(paths) if isinstance(paths, list)
                                                   else paths)
    return out


_PATH_LIKE = (".nii", ".nii.gz", ".gii", ".gii.gz", ".mgz", ".csv", ".tsv", ".txt", ".csv.gz",
              ".tsv.gz", ".npy")


#: ``z`` shortcuts for tissue probability maps, as in NiSpace, and their dataset
TISSUE_SHORTCUTS = ("gm", "wm", "csf", "veins", "arteries")
_TISSUE_DATASET = "tpm"


def _is_tissue_shortcut(data) -> bool:
    """``"gm"``, ``"wm"``, ... or a list of them (any case)."""
    items = [data] if isinstance(data, str) else data
    return (isinstance(items, (list, tuple)) and len(items) > 0
            and all(isinstance(t, str) and t.lower() in TISSUE_SHORTCUTS for t in items))


def _check_data_type(name: str, data) -> None:
    """Refuse what can never be map data (numbers, booleans) and name missing files
    (a string that looks like a path but does not exist is not a dataset name)."""
    if data is None:
        return
    if isinstance(data, (bool, int, float, complex, np.number, np.bool_, bytes)):
        raise InputTypeError(f"{name}: expected images, a table (DataFrame), an array, a "
                             f"list or dict of them, or a dataset name; got {data!r} (a "
                             f"{type(data).__name__}).")
    if isinstance(data, (str, os.PathLike)):
        text = os.fspath(data)
        if not text.strip():
            raise InputError(f"{name}: expected a file path or a dataset name; got an empty "
                             f"string.")
        looks_like_path = (not isinstance(data, str) or os.sep in text or "/" in text
                           or text.lower().endswith(_PATH_LIKE))
        if looks_like_path and not os.path.exists(text):
            raise MissingFileError(f"{name}: file not found: {text!r}.")
    elif isinstance(data, (list, tuple)) and len(data) == 0:
        raise InputError(f"{name}: expected at least one map; got an empty "
                         f"{type(data).__name__}.")
    elif isinstance(data, dict) and not data:
        raise InputError(f"{name}: expected at least one map; got an empty dict.")
    elif isinstance(data, pd.DataFrame) and data.size == 0:
        raise InputError(f"{name}: expected a table of maps x parcels; got an empty "
                         f"DataFrame of shape {data.shape}.")


def _set_means(x: pd.DataFrame) -> pd.DataFrame:
    """Mean map of every set of X (rows with a ``set`` index level), in set order."""
    sets = x.index.get_level_values("set")
    names = list(dict.fromkeys(sets))
    return pd.DataFrame([x.to_numpy()[np.asarray(sets == n)].mean(axis=0) for n in names],
                        index=pd.Index(names, name="set"), columns=x.columns)


def _pick_maps(frame: pd.DataFrame, maps, squeeze: bool) -> pd.DataFrame | pd.Series:
    """Rows of ``frame`` named in ``maps`` (exact label, or a part of a label or of an
    index level, as NiSpace's getters); ``squeeze`` turns one row into a Series."""
    check_bool(squeeze, "squeeze")
    if maps is not None:
        wanted = [maps] if isinstance(maps, str) else list(maps)
        keys = [tuple(str(v) for v in (k if isinstance(k, tuple) else (k,)))
                for k in frame.index]
        keep = np.zeros(len(frame), bool)
        for item in wanted:
            exact = np.array([str(item) in k for k in keys])
            hit = exact if exact.any() else np.array(
                [any(str(item) in v for v in k) for k in keys])
            if not hit.any():
                raise InputError(f"maps: {item!r} matches no map; maps are "
                                 f"{list(frame.index)[:10]}.")
            keep |= hit
        frame = frame[keep]
    return frame.squeeze(axis=0) if squeeze and len(frame) == 1 else frame


def _zscore_rows(frame: pd.DataFrame) -> pd.DataFrame:
    from .datasets.tables import zscore_rows

    return zscore_rows(frame)


@fill_doc
class NiSpace:
    """Spatial colocalization of brain maps.

    Parameters
    ----------
    x : images, table, array or str
        Reference maps (e.g. PET receptor maps): NIfTI/GIfTI images, paths, a list
        or dict of them, a DataFrame/array (maps x parcels), the name of a
        reference dataset (``"pet"``, ``"mrna"``, ...), fetched for the
        parcellation (with ``x_collection``): its pre-parcellated table where the
        dataset has one, else its images parcellated on the fly with any
        parcellation, also your own (cached by content; see
        :func:`nispace.io.parcellate_reference`; what was done is in
        ``fit_record_["reference"]``), a neuromaps-style annotation
        ``(source, desc, space, den|res)`` or a list of them
        (:func:`nispace.datasets.fetch_annotation`), or a Neurovault result
        (:func:`nispace.datasets.neurovault.fetch_neurovault`).
    y : same as x, optional
        Target maps (e.g. a meta-analytic map, subject data). ``None``: X is
        colocalized with itself (self-pairs are NaN).
    z : same as x, optional
        Covariate maps for partial correlations / ``clean_y(how="within")``. The
        shortcuts ``"gm"``, ``"wm"`` (and ``"csf"``, ``"veins"``, ``"arteries"``
        where the data repository has them), or a list such as ``["gm", "wm"]``,
        give tissue probability maps of the ``tpm`` dataset, one row per tissue
        named after it: the table for library parcellations that have one, else
        the images parcellated on the fly (volumetric parcellations only).
    x_labels, y_labels, z_labels : list of str or str, optional
        Map labels (else from dict keys, DataFrame index or file names).
    x_collection : str, optional
        Collection of the reference dataset when ``x`` is a dataset name.
    standardize : str or bool
        Which of X, Y, Z to z-score across parcels after parcellation
        (``"xz"`` default; ``True`` = ``"xyz"``, ``False`` = none).
    drop_nan : bool
        Drop parcels that are NaN in any map of X, Y or Z.
    data_space : str or list of str, optional
        Space of the image data: one name for X, Y and Z, or a list of 1 or 3
        (X, Y, Z), e.g. ``"MNI152NLin6Asym"``, ``"MNI152NLin2009cAsym"``,
        ``"fsaverage"``, ``"fsLR"``. Default: the BIDS ``space-<label>`` entity of
        the file names, else for volumes NiSpace's default ``"MNI152NLin6Asym"``
        (with a WARNING); surfaces are recognised from their vertex counts. Images
        are parcellated with the parcellation's version in that space, and null
        models use its geometry. What was used is in :attr:`fit_record_`.
    parcellation : str, tuple, Parcellation, image, (L, R) pair or None
        A library name (``"Schaefer200"``, ``"Schaefer200TianS1"``), a
        :class:`~nispace.parcellation.Parcellation`, or your own label image.
        ``None`` for data that are already parcellated (tables or arrays, maps x
        parcels): X, Y and Z are matched by their parcel labels (columns); images and
        dataset names then raise, and spatial null maps need
        ``parcellation_dist_mat`` (distance-based nulls such as Moran) or your own
        ``null_maps``. Tables without parcel labels are taken in the parcellation's
        order (or X's, without one) with a WARNING, recorded in
        ``fit_record_["parcel_order_assumed"]``.
    parcellation_space, parcellation_labels : optional
        Space and parcel names of your own label image. For a library
        parcellation, ``parcellation_space`` forces the space it is used in (images
        in another space are then parcellated without a transform, with a WARNING).
    parcellation_hemi : {"L", "R"} or None
        Keep only the parcels of one hemisphere.
    parcellation_dist_mat : array (n_parcels, n_parcels), optional
        A distance matrix to use instead of the parcellation's.
    resampling_target : {"data", "parcellation", None}
        How images and parcellation are brought onto one grid.
    %(n_proc)s
    %(seed)s
    verbose : bool, str, int or None, default None
        Logging level of this object's methods: None follows
        :func:`nispace.set_verbosity` (WARNING unless changed), True = INFO.
    dtype : numpy dtype
        Float type of the parcellated data.
    binary_y : bool
        Y are binary or fractional maps (e.g. cluster masks), as in NiSpace: Y is
        never z-scored (``"y"`` is dropped from ``standardize`` with a WARNING if it
        was asked for), and ``permute(what="groups")`` is refused. Recorded in
        ``fit_record_["binary_y"]``.
    **kwargs
        NiSpace's other constructor parameters: ``parc`` (= ``parcellation``) and
        ``parcellation_l2rmap`` (deprecated and ignored in NiSpace too, with a
        WARNING); ``parcellation_symmetric``, ``parcellation_idc_lh/rh/sc``,
        ``parcellation_spin_mat``, ``load_dist_mat``, ``load_spin_mat`` and
        ``return_self`` are accepted with NiSpace's default value only; any other
        value raises an :class:`~nispace.errors.InputError` naming the nispace way
        (see the "Differences from NiSpace" page).

    Notes
    -----
    Degenerate data are caught in :meth:`fit`: an image that is all zero, all NaN or
    constant, or that does not overlap the parcellation (wrong space), and a truncated
    or corrupt file raise a :class:`~nispace.errors.DataError` naming the map and the
    file. A map with fewer than ``MIN_VALID_PARCELS`` (4) valid parcels or constant
    across its parcels gives a WARNING naming it (recorded in
    ``fit_record_["degenerate_maps"]``), or a DataError when no map of X, Y or Z is
    usable. NaN colocalizations always come with a WARNING naming the maps.
    """

    def __init__(self, x=None, y=None, z=None, x_labels=None, y_labels=None, z_labels=None,
                 x_collection: str | None = None, standardize: str | bool = "xz",
                 drop_nan: bool = False, data_space: str | list[str] | None = None,
                 parcellation=None, parcellation_space: str | None = None,
                 parcellation_hemi: str | None = None, parcellation_labels=None,
                 parcellation_dist_mat=None, resampling_target: str | None = "data",
                 n_proc: int = 1, seed: int | None = None, verbose: bool | str | int | None = None,
                 dtype=np.float64, binary_y: bool = False, **kwargs):
        parcellation = _alias(kwargs, "parc", "parcellation", parcellation, None)
        if kwargs.pop("parcellation_l2rmap", None) is not None:
            logger.warning("parcellation_l2rmap is deprecated in NiSpace and not used by "
                           "nispace; ignored.")
        if isinstance(parcellation_hemi, (list, tuple)) and sorted(parcellation_hemi) == \
                ["L", "R"]:
            parcellation_hemi = None  # NiSpace's default ["L", "R"]: both hemispheres
        _nispace_only("NiSpace", kwargs)
        # stored unchanged (scikit-learn convention); validated in fit()
        self.x, self.y, self.z = x, y, z
        self.x_labels, self.y_labels, self.z_labels = x_labels, y_labels, z_labels
        self.x_collection = x_collection
        self.standardize = standardize
        self.drop_nan = drop_nan
        self.data_space = data_space
        self.parcellation = parcellation
        self.parcellation_space = parcellation_space
        self.parcellation_hemi = parcellation_hemi
        self.parcellation_labels = parcellation_labels
        self.parcellation_dist_mat = parcellation_dist_mat
        self.resampling_target = resampling_target
        self.n_proc = n_proc
        self.seed = seed
        self.verbose = verbose
        self.dtype = dtype
        self.binary_y = binary_y
        self._fitted = False

    # ----------------------------------------------------------------------------------
    # fit

    def fit(self, background_value: Any = "auto", min_num_valid_datapoints: int | None = None,
            min_fraction_valid_datapoints: float | None = None, **kwargs) -> NiSpace:
        """Parcellate and check X, Y and Z; standardize as requested. Returns self.

        Parameters
        ----------
        background_value : "auto", number, list of numbers, False or dict
            Image values that are background, not data (as in NiSpace): ``"auto"``
            (a constant border value and 0.0), values, ``False`` (none; NaN is always
            excluded), or ``{"x": ..., "y": ..., "z": ...}`` per input (missing:
            ``"auto"``). Only used when images are parcellated.
        min_num_valid_datapoints : int, optional
            Parcels with fewer valid voxels/vertices become NaN.
        min_fraction_valid_datapoints : float, optional
            Parcels with a smaller valid fraction of their voxels/vertices become NaN
            (give one of the two thresholds).
        **kwargs
            NiSpace's ``report_background_parcels`` (True or False: parcels that come
            out NaN are always named in a WARNING); its deprecated
            ``ignore_background_data`` and ``drop_background_parcels`` raise an error
            naming their replacement.
        """
        check_bool(kwargs.pop("report_background_parcels", True), "report_background_parcels")
        _nispace_only("fit", kwargs)
        self._parcellate_options = self._fit_options(
            background_value, min_num_valid_datapoints, min_fraction_valid_datapoints)
        with verbose_context(self.verbose):
            logger.info("*** NiSpace.fit() - Data extraction and preparation. ***")
            if self.x is None:
                raise InputError("x: expected reference maps (images, table, array or a "
                                 "dataset name such as 'pet'); got None.")
            for name in ("x", "y", "z"):
                _check_data_type(name, getattr(self, name))
            check_option("resampling_target", self.resampling_target,
                         ["data", "parcellation", None])
            check_n_proc(self.n_proc, allow_none=False)  # a positive integer or -1 (all)
            check_seed(self.seed)
            check_bool(self.drop_nan, "drop_nan")
            if self.x_collection is not None and not isinstance(self.x_collection, str):
                raise InputTypeError(f"x_collection: expected a collection name (str) or "
                                     f"None; got {type(self.x_collection).__name__}.")
            standardize = self._standardize_set(self.standardize)
            check_bool(getattr(self, "binary_y", False), "binary_y")
            if getattr(self, "binary_y", False) and "y" in standardize:
                logger.warning("binary_y=True: Y is not z-scored (standardize=%r asked for "
                               "it); as in NiSpace.", self.standardize)
                standardize.discard("y")
            #: what fit() decided and assumed (data space, label order, alignment, ...):
            #: a JSON-serialisable record copied into every result's provenance
            self.fit_record_: dict[str, Any] = {}
            data_spaces = self._data_spaces(self.data_space)
            self.parcellation_ = self._build_parcellation()
            self.fit_record_.update(data_space={}, data_space_source={},
                                    parcellation=getattr(self.parcellation_, "name", None),
                                    parcellation_space={},
                                    binary_y=bool(getattr(self, "binary_y", False)))
            if self._parcellate_options:
                self.fit_record_["parcellate_options"] = dict(self._parcellate_options)
            self.x_ = self._read("x", self.x, self.x_labels, data_spaces["x"])
            if self.x_collection is not None and isinstance(self.x, str):
                self.fit_record_["x_collection"] = {  # "dataset default" from xsea()
                    "name": self.x_collection,
                    "source": getattr(self, "_x_collection_source", "x_collection")}
            self.y_ = (self._read("y", self.y, self.y_labels, data_spaces["y"])
                       if self.y is not None else None)
            self.z_ = (self._read("z", self.z, self.z_labels, data_spaces["z"])
                       if self.z is not None else None)
            self._set_geometry_space()
            self._check_parcels()
            self._check_degenerate()
            if self.drop_nan:
                self._drop_nan_parcels()
            for name in sorted(standardize):
                frame = getattr(self, f"{name}_")
                if frame is not None:
                    logger.info("Z-standardizing '%s' data.", name.upper())
                    setattr(self, f"{name}_", _zscore_rows(frame).astype(self.dtype))
            self.y_raw_ = self.y_
            self.x_raw_ = self.x_
            self.x_reduction_ = None  # set by reduce_x()
            self.transforms_: list[dict] = []
            self.y_steps_: list[dict] = []
            self._reset_results()
            self._fitted = True
            return self

    @staticmethod
    def _fit_options(background_value, min_num, min_fraction) -> dict:
        """NiSpace's fit() options as :func:`~nispace.io.parcellate_images` arguments
        (``background`` may be a per-input dict, resolved in :meth:`_read`)."""
        options: dict[str, Any] = {}
        if isinstance(background_value, dict):
            bad = set(background_value) - set("xyz")
            if bad:
                raise InputError(f"background_value: a dict has keys 'x', 'y', 'z'; got "
                                 f"{sorted(bad)}.")
        if not (isinstance(background_value, str) and background_value == "auto"):
            options["background"] = background_value
        if min_num is not None and min_fraction is not None:
            raise InputError("min_num_valid_datapoints, min_fraction_valid_datapoints: give "
                             f"one threshold; got {min_num!r} and {min_fraction!r}.")
        if min_num is not None:
            if isinstance(min_num, bool) or not isinstance(min_num, (int, np.integer)):
                raise InputTypeError(f"min_num_valid_datapoints: expected an int >= 1; got "
                                     f"{min_num!r}.")
            options["min_valid"] = int(min_num)
        if min_fraction is not None:
            if isinstance(min_fraction, bool) or not isinstance(min_fraction, (int, float)):
                raise InputTypeError(f"min_fraction_valid_datapoints: expected a float in "
                                     f"(0, 1]; got {min_fraction!r}.")
            options["min_valid"] = float(min_fraction)
        return options

    def _options_for(self, name: str) -> dict:
        """The parcellation options of fit() for input ``name``."""
        options = dict(getattr(self, "_parcellate_options", {}) or {})
        if isinstance(options.get("background"), dict):
            options["background"] = options["background"].get(name, "auto")
        if options.get("background") is False:
            options["background"] = None
        if options.get("background") == "auto":
            del options["background"]
        return options

    @staticmethod
    def _standardize_set(standardize) -> set[str]:
        if standardize is True:
            return set(_STANDARDIZE)
        if standardize in (False, None, ""):
            return set()
        if not isinstance(standardize, str) or not set(standardize.lower()) <= _STANDARDIZE:
            raise InputError(f"standardize: expected True, False or a combination of 'x', 'y', "
                             f"'z' such as 'xz'; got {standardize!r}.")
        return set(standardize.lower())

    @staticmethod
    def _data_spaces(data_space) -> dict[str, str | None]:
        """``data_space`` as ``{"x": ..., "y": ..., "z": ...}``."""
        if data_space is None or isinstance(data_space, str):
            return dict.fromkeys("xyz", data_space)
        if isinstance(data_space, (list, tuple)) and len(data_space) in (1, 3) and all(
                s is None or isinstance(s, str) for s in data_space):
            values = list(data_space) * (3 if len(data_space) == 1 else 1)
            return dict(zip("xyz", values))
        raise InputError(f"data_space: expected a space name (e.g. 'MNI152NLin6Asym') or a "
                         f"list of 1 or 3 of them (x, y, z); got {data_space!r}.")

    def _set_geometry_space(self) -> None:
        """Record the space whose geometry (centroids, distances) matches the data and
        make it the active space of the fitted parcellation (a copy of the user's)."""
        parc = self.parcellation_
        if parc is None:
            self.fit_record_["geometry_space"] = None
            return
        used = {k: v for k, v in self.fit_record_["parcellation_space"].items()
                if v in parc.spaces}
        order = [k for k in ("y", "x", "z") if k in used]
        if order:
            space, source = used[order[0]], "data"
            if {used[k] for k in order} != {space}:
                logger.warning("The inputs were parcellated in different spaces (%s); "
                               "distances and centroids use '%s' (the space of '%s').",
                               used, space, order[0])
        else:
            space = parc.active_space
            source = "user" if self.parcellation_space is not None else "parcellation default"
        if space != parc.active_space and not parc.is_surface(space):
            self.parcellation_ = parc.with_space(space)
        self.fit_record_["geometry_space"] = space
        self.fit_record_["geometry_space_source"] = source

    def _build_parcellation(self) -> Parcellation | None:
        from .datasets import fetch_parcellation

        parc = self.parcellation
        if parc is not None and self.parcellation_hemi is not None:  # before any download
            check_option("parcellation_hemi", self.parcellation_hemi, ["L", "R"])
        if parc is None:
            if self.parcellation_hemi is not None:
                raise InputError("parcellation_hemi: selecting a hemisphere needs a "
                                 "parcellation; got parcellation=None.")
            logger.info("No parcellation: X, Y and Z must be parcellated data (tables or "
                        "arrays, maps x parcels) with the same parcels.")
            return None
        if not isinstance(parc, Parcellation):
            parc = fetch_parcellation(parc, space=self.parcellation_space,
                                      labels=self.parcellation_labels, verbose=self.verbose)
        elif self.parcellation_space is not None:
            parc = parc.with_space(self.parcellation_space)  # the user's object stays as is
        else:
            parc = parc.copy()
        return parc

    def _read(self, name: str, data, labels, data_space: str | None = None) -> pd.DataFrame:
        from .io import read_input

        logger.info("Checking input data for '%s'.", name)
        if self.parcellation_ is None:
            self._check_parcellated(name, data)
        if _is_annotation(data):
            data = _fetch_annotations(data, self.verbose)
        elif hasattr(data, "images_meta") and hasattr(data, "images"):
            from .datasets.neurovault import neurovault_maps

            data = neurovault_maps(data)  # a Neurovault result: {label: image path}
        reference = None
        if name == "z" and _is_tissue_shortcut(data):
            data, reference = self._fetch_tissues(data)
        elif isinstance(data, str) and not os.path.exists(data):
            data, reference = self._fetch_reference(name, data)
        record: dict[str, Any] = {}
        kwargs = {} if self.parcellation_space is None else {"space": self.parcellation_space}
        kwargs.update(self._options_for(name))  # fit(background_value=, min_*=)
        try:
            frame = read_input(data, self.parcellation_, labels=labels, name=name,
                               data_space=data_space, record=record,
                               resampling_target=self.resampling_target,
                               verbose=self.verbose, **kwargs)
        except DataError as err:  # name the argument the images came from
            text = str(err)
            if not text.startswith("images:"):
                raise
            raise DataError(f"{name}: {text[len('images: '):]}") from err
        if reference is not None:
            self._note_reference(name, reference, record)
        for key, value in record.items():
            self.fit_record_.setdefault(key, {})[name] = value
        frame = frame.astype(self.dtype)
        if self.parcellation_hemi is not None:
            keep = self.parcellation_.get_hemi_indices(self.parcellation_hemi)
            frame = frame.iloc[:, keep]
        logger.info("Got '%s' data for %d x %d parcels.", name, *frame.shape)
        return frame

    def _fetch_reference(self, name: str, dataset: str, maps=None) -> tuple[pd.DataFrame, dict]:
        """A reference dataset on the fitted parcellation: its table, else its images
        parcellated on the fly (cached by content); and what was done."""
        from .io.references import parcellate_reference

        reference: dict[str, Any] = {}
        frame = parcellate_reference(
            dataset, self.parcellation_, maps=maps,
            collection=self.x_collection if name == "x" else None,
            standardize_parcellated=False, resampling_target=self.resampling_target,
            space=self.parcellation_space, record=reference, name=name, verbose=self.verbose)
        return frame, reference

    def _fetch_tissues(self, tissues) -> tuple[pd.DataFrame, dict]:
        """``z="gm"``, ``"wm"``, ... (or a list): tissue probability maps of the ``tpm``
        dataset, one row per tissue named after it."""
        from .datasets.references import parse_map_name, select_reference_maps

        wanted = [tissues] if isinstance(tissues, str) else list(tissues)
        wanted = [t.lower() for t in wanted]
        if all(self.parcellation_.is_surface(s) for s in self.parcellation_.spaces):
            raise InputError(
                f"z: the tissue shortcuts {wanted} are volumetric tissue probability maps "
                f"(dataset {_TISSUE_DATASET!r}) and parcellation "
                f"{self.parcellation_.name!r} has only surface spaces "
                f"{self.parcellation_.spaces}; projecting tissue probabilities to a cortical "
                f"surface is not meaningful. Use a volumetric parcellation or pass z as "
                f"parcellated data (a DataFrame, maps x parcels).")
        found = {parse_map_name(m).get("tissue", "").lower(): m
                 for m in select_reference_maps(_TISSUE_DATASET).names}
        missing = [t for t in wanted if t not in found]
        if missing:
            raise DataError(f"z: no tissue map for {missing} in dataset {_TISSUE_DATASET!r} "
                            f"of the data repository; it has {sorted(found)}.")
        frame, reference = self._fetch_reference("z", _TISSUE_DATASET,
                                                 maps={"tissue": wanted})
        frame = frame.loc[[found[t] for t in wanted]]
        frame.index = pd.Index(wanted, name="map")
        reference["tissues"] = {t: found[t] for t in wanted}
        return frame, reference

    def _note_reference(self, name: str, reference: dict, record: dict) -> None:
        """Record where a reference dataset's maps came from (``fit_record_["reference"]``);
        images parcellated on the fly record their own spaces."""
        from .io.references import SOURCE_IMAGES

        if reference["source"] == SOURCE_IMAGES:
            record.update(data_space=reference["data_space"], data_space_source=SOURCE_IMAGES,
                          parcellation_space=reference["parcellation_space"])
            if reference.get("transforms"):
                record["transforms"] = reference["transforms"]
        self.fit_record_.setdefault("reference", {})[name] = reference

    @staticmethod
    def _check_parcellated(name: str, data) -> None:
        """With ``parcellation=None`` only parcellated data (tables, arrays) can be read."""
        is_name = isinstance(data, str) and not os.path.exists(data)
        tissue = name == "z" and _is_tissue_shortcut(data)
        if tissue or is_name or _is_annotation(data) or hasattr(data, "images_meta"):
            what = (f"the tissue shortcut {data!r} (maps of dataset {_TISSUE_DATASET!r})"
                    if tissue else f"the reference dataset {data!r}" if is_name
                    else "annotation images")
            raise InputError(f"parcellation: {name} is {what}, which needs a parcellation; "
                             f"got parcellation=None. Pass parcellation= (e.g. "
                             f"'Schaefer200') or parcellated data (a DataFrame or array, "
                             f"maps x parcels).")

    def _match_parcels_by_label(self) -> None:
        """Without a parcellation: put Y and Z in X's parcel order, by label.

        The first of X, Y, Z whose columns are parcel labels is the reference; tables
        without parcel labels (RangeIndex columns, arrays) are taken in its order with
        a WARNING, recorded in ``fit_record_["parcel_order_assumed"]``.
        """
        frames = {n: getattr(self, f"{n}_") for n in ("x", "y", "z")
                  if getattr(self, f"{n}_") is not None}
        unlabelled = {n: is_default_parcel_axis(f.columns) for n, f in frames.items()}
        ref_name = next((n for n in frames if not unlabelled[n]), "x")
        ref = frames[ref_name].columns
        ref_keys = [str(c) for c in ref]
        for name, frame in frames.items():
            if name == ref_name:
                continue
            if frame.shape[1] != len(ref):
                raise InputError(f"{name}: expected {len(ref)} parcels like {ref_name}; got "
                                 f"{frame.shape[1]}.")
            if unlabelled[name]:
                logger.warning(
                    "%s: the data have no parcel labels; taken in the parcel order of %s "
                    "(%d parcels: %r ... %r). Give a DataFrame with parcel labels as columns "
                    "to match by label.", name, ref_name, len(ref), ref_keys[0], ref_keys[-1])
                # same schema as io.inputs records for a parcellation's order
                self.fit_record_.setdefault("parcel_order_assumed", {})[name] = {
                    "parcellation": f"the parcel labels of {ref_name}",
                    "n_parcels": len(ref), "first": ref_keys[0], "last": ref_keys[-1],
                    "inputs": [name]}
                values = frame.to_numpy()
            else:  # matched by label with the same ID rules as designs and covariates
                values = align_to_index(frame.T, ref, argument=name,
                                        what=f"parcel of {ref_name}").T.to_numpy()
            setattr(self, f"{name}_", pd.DataFrame(values, index=frame.index,
                                                   columns=ref.copy()))

    def _check_parcels(self) -> None:
        if self.parcellation_ is None:
            self._match_parcels_by_label()
            return
        ref = self.x_.columns
        for name in ("y", "z"):
            frame = getattr(self, f"{name}_")
            if frame is None:
                continue
            if frame.shape[1] != len(ref):
                raise InputError(f"{name}: expected {len(ref)} parcels like x; got "
                                 f"{frame.shape[1]}.")
            if list(frame.columns) != list(ref):
                bad = [(a, b) for a, b in zip(frame.columns, ref) if a != b][:3]
                raise InputError(f"{name}: parcel labels differ from those of x, e.g. "
                                 f"{bad} ({name} vs x).")

    def _check_degenerate(self) -> None:
        """Maps with fewer than :data:`MIN_VALID_PARCELS` valid parcels or constant over
        their valid parcels: a DataError when every map of an input is so (nothing to
        analyse), else a WARNING naming them (their statistics will be NaN or
        unreliable), recorded in ``fit_record_["degenerate_maps"]``."""
        for name in ("x", "y", "z"):
            frame = getattr(self, f"{name}_")
            if frame is None:
                continue
            values = frame.to_numpy(dtype=float)
            finite = np.isfinite(values)
            n_valid = finite.sum(axis=1)
            filled = np.where(finite, values, np.nan)
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                spread = np.nanmax(filled, axis=1) - np.nanmin(filled, axis=1)
            few = n_valid < MIN_VALID_PARCELS
            constant = ~few & ~(spread > 0)
            if not (few | constant).any():
                continue
            labels = [str(v) for v in frame.index]
            problems = [f"{labels[i]!r} ({n_valid[i]} valid parcels)"
                        for i in np.flatnonzero(few)[:5]]
            problems += [f"{labels[i]!r} (constant)" for i in np.flatnonzero(constant)[:5]]
            text = (f"{name}: {int((few | constant).sum())} of {len(labels)} map(s) have fewer "
                    f"than {MIN_VALID_PARCELS} valid parcels or are constant: "
                    f"{', '.join(problems)}")
            if (few | constant).all():
                raise DataError(f"{text}; nothing can be colocalized. Check the data, "
                                f"the background and that images and parcellation are in "
                                f"the same space.")
            logger.warning("%s; their colocalizations will be NaN or unreliable.", text)
            self.fit_record_.setdefault("degenerate_maps", {})[name] = [
                labels[i] for i in np.flatnonzero(few | constant)]

    def _warn_nan_stats(self, key: str, results: dict[str, pd.DataFrame]) -> None:
        """A WARNING naming the Y maps (and X maps) whose statistics came out NaN."""
        for stat, frame in results.items():
            values = frame.to_numpy(dtype=float)
            nan = np.isnan(values)
            if self.y_ is None and values.shape[0] == values.shape[1]:
                np.fill_diagonal(nan, False)  # self-pairs are NaN by design
            if not nan.any():
                continue
            rows = [str(frame.index[i]) for i in np.flatnonzero(nan.any(axis=1))[:5]]
            cols = [str(frame.columns[j]) for j in np.flatnonzero(nan.any(axis=0))[:5]]
            logger.warning("%s: %d of %d '%s' statistics are NaN (Y maps %s; columns %s): "
                           "constant maps or too few common valid parcels (at least %d "
                           "needed).", key, int(nan.sum()), nan.size, stat, rows, cols,
                           MIN_VALID_PARCELS)

    def _drop_nan_parcels(self) -> None:
        frames = [f for f in (self.x_, self.y_, self.z_) if f is not None]
        bad = np.zeros(frames[0].shape[1], bool)
        for f in frames:
            bad |= f.isna().any(axis=0).to_numpy()
        if bad.any():
            logger.info("Dropping %d parcels with NaN values.", int(bad.sum()))
            for name in ("x_", "y_", "z_"):
                if getattr(self, name) is not None:
                    setattr(self, name, getattr(self, name).loc[:, ~bad])

    def _check_fitted(self) -> None:
        if not self._fitted:
            raise StateError("This NiSpace object is not fitted yet; call nsp.fit() first.")

    # ----------------------------------------------------------------------------------
    # getters

    def get_x(self, raw: bool = False, maps=None, squeeze: bool = False,
              **kwargs) -> pd.DataFrame | pd.Series:
        """X, the reference maps (maps x parcels), a copy.

        Parameters
        ----------
        raw : bool
            The X maps as fitted, before :meth:`reduce_x`.
        maps : str or list of str, optional
            Keep these maps (as in NiSpace: a label matches exactly, or as a part of
            a label or of an index level); no match raises.
        squeeze : bool
            One map: return it as a Series.
        **kwargs
            NiSpace's ``copy``, ``verbose`` and ``X_reduction``, at their default only.

        Returns
        -------
        pandas.DataFrame or pandas.Series
        """
        _nispace_only("get_x", kwargs)
        self._check_fitted()
        return _pick_maps((self.x_raw_ if raw else self.x_).copy(), maps, squeeze)

    def _y(self) -> pd.DataFrame:
        """Y as stored (X when y=None), without the copy a getter makes: read-only use
        inside this class (sizes, hashes)."""
        return self.x_ if self.y_ is None else self.y_

    def get_y(self, raw: bool = False, maps=None, squeeze: bool = False,
              **kwargs) -> pd.DataFrame | pd.Series:
        """Y (maps x parcels) after any transform or cleaning, a copy.

        With ``y=None`` this is X (X colocalized with itself).

        Parameters
        ----------
        raw : bool
            The Y maps as fitted, before :meth:`clean_y` and :meth:`transform_y`.
        maps : str or list of str, optional
            Keep these maps, matched as in :meth:`get_x`.
        squeeze : bool
            One map: return it as a Series.
        **kwargs
            NiSpace's ``copy``, ``verbose`` and ``Y_transform``, at their default only.

        Returns
        -------
        pandas.DataFrame or pandas.Series
        """
        _nispace_only("get_y", kwargs)
        self._check_fitted()
        frame = self.y_raw_ if raw else self.y_
        return _pick_maps((self.x_ if frame is None else frame).copy(), maps, squeeze)

    def copy(self, **kwargs) -> NiSpace:
        """A deep copy of this object, with its data and results (NiSpace's ``copy``).

        Parameters
        ----------
        **kwargs
            NiSpace's ``deep`` and ``verbose``, at their default only.

        Returns
        -------
        NiSpace
            The copy; steps run on it leave this object unchanged.
        """
        import copy

        _nispace_only("copy", kwargs)
        return copy.deepcopy(self)

    def get_z(self) -> pd.DataFrame | None:
        """Z (covariate maps x parcels) or None."""
        self._check_fitted()
        return None if self.z_ is None else self.z_.copy()

    def get_parcellation(self) -> Parcellation:
        """The Parcellation used."""
        self._check_fitted()
        return self.parcellation_

    # ----------------------------------------------------------------------------------
    # Y / Z / X processing

    def transform_y(self, transform: str, groups=None, subjects=None) -> NiSpace:
        """Transform Y with a formula such as ``"hedges(a,b)"``.

        ``groups`` and ``subjects`` (one value per Y map) are matched to the Y maps by
        label when they are pandas Series (index = Y labels; ``1`` and ``"1"`` are the
        same ID); missing, extra or duplicated IDs raise. Arrays and lists are taken in
        Y's order with a WARNING, recorded in ``fit_record_["alignment"]``.

        Parameters
        ----------
        transform : str
            The formula, e.g. ``"hedges(a,b)"``, ``"mean(a)-mean(b)"``, ``"zscore(a,b)"``
            (see :func:`nispace.stats.parse_transform` for all forms; ``a`` is the
            first group level in sorted order).
        groups : pandas.Series, array or list, optional
            Group label of each Y map (needed by group formulas).
        subjects : pandas.Series, array or list, optional
            Subject ID of each Y map, for paired formulas.

        Returns
        -------
        NiSpace
            This object, with the transformed Y.
        """
        from .stats.transforms import _group_levels, apply_transform

        self._check_fitted()
        y = self.get_y()
        groups, subjects = self._align("groups", groups, y), self._align("subjects", subjects, y)
        values, labels = apply_transform(y.to_numpy(), transform, groups=groups,
                                         subjects=subjects)
        self.y_ = pd.DataFrame(values, index=pd.Index(labels, name="y"), columns=y.columns)
        step = {"y": transform, "n_maps_in": len(y), "n_maps_out": len(self.y_)}
        if groups is not None:  # group sizes in a/b order, as the transform decides it
            levels = _group_levels(groups, list(groups), None)
            step["group_sizes"] = {str(g): int(sum(v == g for v in groups)) for g in levels}
        self.transforms_.append(step)
        self.y_steps_.append({"kind": "transform", "formula": transform, "groups": groups,
                              "subjects": subjects})
        logger.info("Transformed Y with '%s': %d x %d.", transform, *self.y_.shape)
        return self

    def transform_z(self, transform: str, groups=None, subjects=None) -> NiSpace:
        """Like :meth:`transform_y`, for Z.

        Parameters
        ----------
        transform : str
            The formula (see :meth:`transform_y`).
        groups, subjects : pandas.Series, array or list, optional
            Group label and subject ID of each Z map, matched by label like in
            :meth:`transform_y`.

        Returns
        -------
        NiSpace
            This object, with the transformed Z.
        """
        from .stats.transforms import apply_transform

        self._check_fitted()
        if self.z_ is None:
            raise InputError("transform_z: this object has no Z data (z=None).")
        z = self.z_
        groups = self._align("groups", groups, z, what="Z map")
        subjects = self._align("subjects", subjects, z, what="Z map")
        values, labels = apply_transform(z.to_numpy(), transform, groups=groups,
                                         subjects=subjects)
        self.z_ = pd.DataFrame(values, index=pd.Index(labels, name="z"), columns=z.columns)
        self.transforms_.append({"z": transform})
        return self

    def _align(self, name: str, values, frame: pd.DataFrame, what: str = "Y map"):
        """One value per map of ``frame``, matched by label (see
        :func:`nispace._alignment.align_to_index`); unlabelled values are taken in
        ``frame``'s order with a WARNING, recorded in ``fit_record_["alignment"]``."""
        if values is None:
            return None
        if isinstance(values, pd.DataFrame) and values.shape[1] != 1:
            raise InputError(f"{name}: expected one value per {what} (a Series or 1D array); "
                             f"got a DataFrame with {values.shape[1]} columns.")
        if not isinstance(values, (pd.Series, pd.DataFrame)) and np.ndim(values) != 1:
            raise InputError(f"{name}: expected one value per {what} ({len(frame)}); got "
                             f"shape {np.shape(values)}.")
        aligned = align_to_index(values, frame.index, argument=name, what=what,
                                 record=self.fit_record_.setdefault("alignment", []))
        if isinstance(aligned, pd.DataFrame):
            aligned = aligned.iloc[:, 0]
        if isinstance(aligned.dtype, pd.CategoricalDtype):
            return aligned.array  # a Categorical: its category order decides a and b
        return aligned.to_numpy()

    def clean_y(self, how: str = "between", covariates_between=None, covariates_within=None,
                protect=None, combat: bool = False, within_y_specific: bool = False,
                combat_kwargs: dict | None = None, **kwargs) -> NiSpace:
        """Remove covariate effects from Y.

        Parameters
        ----------
        how : {"between", "within", "both"}
            ``"between"``: regress subject covariates (a DataFrame, one row per Y
            map; categorical columns one-hot encoded) per parcel, keeping the
            columns named in ``protect``. ``"within"``: regress covariate maps
            (``covariates_within``, maps x parcels, default: Z) across parcels.
        combat : bool
            Harmonise sites first (ComBat; needs a ``site`` column in
            ``covariates_between`` and neuroHarmonize: ``pip install --no-deps
            neuroHarmonize==2.5.2 neuroCombat==0.2.12``).
        within_y_specific : bool
            ``covariates_within`` (or Z) holds one map per Y map, matched by label
            (unlabelled maps in Y's order with a WARNING), and each Y map is cleaned of
            its own map only; default: every covariate map from every Y map.
        combat_kwargs : dict, optional
            Passed to ``neuroHarmonize.harmonizationLearn`` (as in NiSpace).
        **kwargs
            NiSpace's ``combat_protect``, ``combat_train``, ``combat_model``,
            ``combat_keep``, ``plot_design_between``, ``replace``, ``n_proc`` and
            ``verbose``: accepted with NiSpace's default only, else an error names the
            nispace way.
        """
        from .stats import cleaning

        _nispace_only("clean_y", kwargs)
        self._check_fitted()
        check_option("how", how, ["between", "within", "both"])
        check_bool(combat, "combat")
        check_bool(within_y_specific, "within_y_specific")
        if combat_kwargs is not None and not isinstance(combat_kwargs, dict):
            raise InputTypeError(f"combat_kwargs: expected a dict or None; got "
                                 f"{type(combat_kwargs).__name__}.")
        y = self.get_y()
        values = y.to_numpy(copy=True)
        step: dict = {"kind": "clean"}
        record: dict = {"clean_y": how, "combat": combat}
        if how in ("between", "both") or combat:
            cov = self._covariate_frame(covariates_between, y)
            record["covariates"] = [str(c) for c in cov.columns]
            if combat:
                if "site" not in cov:
                    raise InputError("covariates_between: ComBat needs a 'site' column; got "
                                     f"columns {list(cov.columns)}.")
                others = cov.drop(columns="site")
                step["combat_site"] = cov["site"].to_numpy()
                step["combat_cov"] = None if others.empty else cleaning.one_hot(others)[0]
                values = cleaning.combat(values, step["combat_site"], step["combat_cov"],
                                         **(combat_kwargs or {}))
                cov = others
            if how in ("between", "both") and not cov.empty:
                protect = [protect] if isinstance(protect, str) else list(protect or [])
                missing = [p for p in protect if p not in cov]
                if missing:
                    raise InputError(f"protect: columns {missing} are not in "
                                     f"covariates_between ({list(cov.columns)}).")
                rest = cov.drop(columns=protect)
                record["protect"] = [str(p) for p in protect]
                if not rest.empty:  # e.g. ComBat took 'site', only protected columns left
                    prot = cleaning.one_hot(cov[protect])[0] if protect else None
                    step["between"], step["protect"] = cleaning.one_hot(rest)[0], prot
                    values = cleaning.regress_between(values, step["between"], prot)
        if how in ("within", "both"):
            maps = covariates_within if covariates_within is not None else self.z_
            if maps is None:
                raise InputError("covariates_within: expected covariate maps (maps x parcels) "
                                 "or Z data; got None.")
            if covariates_within is not None:  # parcels matched by label (Z already is)
                if isinstance(maps, pd.Series):
                    maps = maps.to_frame().T
                parcels = (maps.T if isinstance(maps, pd.DataFrame)
                           else np.atleast_2d(np.asarray(maps)).T)
                maps = align_to_index(parcels, y.columns, argument="covariates_within",
                                      what="parcel",
                                      record=self.fit_record_.setdefault("alignment", [])).T
            if within_y_specific:  # one map per Y map, matched by label
                frame = maps if isinstance(maps, pd.DataFrame) else \
                    pd.DataFrame(np.atleast_2d(np.asarray(maps, dtype=float)))
                maps = align_to_index(frame, y.index, argument="covariates_within",
                                      what="Y map",
                                      record=self.fit_record_.setdefault("alignment", []))
            maps = np.atleast_2d(np.asarray(maps, dtype=float))
            if maps.shape[1] != values.shape[1]:
                raise InputError(f"covariates_within: expected {values.shape[1]} parcels; got "
                                 f"{maps.shape[1]}.")
            if within_y_specific:
                values = np.vstack([cleaning.regress_within(values[i:i + 1], maps[i:i + 1])
                                    for i in range(len(values))])
            else:
                values = cleaning.regress_within(values, maps)
            step["within"] = maps
        self.y_ = pd.DataFrame(values, index=y.index, columns=y.columns)
        if how in ("within", "both"):
            record["covariate_maps"] = int(step["within"].shape[0])
        self.transforms_.append(record)
        self.y_steps_.append(step)
        return self

    def _covariate_frame(self, cov, y: pd.DataFrame) -> pd.DataFrame:
        """The subject covariates, one row per Y map matched by label (a copy)."""
        if cov is None:
            raise InputError("covariates_between: expected a DataFrame with one row per Y map; "
                             "got None.")
        if isinstance(cov, pd.Series):
            cov = cov.to_frame()
        return pd.DataFrame(align_to_index(cov, y.index, argument="covariates_between",
                                           record=self.fit_record_.setdefault("alignment",
                                                                              [])))

    def reduce_x(self, reduction: str = "mean", mean_by_set: bool = False,
                 weighted_mean: bool = False, n_components: int | None = None,
                 min_ev: float | None = None, fa_method: str = "minres",
                 fa_rotation: str | None = "promax", seed: int | None = None,
                 **kwargs) -> NiSpace:
        """Reduce X to fewer maps: averages or components (NiSpace's ``reduce_x``).

        Always reduces X as fitted (a second call replaces the first reduction).
        The record, with explained variance and loadings, is returned by
        :meth:`get_x_reduction`; :meth:`get_x` returns the reduced maps and
        ``get_x(raw=True)`` the fitted ones.

        Parameters
        ----------
        reduction : {"mean", "median", "pca", "ica", "fa"}
            Parcel-wise mean or median of the X maps, or principal components,
            independent components (FastICA) or factors (maps as variables,
            parcels as observations); see :func:`nispace.stats.reduce.reduce_x`.
        mean_by_set : bool
            Reduce every set of X (its ``"set"`` index level, e.g. from a
            set-structured collection) on its own: one mean/median map per set,
            or ``n_components`` components per set (index ``["set", "map"]``
            with maps ``c0, c1, ...``, so XSEA can aggregate them by set).
            Default False: all maps together.
        weighted_mean : bool
            ``"mean"`` only: weight the maps by X's ``"weight"`` index level.
        n_components : int, optional
            Components (per set) for ``"pca"``/``"ica"``/``"fa"``; default as many
            as the data allow. Components are named ``c0, c1, ...``.
        min_ev : float in (0, 1], optional
            ``"pca"``/``"fa"`` instead of `n_components`: the fewest components
            whose explained variance adds up to at least `min_ev` (a WARNING
            when even all components explain less).
        fa_method : {"minres", "ml", "principal"}
            Factor extraction for ``"fa"``.
        fa_rotation : str or None
            Factor rotation for ``"fa"`` (default ``"promax"``): with
            ``"minres"`` or ``"principal"`` any of
            :data:`nispace.stats.reduce.FA_ROTATIONS` (nispace's own factor
            analysis); ``fa_method="ml"`` runs scikit-learn and takes None,
            ``"varimax"`` or ``"quartimax"``.
        seed : int, optional
            Seed for ICA and FA; default the object's ``seed``.
        **kwargs
            NiSpace's ``store`` and ``verbose``, at their default only.

        Returns
        -------
        NiSpace
            self, with X reduced.
        """
        _nispace_only("reduce_x", kwargs)
        from .results.reduction import XReduction
        from .stats.reduce import reduce_x

        self._check_fitted()
        check_bool(mean_by_set, "mean_by_set")
        check_bool(weighted_mean, "weighted_mean")
        check_seed(seed)
        seed = self.seed if seed is None else seed
        with verbose_context(self.verbose):
            logger.info("*** NiSpace.reduce_x() - X dimensionality reduction. ***")
            x = self.x_raw_
            levels = list(x.index.names or [])
            sets = weights = None
            if mean_by_set:
                if "set" not in levels:
                    raise InputError(f"mean_by_set: X has no 'set' index level (levels "
                                     f"{levels}); use a set-structured x_collection or "
                                     f"mean_by_set=False.")
                sets = x.index.get_level_values("set").to_numpy()
            if weighted_mean:
                if not (isinstance(reduction, str) and reduction.lower() == "mean"):
                    raise InputError(f"weighted_mean: only used by reduction='mean'; got "
                                     f"reduction={reduction!r}.")
                if "weight" not in levels:
                    raise InputError(f"weighted_mean: X has no 'weight' index level "
                                     f"(levels {levels}); use weighted_mean=False.")
                weights = x.index.get_level_values("weight").to_numpy(dtype=float)
            out = reduce_x(x.to_numpy(), reduction, sets=sets, weights=weights,
                           n_components=n_components, seed=seed, min_ev=min_ev,
                           fa_method=fa_method, fa_rotation=fa_rotation)
            method = reduction.lower()
            if out.sets is not None:
                index = pd.MultiIndex.from_arrays([out.sets, out.labels], names=["set", "map"])
            else:
                index = pd.Index(out.labels, name="x")
            self.x_ = pd.DataFrame(out.maps, index=index, columns=x.columns).astype(self.dtype)
            options: dict[str, Any] = dict(mean_by_set=mean_by_set,
                                           weighted_mean=weighted_mean,
                                           n_components=n_components, min_ev=min_ev,
                                           seed=seed, n_maps_in=len(x), n_maps_out=len(index))
            if method == "fa":
                options.update(fa_method=fa_method, fa_rotation=fa_rotation)
            ev = (None if out.explained_variance is None
                  else pd.Series(out.explained_variance, index=index, name="ev"))
            if min_ev is not None and ev is not None:
                totals = ev.groupby(level="set", sort=False).sum() if out.sets is not None \
                    else pd.Series({"all maps": ev.sum()})
                short = totals[totals < min_ev - 1e-12]
                if len(short):
                    logger.warning("min_ev=%s: all components together explain only %s; "
                                   "kept all of them.", min_ev,
                                   ", ".join(f"{v:.3f} ({k})" for k, v in short.items()))
                    options["min_ev_not_reached"] = {str(k): float(v) for k, v in short.items()}
            loadings = (None if out.loadings is None
                        else pd.DataFrame(out.loadings, index=x.index, columns=index))
            self.x_reduction_ = XReduction(method, options, ev, loadings)
            self.transforms_.append({"reduce_x": method, **{
                k: v for k, v in options.items() if k not in ("n_maps_in", "n_maps_out")}})
            logger.info("Reduced X from %d to %d maps (%s).", len(x), len(index), method)
            return self

    def get_x_reduction(self):
        """The record of the last :meth:`reduce_x`: method, options, explained variance
        and loadings (read-only; tables come back as copies).

        Returns
        -------
        nispace.results.reduction.XReduction
        """
        self._check_fitted()
        record = getattr(self, "x_reduction_", None)
        if record is None:
            raise MissingResultError("No X reduction yet; call nsp.reduce_x('pca') (or "
                                     "'mean', 'median', 'ica', 'fa') first.")
        return record

    # ----------------------------------------------------------------------------------
    # colocalization

    def colocalize(self, method: str = "spearman", xsea: bool = False,
                   xsea_aggr: str = "mean", fisher_z: bool = False, zy_matched: bool = False,
                   r2_adjusted: bool = True, regress_z: bool = True, **kwargs) -> NiSpace:
        """Colocalize every Y map with the X maps.

        ``fisher_z``, ``xsea_aggr``, ``r2_adjusted`` and mlr's ``individual`` may be
        given under NiSpace's names ``r_to_z``, ``xsea_aggregation_method``,
        ``adj_r2`` and ``mlr_individual``; ``seed``
        overrides the object's seed (cross-validated methods). Correlations are
        reported as r unless ``fisher_z=True`` (NiSpace: Fisher z by default); the
        permutation p-values are the same either way. ``regress_z`` (default True, as
        in NiSpace): Z, if given, is regressed out of X and Y for the non-partial
        methods; False ignores Z for them. NiSpace's other parameters
        (``X_reduction``, ``Y_transform``, ``X``, ``Y``, ``Z``, ``store``, ...) are
        accepted with their default only; other values raise an error naming the
        nispace way.

        Results are stored as a :class:`~nispace.results.ColocalizationResult`
        under the method name (``"spearman"``, or ``"spearman_xsea"`` with
        ``xsea=True``) and returned by :meth:`get_colocalizations` as DataFrames
        (rows Y labels, columns X labels, or sets with ``xsea=True``; model-level
        statistics such as ``r2`` of ``mlr`` as one column). Colocalizing again
        under the same name replaces the result and discards the permutations and
        corrections built on the earlier one.

        Parameters
        ----------
        method : str
            Colocalization method (:data:`nispace.stats.COLOC_METHODS`), default
            ``"spearman"``; ``partial*`` methods need Z.
        xsea : bool
            Aggregate the colocalizations over the sets of X (X-set enrichment).
        xsea_aggr : str
            Aggregation of a set's colocalizations (:data:`nispace.stats.xsea.AGGREGATIONS`,
            default ``"mean"``; correlations are averaged on Fisher's z scale).
        fisher_z : bool
            Report Fisher-z transformed correlations.
        zy_matched : bool
            ``Z[i]`` belongs to ``Y[i]`` and is regressed out of ``Y[i]`` only.
        r2_adjusted : bool
            Adjusted R² for the regression methods.
        **kwargs
            Further options of :func:`nispace.stats.colocalize` (e.g. ``cv``).

        Returns
        -------
        NiSpace
            This object, with the result stored.
        """
        from .results.provenance import base_provenance
        from .stats.coloc import colocalize

        from .stats.coloc import COLOC_METHODS
        from .stats.xsea import AGGREGATIONS

        fisher_z = _alias(kwargs, "r_to_z", "fisher_z", fisher_z, False)
        xsea_aggr = _alias(kwargs, "xsea_aggregation_method", "xsea_aggr", xsea_aggr, "mean")
        r2_adjusted = _alias(kwargs, "adj_r2", "r2_adjusted", r2_adjusted, True)
        if "mlr_individual" in kwargs:  # NiSpace's name of mlr's "individual"
            individual = _alias(kwargs, "mlr_individual", "individual",
                                kwargs.pop("individual", False), False)
            if individual or method == "mlr":
                kwargs["individual"] = individual
        seed = kwargs.pop("seed", None)
        check_seed(seed)
        seed = self.seed if seed is None else seed
        kwargs = _nispace_only("colocalize", kwargs, strict=False)
        check_bool(regress_z, "regress_z")
        check_bool(fisher_z, "fisher_z")
        if not isinstance(method, str):
            raise InputTypeError(f"method: expected a colocalization method name such as "
                                 f"'spearman'; got {method!r} (a {type(method).__name__}).")
        check_option("method", method, list(COLOC_METHODS))
        check_bool(xsea, "xsea")
        check_option("xsea_aggr", xsea_aggr, list(AGGREGATIONS))
        self._check_fitted()
        with verbose_context(self.verbose):
            logger.info("*** NiSpace.colocalize() - Estimating X & Y colocalizations. ***")
            x, y = self.x_, self.get_y()
            z = self.z_.to_numpy() if self.z_ is not None else None
            if not regress_z and not method.startswith("partial"):
                z = None
            if method.startswith("partial") and z is None:
                raise InputError(f"method: {method!r} needs Z maps; pass z= to NiSpace.")
            if method in _CV_METHODS and "coords" not in kwargs:
                if self.parcellation_ is None:
                    logger.warning("No parcellation: the cross-validation folds of %r are "
                                   "contiguous blocks of the parcel order, not spatial "
                                   "clusters; pass coords= for spatial blocks.", method)
                    self.fit_record_["cv_folds"] = "contiguous blocks of the parcel order"
                else:  # also for one hemisphere: the positions match by label
                    kwargs["coords"] = \
                        self.parcellation_.get_centroids()[self._parcel_positions()]
            stats = colocalize(x.to_numpy(), y.to_numpy(), method, Z=z, fisher_z=fisher_z,
                               zy_matched=zy_matched, r2_adjusted=r2_adjusted,
                               seed=seed, **kwargs)
            self_pairs = self.y_ is None
            results: dict[str, pd.DataFrame] = {}
            for stat, arr in stats.items():
                arr = np.asarray(arr, dtype=float)
                if arr.ndim == 2 and arr.shape == (len(y), len(x)):
                    if self_pairs:
                        np.fill_diagonal(arr, np.nan)
                    frame = pd.DataFrame(arr, index=y.index, columns=x.index)
                    if xsea:
                        # average correlations on Fisher's z scale, as NiSpace does
                        frame = self._aggregate_sets(frame, xsea_aggr,
                                                     rho_scale=stat == "rho" and not fisher_z)
                else:
                    frame = pd.DataFrame(arr.reshape(len(y), -1), index=y.index,
                                         columns=[stat] if arr.size == len(y) else None)
                results[stat] = frame
            key = method + ("_xsea" if xsea else "")
            self._warn_nan_stats(key, results)
            self._discard_permutations(key)
            self.colocalizations_[key] = ColocalizationResult(
                key=key, method=method, xsea=xsea, xsea_aggr=xsea_aggr,
                options={"fisher_z": fisher_z, "zy_matched": zy_matched,
                         "r2_adjusted": r2_adjusted, **kwargs},
                stats=results, provenance={**base_provenance(self),
                                           "regress_z": bool(regress_z)})
            logger.info("Stored %s colocalization statistics: %s.", key, list(results))
            return self

    def _aggregate_sets(self, frame: pd.DataFrame, how: str,
                        rho_scale: bool = False) -> pd.DataFrame:
        from .stats.xsea import aggregate_sets

        names = self.x_.index.names or []
        if "set" not in names:
            hint = ""
            if isinstance(self.x, str) and self.x_collection is None:
                hint = (f" NiSpace(x={self.x!r}) loads all maps of the dataset; pass "
                        f"x_collection= (e.g. its default collection, see `nispace list "
                        f"collections --dataset {self.x}`) or use nispace.workflows.xsea, "
                        f"which applies the default.")
            raise InputError("xsea: X needs a ['set', 'map'] index (e.g. a set-structured "
                             "collection); got index levels " f"{names}.{hint}")
        sets = self.x_.index.get_level_values("set").to_numpy()
        weights = (self.x_.index.get_level_values("weight").to_numpy(dtype=float)
                   if "weight" in names else None)
        values, set_names = aggregate_sets(frame.to_numpy(), sets, how=how, weights=weights,
                                           rho_scale=rho_scale)
        return pd.DataFrame(values, index=frame.index, columns=pd.Index(set_names, name="set"))

    def get_colocalizations(self, method: str | None = None, stat: str | None = None,
                            get_nulls: bool = False, normalized: bool = False,
                            permute_what: str | None = None, z_method: str | None = None):
        """Stored colocalizations (only reads; never computes).

        Parameters
        ----------
        method : str, optional
            The method (``"spearman"``, ``"mlr"``, ``"spearman_xsea"``, ...). May be
            omitted only when a single method has been run.
        stat : str, optional
            One statistic (``"rho"``, ``"r2"``, ``"beta"``, ...); may be omitted when
            the method has only one. Every getter returns one type: a DataFrame
            (arrays for nulls); all statistics of a method are in
            ``nsp.get_colocalization_result(method).stats``.
        get_nulls : bool
            Also return the null colocalizations, arrays ``(n_perm, n_rows,
            n_cols)``: ``(colocalizations, nulls)``.
        normalized : bool
            Return the colocalizations as z-scores against their null distribution
            (needs :meth:`permute`): with ``z_method``, else as chosen in
            :meth:`normalize_colocalizations`, else ``"zscore"``.
        permute_what : str, optional
            Which permutation (``"xmaps"``, ``"groups"``, ...) for ``normalized`` and
            ``get_nulls``; may be omitted when the method was permuted one way.
        z_method : {"zscore", "robust"}, optional
            ``"zscore"``: ``(observed - mean(null)) / sd(null)``; ``"robust"``:
            ``(observed - median(null)) / (1.4826 MAD(null))`` (NaN for a zero MAD).
        """
        self._check_fitted()
        key = self._coloc_key(method)
        if normalized:
            result = self._normalized(key, permute_what, stat, z_method)
        else:
            result = self.colocalizations_[key].get(stat)
        if not get_nulls:
            return result
        return result, self._permutation(key, permute_what).get_nulls(stat)

    def normalize_colocalizations(self, method: str | None = None, z_method: str = "robust",
                                  permute_what: str | None = None, **kwargs) -> NiSpace:
        """Choose how colocalizations are scored against their null distribution.

        Sets what :meth:`get_colocalizations` ``(normalized=True)`` returns
        (NiSpace's step). The z-scores are computed from the stored permutation when
        read, so they always belong to the current one.

        Parameters
        ----------
        method : str, optional
            The colocalization method (default: the only one permuted);
            ``coloc_method`` is NiSpace's name for it.
        z_method : {"robust", "zscore"}
            ``"robust"`` (default, as in NiSpace): median and MAD x 1.4826 of the
            null; ``"zscore"``: mean and SD.
        permute_what : str, optional
            Which permutation (may be omitted when there is one).
        **kwargs
            NiSpace's other parameters, at their default only.

        Returns
        -------
        NiSpace
            This object.
        """
        method = _alias(kwargs, "coloc_method", "method", method, None)
        _nispace_only("normalize_colocalizations", kwargs)
        check_option("z_method", z_method, ["robust", "zscore"])
        self._check_fitted()
        perm = self._permutation(method, permute_what)
        self._normalized(perm.key, perm.permute_what, None if len(perm.p) == 1 else
                         next(iter(perm.p)), z_method)  # checks that it can be computed
        self.__dict__.setdefault("normalizations_", {})[
            (perm.key, perm.permute_what)] = z_method
        return self

    def get_normalized_colocalizations(self, method: str | None = None,
                                       stat: str | None = None,
                                       permute_what: str | None = None,
                                       z_method: str | None = None):
        """NiSpace's getter: ``get_colocalizations(..., normalized=True)``.

        Parameters
        ----------
        method : str, optional
            The colocalization method (default: the only one).
        stat : str, optional
            The statistic, for methods with several.
        permute_what : str, optional
            Which permutation (may be omitted when there is one).
        z_method : {"robust", "zscore"}, optional
            Default: the one chosen with :meth:`normalize_colocalizations`, else
            ``"zscore"``.

        Returns
        -------
        DataFrame
            Y maps x X maps.
        """
        return self.get_colocalizations(method, stat, normalized=True,
                                        permute_what=permute_what, z_method=z_method)

    def _normalized(self, key: str, permute_what: str | None, stat: str | None,
                    z_method: str | None) -> pd.DataFrame:
        from .stats.effectsize import rzscore

        perm = self._permutation(key, permute_what)
        if z_method is None:
            z_method = getattr(self, "normalizations_", {}).get(
                (perm.key, perm.permute_what), "zscore")
        check_option("z_method", z_method, ["robust", "zscore"])
        if z_method == "zscore":
            return perm.get_z(stat)
        obs = perm.get_observed(stat)
        null = perm.get_nulls(stat if stat is not None else next(iter(perm.p)))
        z = rzscore(obs.to_numpy(dtype=float).reshape(1, -1),
                    null.reshape(len(null), -1)).reshape(obs.shape)
        return pd.DataFrame(z, index=obs.index, columns=obs.columns)

    # ----------------------------------------------------------------------------------
    # result objects: lookup, staleness

    def _reset_results(self) -> None:
        #: ``{method key: ColocalizationResult}``
        self.colocalizations_: dict[str, ColocalizationResult] = {}
        #: ``{method key: {permute_what: PermutationResult}}``
        self.permutations_: dict[str, dict[str, PermutationResult]] = {}
        #: every CorrectionResult, oldest first
        self.corrections_: list[CorrectionResult] = []
        #: the last correlate_within_region() (``{}`` before it)
        self.within_region_: dict = {}

    def _discard_permutations(self, key: str, permute_what: str | None = None) -> None:
        """Drop the permutations (and their corrections) built on the result ``key``."""
        kinds = self.permutations_.get(key, {})
        drop = list(kinds) if permute_what is None else \
            [permute_what] if permute_what in kinds else []
        if drop:
            logger.info("Discarding the %s permutation(s) of the earlier '%s' result and "
                        "their corrections.", drop, key)
        for what in drop:
            del kinds[what]
        self.corrections_ = [c for c in self.corrections_
                             if not (c.key == key and c.permute_what in drop)]

    def _coloc_key(self, method: str | None, permuted: bool = False) -> str:
        """The stored colocalization named by ``method`` (with ``permuted``: among those
        that were permuted)."""
        store = self.colocalizations_
        done = [k for k in store if not permuted or self.permutations_.get(k)]
        if not store:
            raise MissingResultError("No colocalizations yet; call nsp.colocalize(method) "
                                     "first.")
        if not done:
            raise MissingResultError("No permutations yet; call nsp.permute(...) first.")
        if method is None:
            if len(done) > 1:
                raise InputError(f"method: several methods were run ({done}); name one.")
            return done[0]
        if method not in store and f"{method}_xsea" in store:
            method = f"{method}_xsea"
        if permuted and method in store and method not in done:
            raise MissingResultError(f"No permutations of the {method!r} colocalization yet; "
                                     f"call nsp.permute(method={method!r}) first.")
        check_option("method", method, done)
        return method

    def _permutation(self, method: str | None, permute_what: str | None = None
                     ) -> PermutationResult:
        key = self._coloc_key(method, permuted=True)
        kinds = self.permutations_[key]
        if permute_what is None:
            if len(kinds) > 1:
                raise InputError(f"permute_what: {key!r} was permuted in several ways "
                                 f"({list(kinds)}); name one, e.g. "
                                 f"permute_what={next(iter(kinds))!r}.")
            return next(iter(kinds.values()))
        if permute_what == "maps":  # "maps" names the only map permutation
            maps = [k for k in kinds if k.endswith("maps")]
            permute_what = maps[0] if len(maps) == 1 else permute_what
        check_option("permute_what", permute_what, list(kinds))
        return kinds[permute_what]

    def _correction(self, method: str | None, permute_what: str | None,
                    mc_method: str | None, mc_dimension: str | None) -> CorrectionResult:
        """The newest correction matching the arguments (``None`` matches any)."""
        perm = self._permutation(method, permute_what)
        canonical = None
        if mc_method is not None:
            from .stats.correction import canonical_mc_method

            canonical = canonical_mc_method(mc_method, "mc_method")
        found = [c for c in self.corrections_
                 if c.key == perm.key and c.permute_what == perm.permute_what
                 and (canonical is None or c.mc_method == canonical)
                 and (mc_dimension is None or c.mc_dimension == mc_dimension)]
        if not found:
            call = (f"nsp.correct_p(mc_method={mc_method or 'meff'!r}"
                    + (f", mc_dimension={mc_dimension!r}" if mc_dimension else "")
                    + f", method={perm.key!r}"
                    + (f", permute_what={perm.permute_what!r})"
                       if len(self.permutations_[perm.key]) > 1 else ")"))
            what = f"{canonical!r} " if canonical else ""
            raise MissingResultError(f"No {what}corrected p-values of the {perm.key!r} "
                                     f"permutation ({perm.permute_what}); call {call} first.")
        return found[-1]

    def get_colocalization_result(self, method: str | None = None) -> ColocalizationResult:
        """The :class:`~nispace.results.ColocalizationResult` of ``method`` (only reads).

        Parameters
        ----------
        %(method)s

        Returns
        -------
        ColocalizationResult
        """
        self._check_fitted()
        return self.colocalizations_[self._coloc_key(method)]

    def get_permutation_result(self, method: str | None = None,
                               permute_what: str | None = None) -> PermutationResult:
        """The :class:`~nispace.results.PermutationResult` of one permutation (only reads).

        Parameters
        ----------
        %(method)s
        %(permute_what)s

        Returns
        -------
        PermutationResult
        """
        self._check_fitted()
        return self._permutation(method, permute_what)

    def get_correction_result(self, method: str | None = None,
                              permute_what: str | None = None, mc_method: str | None = None,
                              mc_dimension: str | None = None) -> CorrectionResult:
        """The :class:`~nispace.results.CorrectionResult` asked for (only reads).

        Parameters
        ----------
        %(method)s
        %(permute_what)s
        mc_method : str or None
            Which correction (``"meff"``, ``"fdr_bh"``, ...); None: the last
            correction of the permutation.
        mc_dimension : {"x", "y", "array"} or None
            Which family of that correction; None: the last one.

        Returns
        -------
        CorrectionResult
        """
        self._check_fitted()
        return self._correction(method, permute_what, mc_method, mc_dimension)

    @staticmethod
    def _step_call(step: dict) -> str:
        if "y" in step:
            return f"transform_y({step['y']!r})"
        if "z" in step:
            return f"transform_z({step['z']!r})"
        if "clean_y" in step:
            return f"clean_y(how={step['clean_y']!r})"
        if "reduce_x" in step:
            return f"reduce_x({step['reduce_x']!r})"
        return repr(step)

    def _check_current(self, result, what: str, call: str) -> None:
        """Raise if X, Y or Z changed since ``result`` was computed."""
        from .results.provenance import content_hash

        data = result.provenance.get("data", {})
        now = {"x": self.x_, "y": self._y(), "z": self.z_}
        changed = [k.upper() for k, frame in now.items()
                   if (data.get(k) or {}).get("sha256") != content_hash(frame)]
        if not changed:
            return
        steps = self.transforms_[len(result.provenance.get("steps", [])):]
        since = (", ".join(self._step_call(s) for s in steps) if steps
                 else f"{'/'.join(changed)} changed")
        raise StaleResultError(f"The {what} was computed before {since}; call {call} again.")

    def _check_coloc_current(self, key: str) -> None:
        coloc = self.colocalizations_[key]
        call = f"nsp.colocalize({coloc.method!r}" + (", xsea=True)" if coloc.xsea else ")")
        self._check_current(coloc, f"{key!r} colocalization", call)

    def to_frame(self, method: str | None = None, permute_what: str | None = None,
                 mc_method: str | None = None) -> pd.DataFrame:
        """All results as one tidy table (the CLI's ``results.csv``).

        One row per (method, permutation, statistic, Y map, X map); columns
        ``method``, ``permute_what``, ``stat``, ``y``, ``x`` (``set`` for XSEA),
        ``value``, ``p``, ``q`` (corrected p), ``mc_method``, ``mc_dimension``, ``z``
        (see :mod:`nispace.results.tidy`). A colocalization without permutation
        gives rows with ``p``/``q``/``z`` NaN and ``permute_what`` ``"none"``; a
        colocalization permuted in several ways gives one block per permutation.

        Parameters
        ----------
        method : str, optional
            One stored colocalization (default: all).
        permute_what : str, optional
            One permutation kind (default: all).
        mc_method : str, optional
            Which correction fills ``q`` (default: the last one of each permutation).
        """
        from .results.tidy import tidy_frame

        self._check_fitted()
        keys = list(self.colocalizations_) if method is None else [self._coloc_key(method)]
        if not keys:
            raise MissingResultError("No colocalizations yet; call nsp.colocalize(method) "
                                     "first.")
        parts = []
        for key in keys:
            coloc = self.colocalizations_[key]
            kinds = self.permutations_.get(key, {})
            if permute_what is not None:
                kinds = {permute_what: self._permutation(key, permute_what)}
            if not kinds:
                parts.append(tidy_frame(coloc))
            for perm in kinds.values():
                try:
                    corr = self._correction(key, perm.permute_what, mc_method, None)
                except MissingResultError:
                    if mc_method is not None:
                        raise
                    corr = None
                parts.append(tidy_frame(coloc, perm, corr))
        return pd.concat(parts, ignore_index=True)

    # ----------------------------------------------------------------------------------
    # permutation, p-values, corrections

    def _parcel_positions(self) -> np.ndarray:
        """Positions of the data's parcels in the parcellation's label order."""
        if self.parcellation_ is None:
            raise InputError("parcellation: this object was fitted with parcellation=None, "
                             "so the parcels have no positions in an atlas; pass "
                             "parcellation= to NiSpace.")
        labels = list(self.parcellation_.labels)
        pos = {lab: i for i, lab in enumerate(labels)}
        cols = list(self.x_.columns)
        unknown = [c for c in cols if c not in pos]
        if len(pos) == len(labels) and not unknown:
            return np.array([pos[c] for c in cols])
        raise StateError(f"The data's parcels cannot be matched to parcellation "
                         f"{self.parcellation_.name!r} by label (e.g. {unknown[:3]} are not "
                         f"among its labels); pass null_maps= or dist_mat= for your parcels.")

    def _coloc_spec(self, key: str):
        from .permute.spec import ColocSpec, SetSpec

        coloc = self.colocalizations_[key]
        options = coloc.options.to_dict()
        sets = None
        if coloc.xsea:
            names = self.x_.index.names
            sets = SetSpec(self.x_.index.get_level_values("set").to_numpy(),
                           how=coloc.xsea_aggr,
                           weights=(self.x_.index.get_level_values("weight")
                                    .to_numpy(dtype=float) if "weight" in names else None),
                           fisher_z=options.get("fisher_z", False))
        z = self.z_.to_numpy() if self.z_ is not None else None
        if coloc.provenance.get("regress_z") is False and not coloc.method.startswith("partial"):
            z = None  # colocalize(regress_z=False)
        return ColocSpec(coloc.method, Z=z, options=options, sets=sets,
                         self_pairs=self.y_ is None)

    def permute(self, what: str = "maps", method: str | None = None,
                maps_which: str | None = None, null_method=None, n_perm: int = 10000,
                p_tails: str | dict | None = None, pooled_p: bool | str | None = None,
                null_maps=None, dist_mat=None, groups=None, subjects=None,
                paired: bool = False, seed: int | None = None, n_proc: int | None = None,
                use_cache: bool = True, null_kwargs: dict | None = None,
                **kwargs) -> NiSpace:
        """Exact permutation p-values for stored colocalizations.

        Parameters
        ----------
        what : {"maps", "groups", "sets", "pairs"}
            ``"maps"``: spatial null maps of X, Y or both (``maps_which``);
            ``"groups"``: permute the group labels of the subject data and replay
            every Y step (cleaning, transform); ``"sets"``: XSEA sets against random
            sets of the same size from all X maps; ``"pairs"``: within-pair vs
            re-paired colocalizations (Y_i with X_i; SPICE).
        method : str, optional
            Stored colocalization to test (``"spearman"``, ``"spearman_xsea"``, ...);
            may be omitted when only one was run.
        maps_which : {"X", "Y", "XY"}, optional
            Maps to replace by nulls (default X, or Y for XSEA).
        null_method : str or tuple, optional
            Null model (:data:`nispace.nulls.NULL_METHODS`, or a split such as
            ``"spin+moran"`` for combined parcellations); default: spins for
            cortical parcellations with a surface, else Moran.
        n_perm : int
            Number of permutations: a positive integer up to 1,000,000
            (:data:`nispace._validate.MAX_N_PERM`; the environment variable
            ``NISPACE_MAX_N_PERM`` raises the bound). Checked, with ``seed``,
            ``n_proc``, ``p_tails``, ``null_method`` and ``pooled_p``, before anything
            is permuted.
        p_tails : {"two", "upper", "lower"} or dict, optional
            Tail for all statistics or per statistic; defaults per statistic
            (:data:`nispace.stats.pvalues.DEFAULT_TAILS`).
        pooled_p : bool or {"mean", "median", "auto"}, optional
            Average the colocalizations of all Y maps (observed and every null)
            and compute one p per X map. Default: one p per Y map (``False``);
            NiSpace's default is ``"auto"`` (``"mean"`` for several Y maps), so
            omitting it with several Y maps logs a WARNING (once per object).
        null_maps : dict or ndarray, optional
            Your own null maps: ``{label: (n_perm, n_parcels)}`` for the permuted maps,
            or an array ``(n_maps, n_perm, n_parcels)``.
        dist_mat : ndarray, optional
            Parcel distances for distance-based nulls (default: the parcellation's).
        groups, subjects, paired
            For ``what="groups"``: labels to permute (default: those given to
            ``transform_y``) and exchangeability within subjects.
        seed, n_proc : optional
            Default: the object's. Results are identical for any ``n_proc``.
        use_cache : bool
            Reuse null maps cached on disk for the same maps, model, n_perm and seed.
        null_kwargs : dict, optional
            Options of the null model.
        **kwargs
            NiSpace's names: ``maps_method`` (= ``null_method``), ``maps_nulls``
            (= ``null_maps``), ``p_from_average_y_coloc`` (= ``pooled_p``),
            ``groups_paired`` (= ``paired``); ``what`` may be a list of one. Its
            combined permutations (``what=["maps", "groups"]``), ``maps_*`` /
            ``distmat_*`` options and ``sets_X_background`` raise an error naming the
            nispace way.

        Notes
        -----
        The result is a :class:`~nispace.results.PermutationResult` stored under
        the method and ``permute_what`` (``"groups"``, ``"xmaps"``, ``"ymaps"``,
        ``"xymaps"``, ``"sets"``, ``"pairs"``): permutations of several kinds
        coexist; permuting the same kind again replaces it (and its corrections).
        If X, Y or Z changed since the colocalization (e.g. :meth:`transform_y`), a
        :class:`~nispace.results.StaleResultError` names the call to make.
        """
        from .permute import engine
        from .results.provenance import base_provenance
        from .stats import pvalues

        null_method = _alias(kwargs, "maps_method", "null_method", null_method, None)
        null_maps = _alias(kwargs, "maps_nulls", "null_maps", null_maps, None)
        pooled_p = _alias(kwargs, "p_from_average_y_coloc", "pooled_p", pooled_p, None)
        paired = _alias(kwargs, "groups_paired", "paired", paired, False)
        prefixed = [k for k in kwargs if k.startswith(("maps_", "distmat_", "groups_"))]
        if prefixed:
            raise InputError(f"permute({prefixed[0]}=...): NiSpace's prefixed options are "
                             f"not nispace parameters: pass null-model options as "
                             f"null_kwargs={{...}} and distances as dist_mat=.")
        _nispace_only("permute", kwargs)
        if isinstance(what, (list, tuple)):
            if len(what) != 1:
                raise InputError(f"what: nispace runs one permutation per call; got {what!r}. "
                                 f"Call nsp.permute(what=...) once for each; the results are "
                                 f"stored side by side (permute_what 'xmaps', 'groups', ...).")
            what = what[0]
        check_option("what", what, ["maps", "groups", "sets", "pairs"])
        if what == "groups" and getattr(self, "binary_y", False):
            raise InputError("what='groups': binary_y=True (binary Y maps) cannot be group "
                             "permuted, as in NiSpace; use what='maps'.")
        check_seed(seed)
        check_n_proc(n_proc)
        check_tails(p_tails)
        check_bool(paired, "paired")
        check_bool(use_cache, "use_cache")
        pvalues.resolve_pooled_p(pooled_p, 2)  # checks the value only
        if maps_which is not None:
            check_option("maps_which", str(maps_which).upper(), ["X", "Y", "XY"])
        if null_method is not None:
            from .nulls import parse_null_method

            parse_null_method(null_method)
        self._check_fitted()
        if what == "maps" and maps_which is not None and "Y" in str(maps_which).upper() \
                and self.y_ is None:
            raise InputError(f"maps_which: {maps_which!r} permutes Y, but this object has no "
                             f"Y maps (X is colocalized with itself); use maps_which='X'.")
        n_y = len(self._y())
        check_n_perm(n_perm, n_y, len(self.x_))
        seed = self.seed if seed is None else seed
        n_proc = engine.resolve_n_proc(self.n_proc if n_proc is None else n_proc)
        with verbose_context(self.verbose):
            logger.info("*** NiSpace.permute() - Estimate exact non-parametric p values. ***")
            key = self._coloc_key(method)
            self._check_coloc_current(key)
            coloc = self.colocalizations_[key]
            observed = coloc.stats.to_dict()
            pvalues.resolve_tails(p_tails, list(observed))  # statistic names, before work
            logger.info("Permutation of: %s (method '%s', n_perm = %d).", what, key, n_perm)
            extra: dict[str, Any] = {}
            null_model, which = None, None
            if what == "maps":
                nulls, info = self._permute_maps(key, maps_which, null_method, n_perm,
                                                 null_maps, dist_mat, seed, n_proc,
                                                 use_cache, null_kwargs)
                null_model, which = info["null_method"], info["maps_which"]
            elif what == "groups":
                nulls = self._permute_groups(key, n_perm, groups, subjects, paired, seed,
                                             n_proc)
            elif what == "sets":
                nulls = self._permute_sets(key, n_perm, seed, n_proc)
            else:
                observed, nulls, extra = self._permute_pairs(key, n_perm, seed, n_proc)
            stats = [s for s in observed if s in nulls
                     and nulls[s].shape[1:] == observed[s].shape]
            if not stats:
                raise InputError(f"what={what!r}: the nulls of {key!r} match none of its "
                                 f"statistics ({list(observed)}); nothing to test.")
            tails = pvalues.resolve_tails(p_tails, stats, pvalues.DEFAULT_TAILS)
            if pooled_p is None and len(self._y()) > 1:
                self._warn_once("pooled_p", "permute: pooled_p not given: one p per Y map "
                                "(pooled_p=False). NiSpace's default 'auto' pools the %d Y "
                                "maps ('mean'); pass pooled_p= to choose.", len(self._y()))
            pooled = pvalues.resolve_pooled_p(pooled_p, len(self._y()))
            logger.info("Calculating exact p-values (tails = %s%s).", tails,
                        f", pooled: {pooled}" if pooled else "")
            p_frames, z_frames, null_store, obs_store = {}, {}, {}, {}
            for stat in stats:
                obs = observed[stat]
                null = nulls[stat]
                values = obs.to_numpy(dtype=float)
                index = obs.index
                if pooled:
                    values = pvalues.pool_colocalizations(values, pooled)
                    null = pvalues.pool_colocalizations(null, pooled)
                    index = pd.Index([f"pooled_{pooled}"], name=obs.index.name or "y")
                p = pvalues.null_to_p(values, null, tail=tails[stat])
                z = pvalues.null_zscore(values, null)
                p_frames[stat] = pd.DataFrame(p, index=index, columns=obs.columns)
                z_frames[stat] = pd.DataFrame(z, index=index, columns=obs.columns)
                obs_store[stat] = pd.DataFrame(values, index=index, columns=obs.columns)
                null_store[stat] = null
            permute_what = f"{which.lower()}maps" if what == "maps" else what
            self._discard_permutations(key, permute_what)
            self.permutations_.setdefault(key, {})[permute_what] = PermutationResult(
                key=key, permute_what=permute_what, kind=what, null_model=null_model,
                n_perm=int(n_perm), seed=seed, n_proc=n_proc, tails=tails, pooled=pooled,
                paired=bool(paired), maps_which=which, observed=obs_store, p=p_frames,
                z=z_frames, nulls=null_store, extra=extra,
                provenance=base_provenance(self))
            for stat in stats:
                n_sig = int((p_frames[stat].to_numpy() < 0.05).sum())
                logger.info("%s: %d/%d p < 0.05 (uncorrected).", stat, n_sig,
                            p_frames[stat].size)
            return self

    def _warn_once(self, topic: str, message: str, *args) -> None:
        """A WARNING about a NiSpace default that differs, once per object."""
        warned = self.__dict__.setdefault("_warned", set())
        if topic not in warned:
            warned.add(topic)
            logger.warning(message, *args)

    def _permute_maps(self, key, maps_which, null_method, n_perm, null_maps, dist_mat, seed,
                      n_proc, use_cache, null_kwargs):
        from .permute.maps import null_colocalizations_maps
        from .permute.models import null_model_for
        from .permute.nullmaps import prepare_null_maps

        coloc = self.colocalizations_[key]
        which = (maps_which or ("Y" if coloc.xsea else "X")).upper()
        check_option("maps_which", which, ["X", "Y", "XY"])
        x = self.x_
        y = self.get_y()
        standardize = self._standardize_set(self.standardize)
        model = desc = None
        sources = {}
        try:  # every prepared null source is cleaned up, also when a later one fails
            for side in which:
                frame = x if side == "X" else y
                if null_maps is not None:
                    sources[side] = self._user_nulls(null_maps, frame, side, n_perm)
                    desc = ("user-provided" if isinstance(null_maps, dict)
                            else "user-provided (an array, taken in the maps' order)")
                    continue
                if model is None:
                    if dist_mat is None and self.parcellation_dist_mat is not None:
                        dist_mat = self.parcellation_dist_mat
                    if self.parcellation_ is None:
                        model, desc = self._null_model_without_parcellation(
                            null_method, dist_mat, null_kwargs, x.shape[1])
                    else:
                        space = getattr(self, "fit_record_", {}).get("geometry_space")
                        model, desc = null_model_for(self.parcellation_, null_method,
                                                     keep=self._parcel_positions(),
                                                     dist_mat=dist_mat, null_kwargs=null_kwargs,
                                                     space=space)
                        self._warn_default_geometry(desc)
                    logger.info("Null model: %s.", desc)
                sources[side] = prepare_null_maps(
                    model, frame.to_numpy(dtype=float), list(frame.index), n_perm, seed,
                    n_proc=n_proc, use_cache=use_cache,
                    standardize=side.lower() in standardize, verbose=self.verbose)
            nulls = null_colocalizations_maps(
                self._coloc_spec(key), x.to_numpy(dtype=float), y.to_numpy(dtype=float),
                sources.get("X"), sources.get("Y"), n_proc=n_proc, verbose=self.verbose)
        finally:
            for src in sources.values():
                if hasattr(src, "cleanup"):
                    src.cleanup()
        return nulls, {"maps_which": which, "null_method": desc}

    def _warn_default_geometry(self, desc: str) -> None:
        """WARNING when distances are in a space that neither the data nor the user set."""
        record = getattr(self, "fit_record_", {})
        space = record.get("geometry_space")
        if "centroid distances" not in desc or space is None:
            return
        if self.parcellation_.is_surface(space):
            logger.warning("The data are on the surface (%s) but the null model (%s) uses "
                           "Euclidean distances between the parcels' volumetric centroids; "
                           "use a spin null for surface data or pass parcellation_dist_mat=.",
                           space, desc)
        elif record.get("geometry_space_source") == "parcellation default":
            logger.warning("The data are parcellated tables, so their space is not known; the "
                           "null model uses distances in the parcellation's default space "
                           "'%s'. Pass parcellation_space= if your tables were made in "
                           "another space.", space)

    @staticmethod
    def _null_model_without_parcellation(null_method, dist_mat, null_kwargs, n_parcels):
        """A null model from a distance matrix alone (``parcellation=None``)."""
        from . import nulls

        ask = ("pass parcellation= to NiSpace, a distance matrix between your parcels "
               "(NiSpace(parcellation_dist_mat=...) or permute(dist_mat=...)) for "
               "distance-based nulls such as 'moran', or your own null_maps=")
        if null_method is None:
            if dist_mat is None:
                raise InputError(f"permute(what='maps'): spatial null maps need the parcels' "
                                 f"geometry, but parcellation=None; {ask}.")
            null_method = "moran"
            logger.info("No parcellation: using null method 'moran' on the distance "
                        "matrix given.")
        method, second = nulls.parse_null_method(null_method)
        if second is not None or method in nulls.SPIN_METHODS:
            raise InputError(f"null_method: {null_method!r} needs a parcellation with a "
                             f"surface; got parcellation=None. Pass parcellation= to "
                             f"NiSpace, or use 'moran' or 'burt2020' with "
                             f"parcellation_dist_mat=.")
        kwargs = dict(null_kwargs or {})
        if method == "random":
            return nulls.make_null_model(method, n_parcels=n_parcels, **kwargs), method
        if dist_mat is None:
            raise InputError(f"null_method: {method!r} needs parcel distances, but "
                             f"parcellation=None; {ask}.")
        dist_mat = np.asarray(dist_mat, dtype=float)
        if dist_mat.shape != (n_parcels, n_parcels):
            raise InputError(f"parcellation_dist_mat: expected a ({n_parcels}, {n_parcels}) "
                             f"distance matrix in the data's parcel order; got shape "
                             f"{dist_mat.shape}.")
        return nulls.make_null_model(method, dist_mat=dist_mat, **kwargs), method

    @staticmethod
    def _user_nulls(null_maps, frame: pd.DataFrame, side: str, n_perm: int):
        from .permute.nullmaps import ArrayNulls

        n_maps, n_parcels = frame.shape
        if isinstance(null_maps, dict):
            missing = [lab for lab in frame.index if lab not in null_maps]
            if missing:
                raise InputError(f"null_maps: no null maps for {side} map(s) {missing[:3]}; "
                                 f"got keys {list(null_maps)[:5]}.")
            arr = np.stack([np.asarray(null_maps[lab], dtype=float) for lab in frame.index])
        else:
            arr = np.asarray(null_maps, dtype=float)
            if arr.ndim == 3 and arr.shape[0] == n_maps and n_maps > 1:
                logger.warning("null_maps: an array has no map labels; taken in the order of "
                               "the %s maps (%r ... %r). Pass {label: nulls} to match by "
                               "label.", side, frame.index[0], frame.index[-1])
        if arr.ndim != 3 or arr.shape[0] != n_maps or arr.shape[2] != n_parcels \
                or arr.shape[1] < n_perm:
            raise InputError(f"null_maps: expected shape ({n_maps}, >= n_perm={n_perm}, "
                             f"{n_parcels}) for the {side} maps; got {arr.shape}.")
        return ArrayNulls(arr[:, :n_perm])

    def _permute_groups(self, key, n_perm, groups, subjects, paired, seed, n_proc):
        from .permute.groups import null_colocalizations_groups

        if self.y_steps_ is None:
            raise InputError("what='groups': this object was loaded from a saved analysis, "
                             "which keeps the Y steps as hashes only; fit a new NiSpace "
                             "object to permute group labels.")
        steps = [dict(s) for s in self.y_steps_]
        y_raw = self.get_y(raw=True)
        if groups is not None:
            groups = self._align("groups", groups, y_raw)
            for s in steps:
                if s["kind"] == "transform" and s.get("groups") is not None:
                    s["groups"] = groups
        blocks = None
        if paired:
            if subjects is None:
                subjects = next((s.get("subjects") for s in steps
                                 if s["kind"] == "transform" and s.get("subjects") is not None),
                                None)
            if subjects is None:
                raise InputError("subjects: paired=True needs the subject id of every Y map "
                                 "(pass subjects= here or to transform_y).")
            blocks = self._align("subjects", subjects, y_raw)
        return null_colocalizations_groups(
            self._coloc_spec(key), self.x_.to_numpy(dtype=float), y_raw.to_numpy(dtype=float),
            steps, n_perm, seed, blocks=blocks, n_proc=n_proc, verbose=self.verbose)

    def _permute_sets(self, key, n_perm, seed, n_proc):
        from .permute.sets import null_colocalizations_sets
        from .stats.coloc import colocalize

        coloc = self.colocalizations_[key]
        if not coloc.xsea:
            raise InputError("what='sets' tests XSEA set statistics; run "
                             "nsp.colocalize(method, xsea=True) first.")
        spec = self._coloc_spec(key)
        x, y = self.x_, self.get_y()
        options = coloc.options.to_dict()
        stats = colocalize(x.to_numpy(), y.to_numpy(), coloc.method, Z=spec.Z, **options)
        pair = {k: np.asarray(v, float) for k, v in stats.items()
                if np.ndim(v) == 2 and np.shape(v) == (len(y), len(x))}
        sets = x.index.get_level_values("set")
        sizes = [int((sets == name).sum()) for name in spec.sets.names]
        fisher = options.get("fisher_z", False)
        return null_colocalizations_sets(pair, sizes, n_perm, seed, how=coloc.xsea_aggr,
                                         rho_scale={"rho": not fisher}, n_proc=n_proc,
                                         verbose=self.verbose)

    def _permute_pairs(self, key, n_perm, seed, n_proc):
        from .permute.pairs import null_colocalizations_pairs, pair_statistics

        coloc = self.colocalizations_[key]
        if coloc.xsea:
            raise InputError("what='pairs' needs map-level colocalizations, not XSEA sets.")
        stat = next((s for s in ("rho", "r2", "beta", "mi") if s in coloc.stats),
                    next(iter(coloc.stats)))
        frame = coloc.stats[stat]
        if frame.shape[0] != frame.shape[1]:
            raise InputError(f"what='pairs': expected as many Y as X maps (Y_i pairs with "
                             f"X_i); got {frame.shape[0]} Y and {frame.shape[1]} X maps.")
        summary = pair_statistics(frame.to_numpy())
        observed = {"within": pd.DataFrame([[summary["within"]]], index=pd.Index(["pairs"]),
                                           columns=[stat])}
        return observed, null_colocalizations_pairs(frame.to_numpy(), n_perm, seed,
                                                    n_proc=n_proc, verbose=self.verbose), \
            {"pair_summary": {k: float(v) for k, v in summary.items()
                              if np.ndim(v) == 0}}

    def correct_p(self, mc_method: str = "meff", method: str | None = None,
                  mc_dimension: str | None = None, permute_what: str | None = None,
                  mc_alpha: float = 0.05, **kwargs) -> NiSpace:
        """Correct the stored p-values for multiple comparisons.

        The result is a :class:`~nispace.results.CorrectionResult`; several
        corrections of one permutation coexist (address them with ``mc_method`` /
        ``mc_dimension`` in :meth:`get_p_values`); correcting the same way again
        replaces the earlier one.

        Parameters
        ----------
        mc_method : str
            ``"meff"`` (= ``"meffgalwey"``; Galwey 2009) or ``"meffliji"`` (Li & Ji
            2005): Šidák correction with the effective number of tests from the
            correlations of the maps; ``"maxT"`` / ``"step_maxT"`` (Westfall & Young
            1993) from the stored nulls; or any ``statsmodels`` ``multipletests``
            method (``"fdr_bh"``, ``"bonferroni"``, ``"holm"``, ... and NiSpace
            aliases such as ``"fdr"``, ``"fdrbh"``, ``"bonf"``).
        method : str, optional
            Which permuted colocalization (may be omitted if only one).
        mc_dimension : {"x", "y", "array"}, optional
            The family: X maps within each Y row (default), Y maps within each
            column, or all tests together. NiSpace's aliases (``"c"``, ``"col(s)"``,
            ``"column(s)"``, ``"r"``, ``"row(s)"``) are accepted. NiSpace's default is
            ``"array"``: omitting it with several Y rows logs a WARNING (once per
            object).
        permute_what : str, optional
            Which permutation of ``method`` (may be omitted if only one).
        mc_alpha : float
            Family-wise alpha passed to ``statsmodels`` ``multipletests``; it changes
            the adjusted p-values of the two-stage methods (``"fdr_tsbh"``,
            ``"fdr_tsbky"``) only.
        **kwargs
            ``coloc_method`` (NiSpace's name for ``method``); ``store`` and
            ``verbose`` with NiSpace's default only.
        """
        from .results.provenance import base_provenance
        from .stats import correction

        method = _alias(kwargs, "coloc_method", "method", method, None)
        _nispace_only("correct_p", kwargs)
        if isinstance(mc_alpha, bool) or not isinstance(mc_alpha, (int, float)) \
                or not 0 < mc_alpha < 1:
            raise InputError(f"mc_alpha: expected a number in (0, 1); got {mc_alpha!r}.")
        self._check_fitted()
        perm = self._permutation(method, permute_what)
        key = perm.key
        canonical = correction.canonical_mc_method(mc_method, "mc_method")
        if mc_dimension is None:
            mc_dimension = "x"
            if any(frame.shape[0] > 1 for frame in perm.p.values()):
                self._warn_once("mc_dimension", "correct_p: mc_dimension not given: each Y "
                                "row is one family of tests ('x'); NiSpace's default 'array' "
                                "corrects all tests together. Pass mc_dimension= to choose.")
        mc_dimension = _MC_DIMENSIONS.get(str(mc_dimension).lower(), mc_dimension)
        check_option("mc_dimension", mc_dimension, ["x", "y", "array"])
        self._check_current(perm, f"{key!r} permutation ({perm.permute_what})",
                            f"nsp.colocalize({self.colocalizations_[key].method!r}) and "
                            f"nsp.permute(what={perm.kind!r}, method={key!r}, ...)")
        out = {}
        for stat, p in perm.p.items():
            corr = self._mc_correlations(key, p, mc_dimension) \
                if canonical.startswith("meff") else None
            kwargs = {}
            if corr is not None:
                kwargs = {"corr_x": corr.get("x"), "corr_y": corr.get("y")}
            if canonical in ("maxt", "step_maxt"):
                kwargs = {"null": perm.get_nulls(stat),
                          "obs": perm.observed[stat].to_numpy(),
                          "tail": perm.tails[stat]}
            out[stat] = pd.DataFrame(
                correction.correct_p(p.to_numpy(), canonical, mc_dimension=mc_dimension,
                                     alpha=float(mc_alpha), **kwargs),
                index=p.index, columns=p.columns)
        self.corrections_ = [c for c in self.corrections_
                             if (c.key, c.permute_what, c.mc_method, c.mc_dimension)
                             != (key, perm.permute_what, canonical, mc_dimension)]
        prov = base_provenance(self)
        prov["permutation"] = perm.describe()
        self.corrections_.append(CorrectionResult(
            key=key, permute_what=perm.permute_what, mc_method=canonical,
            mc_dimension=mc_dimension, p=out, provenance=prov))
        return self

    def _mc_correlations(self, key: str, p: pd.DataFrame, mc_dimension: str):
        """Correlations among the tested maps, for the effective number of tests."""
        coloc = self.colocalizations_[key]
        spearman = "spearman" in coloc.method

        def corr(frame: pd.DataFrame) -> np.ndarray:
            values = frame.to_numpy(dtype=float)
            values = values[:, ~np.isnan(values).any(axis=0)]
            if spearman:
                from .stats.batch import rank_rows  # scipy's rankdata, without scipy.stats

                values = rank_rows(values, axis=1)
            return np.atleast_2d(np.corrcoef(values))

        x = self.x_
        if coloc.xsea:
            x = _set_means(x)
        out = {}
        if mc_dimension in ("x", "array"):
            out["x"] = corr(x) if p.shape[1] == len(x) else np.eye(p.shape[1])
        if mc_dimension in ("y", "array"):
            y = self.get_y()
            out["y"] = corr(y) if p.shape[0] == len(y) and len(y) > 1 else np.eye(p.shape[0])
        return out

    def get_p_values(self, method: str | None = None, stat: str | None = None,
                     mc_method: str | None = None, mc_dimension: str | None = None,
                     permute_what: str | None = None):
        """Permutation p-values (DataFrames like :meth:`get_colocalizations`).

        Only reads: with ``mc_method`` the p-values corrected by an earlier
        :meth:`correct_p` call with that method (and ``mc_dimension``, if given);
        if there is none, an error names the call to make.

        Parameters
        ----------
        method, stat : str, optional
            As in :meth:`get_colocalizations`.
        mc_method : str, optional
            Return corrected p-values (``"meff"``, ``"fdr_bh"``, ...).
        mc_dimension : {"x", "y", "array"}, optional
            Which correction of ``mc_method`` (default: the last one).
        permute_what : str, optional
            Which permutation (``"xmaps"``, ``"groups"``, ...); may be omitted when
            the method was permuted one way.
        """
        self._check_fitted()
        if mc_method is None:
            return self._permutation(method, permute_what).get_p(stat)
        return self._correction(method, permute_what, mc_method, mc_dimension).get_p(stat)

    def get_corrected_p_values(self, method: str | None = None, stat: str | None = None,
                               mc_method: str | None = None,
                               permute_what: str | None = None):
        """The p-values of the last :meth:`correct_p` call (only reads).

        Parameters
        ----------
        %(method)s
        %(stat)s
        mc_method : str or None
            The correction (None: the last one of the permutation).
        %(permute_what)s

        Returns
        -------
        pandas.DataFrame
            Corrected p-values, rows Y maps, columns X maps (or sets).
        """
        self._check_fitted()
        return self._correction(method, permute_what, mc_method, None).get_p(stat)

    def get_nulls(self, method: str | None = None, stat: str | None = None,
                  permute_what: str | None = None):
        """Null colocalizations of one permutation (copies; only reads).

        Parameters
        ----------
        %(method)s
        %(stat)s
        %(permute_what)s

        Returns
        -------
        numpy.ndarray
            Shape ``(n_perm, n_y, n_x)`` (rows and columns as
            :meth:`get_colocalizations`).
        """
        self._check_fitted()
        return self._permutation(method, permute_what).get_nulls(stat)

    # ----------------------------------------------------------------------------------
    # figures


    def _main_stat(self, frames, stat: str | None) -> str:
        if stat is not None:
            check_option("stat", stat, list(frames))
            return stat
        return main_stat(frames)

    @staticmethod
    def _select(frame: pd.DataFrame, which, axis: int, name: str) -> np.ndarray:
        """Positions of the rows/columns of ``frame`` named in ``which``: labels (a
        set name of a ``(set, map)`` index selects all maps of the set), the last level
        of a MultiIndex (every map of that name), or integer positions."""
        index = frame.index if axis == 0 else frame.columns
        if which is None:
            return np.arange(len(index))
        which = [which] if isinstance(which, (str, int, tuple)) else list(which)
        last = index.get_level_values(-1) if isinstance(index, pd.MultiIndex) else index
        out: list[int] = []
        for w in which:
            if isinstance(w, (int, np.integer)) and not isinstance(w, bool):
                if not -len(index) <= w < len(index):
                    raise InputError(f"{name}: position {w} is out of range; expected "
                                     f"0 .. {len(index) - 1}.")
                out.append(int(w) % len(index))
            elif w in index:
                loc = index.get_loc(w)  # an int, or a slice/mask for a set name
                out += (np.arange(len(index))[loc].tolist()
                        if not isinstance(loc, (int, np.integer)) else [int(loc)])
            elif w in last:
                out += np.flatnonzero(np.asarray(last == w)).tolist()
            else:
                raise InputError(f"{name}: {w!r} is not one of the maps ({list(last)[:5]}...).")
        return np.asarray(out, dtype=int)

    def plot(self, method: str | None = None, stat: str | None = None,
             sort_by: str | None = "coloc", n_categories: int | None = None,
             x_maps=None, y_maps=None, mc_method: str | None = None, alpha: float = 0.05,
             title: str | None = None, ax=None, figsize=None,
             permute_what: str | None = None, kind: str = "categorical",
             values: str = "coloc", plot_nulls: bool = True, annot_p: bool = True,
             **kwargs):
        """Plot colocalizations: one row per X map (or set), the observed value per Y map,
        the null distribution as percentile bands and significance marks ("*" p < alpha,
        "**" corrected p < alpha) once :meth:`permute` ran.

        Parameters
        ----------
        method, stat : str, optional
            Which stored result (see :meth:`get_colocalizations`).
        sort_by : {"coloc", "abs_coloc", "z", "p"} or None
            Order of the X maps.
        n_categories : int, optional
            Show only the first N X maps after sorting.
        x_maps, y_maps : list, optional
            Subsets of X maps (columns) and Y maps (rows), by label or position.
        mc_method : str, optional
            Correction for the "**" marks (default: the last :meth:`correct_p`;
            an error if ``mc_method`` was not computed).
        permute_what : str, optional
            Which permutation (may be omitted when the method was permuted one way).
        kind : {"categorical", "heatmap"}
            ``"categorical"`` as in NiSpace; ``"heatmap"``: one row per Y map, one
            column per X map, in the given order (for many Y maps, e.g. one per
            subject; ``sort_by``, ``n_categories``, ``ax`` and the null bands do not
            apply). NiSpace's other kinds name nispace's plots.
        values : {"coloc", "z", "p"}
            Plot the colocalizations, their z-scores against the null
            (:meth:`get_colocalizations` ``normalized=True``) or ``-log10(p)``; null
            bands are drawn for ``"coloc"`` only.
        plot_nulls, annot_p : bool
            Draw the null bands; mark significant values.
        **kwargs
            NiSpace's names ``X_maps``, ``Y_maps`` (= ``x_maps``, ``y_maps``),
            ``stats`` (= ``stat``), ``plot_p`` (= ``annot_p``); its other parameters
            with their default only, else an error names the nispace way.

        Returns
        -------
        (Figure, Axes)
        """
        from .plotting import (coloc_title, method_label, plot_colocalization_heatmap,
                               plot_colocalizations)

        x_maps = _alias(kwargs, "X_maps", "x_maps", x_maps, None)
        y_maps = _alias(kwargs, "Y_maps", "y_maps", y_maps, None)
        stat = _alias(kwargs, "stats", "stat", stat, None)
        annot_p = _alias(kwargs, "plot_p", "annot_p", annot_p, True)
        _nispace_only("plot", kwargs)
        others = {"correlation": "nsp.plot_scatter(y_map, x_map)",
                  "nullhist": "nsp.plot_nulls()", "brain": "nsp.plot_brain()"}
        if kind in others:
            raise InputError(f"kind: {kind!r} is not a kind of nsp.plot(); call "
                             f"{others[kind]}.")
        check_option("kind", kind, ["categorical", "heatmap"])
        check_option("values", values, ["coloc", "z", "p"])
        check_bool(plot_nulls, "plot_nulls")
        check_bool(annot_p, "annot_p")
        self._check_fitted()
        key = self._coloc_key(method)
        coloc = self.colocalizations_[key]
        perm = self._permutation(key, permute_what) if self.permutations_.get(key) else None
        frames = perm.observed if perm is not None else coloc.stats
        stat = self._main_stat(frames, stat)
        obs = frames[stat]
        nulls = p = q = None
        if values != "coloc" and perm is None:
            raise InputError(f"values: {values!r} needs a permutation; call "
                             f"nsp.permute(method={key!r}) first.")
        if perm is not None:
            nulls = perm.nulls[stat] if stat in perm.nulls else None
            p = perm.p[stat]
            try:
                q = self._correction(key, perm.permute_what, mc_method, None).p[stat]
            except MissingResultError:
                if mc_method is not None:
                    raise
        rows = self._select(obs, y_maps, 0, "y_maps")
        cols = self._select(obs, x_maps, 1, "x_maps")
        obs = obs.iloc[rows, cols]
        if nulls is not None:
            nulls = nulls[:, rows][:, :, cols]
        if p is not None:
            p = p.iloc[rows, cols]
            q = None if q is None else q.iloc[rows, cols]
        xlabel = method_label(coloc.method, stat)
        if values == "z":
            obs = self._normalized(key, perm.permute_what, stat, None).iloc[rows, cols]
            xlabel = f"{xlabel} (z against the null)"
        elif values == "p":
            obs = -np.log10(p)
            xlabel = "-log10(p)"
        if values != "coloc" or not plot_nulls:
            nulls = None
        if not annot_p:
            p = q = None
        if title is None:
            steps = coloc.provenance.get("steps", [])
            transform = next((t["y"] for t in reversed(steps) if "y" in t), None)
            title = coloc_title(key, stat, transform=transform,
                                what=perm.kind if perm else None,
                                maps_which=perm.maps_which if perm else None)
        if kind == "heatmap":
            return plot_colocalization_heatmap(obs, p, q, alpha=alpha, title=title,
                                               label=xlabel, names=self._x_display_names(),
                                               figsize=figsize)
        return plot_colocalizations(obs, nulls, p, q, sort_by=sort_by,
                                    n_categories=n_categories, alpha=alpha, title=title,
                                    xlabel=xlabel,
                                    ax=ax, figsize=figsize, names=self._x_display_names())

    def plot_nulls(self, method: str | None = None, stat: str | None = None, maps=None,
                   row: int = 0, permute_what: str | None = None, **kwargs):
        """Null distribution of every X map (histogram), with the observed value and p.

        Parameters
        ----------
        %(method)s
        stat : str or None
            One statistic; None: the method's main one.
        maps : list, optional
            X maps (columns) to show, by label or position; default: all.
        row : int
            The Y map (row) whose nulls are shown.
        %(permute_what)s
        **kwargs
            Passed to :func:`nispace.plotting.plot_null_distributions`.

        Returns
        -------
        (Figure, ndarray of Axes)
        """
        from .plotting import method_label, plot_null_distributions

        self._check_fitted()
        perm = self._permutation(method, permute_what)
        stat = self._main_stat(perm.observed, stat)
        kwargs.setdefault("xlabel", _stat_label(perm.key, stat, method_label))
        kwargs.setdefault("names", self._x_display_names())
        return plot_null_distributions(perm.observed[stat], perm.get_nulls(stat),
                                       perm.p[stat], row=row, columns=maps, **kwargs)

    def _x_display_names(self) -> dict:
        """Readable X map names from the reference dataset's map_info (empty if X is not
        a reference dataset or its metadata cannot be read)."""
        from .plotting import display_names

        if not isinstance(self.x, str):
            return {}
        try:
            from .datasets import fetch_metadata

            return display_names(fetch_metadata(self.x))
        except Exception as err:  # noqa: BLE001 - names are a nicety, never a failure
            logger.warning("Map names of %r not available (%s); showing map ids.", self.x, err)
            return {}

    def plot_scatter(self, y_map=0, x_map=0, method: str | None = None,
                     stat: str | None = None, permute_what: str | None = None,
                     ranks: bool | None = None, **kwargs):
        """Scatter one Y map against one X map (one point per parcel) with the fitted line,
        the colocalization value and, once :meth:`permute` ran, its null-based p.

        Parameters
        ----------
        y_map, x_map : label or int
            The Y map (row of :meth:`get_y`) and X map (row of :meth:`get_x`), by
            label or position.
        method, stat : str, optional
            Which stored colocalization to print (see :meth:`get_colocalizations`);
            default: the only one, if there is exactly one.
        permute_what : str, optional
            Which permutation gives the p-value (may be omitted when there is one).
        ranks : bool, optional
            Plot ranks (default: True for Spearman, else False).
        **kwargs
            Passed to :func:`nispace.plotting.plot_scatter` (``ax``, ``figsize``).

        Returns
        -------
        (Figure, Axes)
        """
        from .plotting import method_label, plot_scatter

        self._check_fitted()
        y_frame, x_frame = self.get_y(), self.get_x()
        y_row = self._select(y_frame, [y_map], 0, "y_map")[0]
        x_row = self._select(x_frame, [x_map], 0, "x_map")[0]
        y_name, x_name = y_frame.index[y_row], x_frame.index[x_row]
        coloc = p = None
        coloc_label, p_label = "r", "p"
        if self.colocalizations_:
            key = self._coloc_key(method)
            result = self.colocalizations_[key]
            stat = self._main_stat(result.stats, stat)
            table = result.stats[stat]
            coloc_label = _stat_label(key, stat, method_label)
            if y_name in table.index and x_name in table.columns:
                coloc = float(table.loc[y_name, x_name])
            if self.permutations_.get(key):
                perm = self._permutation(key, permute_what)
                p_table = perm.p.get(stat)
                if p_table is not None and y_name in p_table.index \
                        and x_name in p_table.columns:
                    p = float(p_table.loc[y_name, x_name])
                    p_label = f"p ({perm.permute_what} null, {perm.n_perm} perm.)"
            if ranks is None:
                ranks = key.startswith("spearman")
        names = self._x_display_names()
        x_text = flat_label(x_name)
        if isinstance(x_name, tuple) and str(x_name[-1]) in names:
            x_text = " · ".join([*map(str, x_name[:-1]), names[str(x_name[-1])]])
        elif str(x_name) in names:
            x_text = names[str(x_name)]
        return plot_scatter(y_frame.iloc[y_row].to_numpy(dtype=float),
                            x_frame.iloc[x_row].to_numpy(dtype=float),
                            y_label=flat_label(y_name), x_label=x_text, coloc=coloc,
                            coloc_label=coloc_label, p=p, p_label=p_label,
                            ranks=bool(ranks), **kwargs)

    def plot_brain(self, data: str | pd.DataFrame = "Y", maps=None,
                   symmetric_cmap: bool | str | None = None, n_max: int | None = 5,
                   title: str | list[str] | None = "auto", **kwargs):
        """Draw parcel values of Y (or X, or Z, or a table) on the brain.

        The cortex is drawn on the template surface (lateral and medial views of both
        hemispheres), subcortical and volumetric parcellations as slices.

        Parameters
        ----------
        data : {"Y", "X", "Z"} or DataFrame
            Which maps, or a table (maps x parcels, columns = parcel labels).
        maps : label, int or list, optional
            A subset of the maps, by label or position; default: all.
        symmetric_cmap : bool, "auto" or None
            Colour scale symmetric around 0; ``"auto"``/None: when a map has both
            signs.
        n_max : int or None
            Refuse to draw more maps than this (default 5, as in NiSpace); None: no
            limit.
        title : "auto", str, list of str or None
            Titles (``"auto"``: the map labels).
        **kwargs
            Passed to :func:`nispace.plotting.plot_brain` (``cmap``, ``vmin``,
            ``vmax``, ``space``, ``surf_mesh``, ``views`` (NiSpace's surface views), ``figsize``,
            ``colorbar_label``). NiSpace's ``kind``, ``shared_colorscale``,
            ``colorbar``, ``ncols``, ``show``, ... with their default only.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plotting import plot_brain

        kwargs = _nispace_only("plot_brain", kwargs, strict=False)
        self._check_fitted()
        if isinstance(data, pd.DataFrame):
            frame = data
        else:
            check_option("data", data, ["Y", "X", "Z", "y", "x", "z"])
            frame = {"y": self.get_y, "x": self.get_x, "z": self.get_z}[data.lower()]()
        if frame is None:
            raise InputError("data: this object has no Z maps.")
        rows = self._select(frame, maps, 0, "maps")
        frame = frame.iloc[rows]
        if n_max is not None and len(frame) > n_max:
            raise InputError(f"maps: {len(frame)} maps to draw, more than n_max={n_max}; "
                             f"select some with maps= or raise n_max=.")
        if symmetric_cmap == "auto":
            symmetric_cmap = None
        if self.parcellation_ is None:
            raise InputError("plot_brain: drawing on the brain needs a parcellation; this "
                             "object was fitted with parcellation=None. Pass parcellation= "
                             "to NiSpace.")
        if isinstance(data, pd.DataFrame):
            values = frame  # aligned by its parcel labels in plot_brain
        else:
            values = np.full((len(frame), self.parcellation_.n_parcels), np.nan)
            values[:, self._parcel_positions()] = frame.to_numpy(dtype=float)
        titles = [flat_label(t) for t in frame.index] if title in ("auto", None) else \
            [title] * len(frame) if isinstance(title, str) else list(title)
        return plot_brain(values, self.parcellation_, titles=titles,
                          symmetric_cmap=symmetric_cmap, **kwargs)

    # ----------------------------------------------------------------------------------
    # correlations across subjects within each parcel

    def correlate_within_region(self, method: str = "pearson", n_perm: int = 1000,
                                seed: int | None = None, r_to_z: bool = True, X=None,
                                Y=None, **kwargs) -> NiSpace:
        """Correlate X and Y across subjects, parcel by parcel (NiSpace's step).

        X and Y hold the same subjects (maps, matched by label); the statistic of a
        parcel is the correlation of its X and Y values across subjects. The null
        re-pairs subjects: one permutation of X's subjects for all parcels, so the
        max-T corrections and the omnibus test keep the dependence among parcels.
        Read the results with :meth:`get_within_region_correlations` and
        :meth:`get_within_region_correlations_omnibus`.

        Parameters
        ----------
        method : {"pearson", "spearman"}
            Correlation across subjects.
        n_perm : int
            Number of re-pairings (default 1000, as in NiSpace).
        seed : int, optional
            Default: the object's seed.
        r_to_z : bool
            Report Fisher z (default, as in NiSpace) instead of r; p-values are the
            same.
        X, Y : Series, optional
            A covariate instead of X (or Y): one value per subject of the other side,
            e.g. age, or 0/1 groups (point-biserial r, equivalent to a t-test),
            matched by label (an unlabelled array is taken in order with a WARNING).
        **kwargs
            NiSpace's ``X_reduction``, ``Y_transform``, ``store`` and ``verbose``,
            at their default only.

        Returns
        -------
        NiSpace
            This object, with the result stored.
        """
        from .stats.within import WITHIN_REGION_METHODS, within_region_correlations

        _nispace_only("correlate_within_region", kwargs)
        check_option("method", method, list(WITHIN_REGION_METHODS))
        check_n_perm(n_perm)
        check_seed(seed)
        check_bool(r_to_z, "r_to_z")
        if X is not None and Y is not None:
            raise InputError("X, Y: give a covariate for one side only; the other side is "
                             "the fitted data.")
        self._check_fitted()
        if X is None and Y is None:
            x, y = self.get_x(), self.get_y()
            if len(x) != len(y) or set(x.index) != set(y.index) or x.index.has_duplicates:
                raise InputError(f"x, y: correlate_within_region needs the same subjects "
                                 f"(map labels) in X and Y; got {list(x.index)[:5]} and "
                                 f"{list(y.index)[:5]}.")
            x_values, frame = x.loc[y.index].to_numpy(), y
        else:
            frame = self.get_y() if X is not None else self.get_x()
            x_values = self._align("X" if X is not None else "Y", X if X is not None else Y,
                                   frame, "subject").astype(float)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        r, null = within_region_correlations(x_values, frame.to_numpy(), method, n_perm, rng)
        self.within_region_ = {"method": method, "r_to_z": r_to_z, "n_perm": n_perm,
                               "r": pd.Series(r, index=frame.columns), "null": null}
        return self

    def _within_region(self) -> dict:
        self._check_fitted()
        if not self.within_region_:
            raise StateError("No within-region correlations yet; call "
                             "nsp.correlate_within_region() first.")
        return self.within_region_

    def get_within_region_correlations(self, mc_method: str | None = "step_maxT",
                                       method: str | None = None) -> dict:
        """Per-parcel statistics of :meth:`correlate_within_region`, p-values and
        corrected p-values (only reads).

        Parameters
        ----------
        mc_method : str or None
            ``"step_maxT"`` (default, as in NiSpace), ``"maxT"``, ``"fdr_bh"``,
            ``"bonferroni"``, ``"holm"``, ... or None. Meff methods are refused (as in
            NiSpace: anti-conservative with few subjects and many parcels).
        method : str, optional
            The correlation method run (a check; there is one result).

        Returns
        -------
        dict
            ``stat_type`` (``"z"`` or ``"r"``), ``mc_method``, ``stat``, ``p`` and
            ``p_corr`` (Series over parcels; ``p_corr`` None without mc_method).
        """
        from .stats.correction import canonical_mc_method, correct_p
        from .stats.pvalues import null_to_p

        res = self._within_region()
        if method is not None and method != res["method"]:
            raise InputError(f"method: the within-region correlations were run with "
                             f"{res['method']!r}; got {method!r}.")
        r, null = res["r"].to_numpy(), res["null"]
        p = null_to_p(r, null)
        q = None
        if mc_method is not None:
            mc = canonical_mc_method(mc_method, "mc_method")
            if mc.startswith("meff"):
                raise InputError(f"mc_method: {mc_method!r} is refused here (as in NiSpace: "
                                 f"Meff is anti-conservative when subjects are fewer than "
                                 f"parcels); use 'step_maxT', 'maxT' or 'fdr_bh'.")
            q = pd.Series(correct_p(p[None], mc, null=null[:, None], obs=r[None])[0],
                          index=res["r"].index)
        stat = np.arctanh(r) if res["r_to_z"] else r
        return {"stat_type": "z" if res["r_to_z"] else "r", "mc_method": mc_method,
                "stat": pd.Series(stat, index=res["r"].index),
                "p": pd.Series(p, index=res["r"].index), "p_corr": q}

    def get_within_region_correlations_omnibus(self, omnibus_stat: str = "absrho") -> dict:
        """One test over all parcels of :meth:`correlate_within_region` (only reads).

        Parameters
        ----------
        omnibus_stat : {"absrho", "rho", "rho2"}
            Mean ``|r|`` (default, as in NiSpace), mean Fisher z (two-sided) or mean
            ``r**2``, against the same statistic of the re-paired nulls.

        Returns
        -------
        dict
            ``stat_type``, ``stat`` and ``p``.
        """
        from .stats.within import within_region_omnibus

        res = self._within_region()
        stat, p = within_region_omnibus(res["r"].to_numpy(), res["null"], omnibus_stat)
        return {"stat_type": omnibus_stat, "stat": stat, "p": p}

    # ----------------------------------------------------------------------------------
    # persistence

    def save(self, path: str | os.PathLike, save_nulls: bool = True) -> Path:
        """Save this object and all its results in the open ``nispace-results`` format.

        A folder (or, for a path ending in ``.zip``, one zip file) of
        ``manifest.json`` (format, versions, parameters, provenance), CSV tables
        and ``.npy`` arrays; see :mod:`nispace.results.storage`. Loading it never
        runs code. Reload with :meth:`NiSpace.load`.

        Parameters
        ----------
        path : str or Path
            A new (or empty) folder, an earlier save (replaced), or ``*.zip``.
        save_nulls : bool
            Also save the null colocalizations (needed for ``maxT`` corrections,
            :meth:`plot_nulls` and ``get_nulls`` after loading).

        Returns
        -------
        Path
        """
        from .results.storage import save_nispace

        self._check_fitted()
        return save_nispace(self, path, save_nulls=save_nulls)

    def to_pickle(self, filepath: str | os.PathLike, save_nulls: bool = True,
                  verbose=None) -> Path:
        """NiSpace's name for :meth:`save`.

        Despite the name, this writes the open ``nispace-results`` format (folder, or
        zip for ``*.zip``), not a pickle.

        Parameters
        ----------
        filepath : str or Path
            As ``path`` of :meth:`save`.
        save_nulls : bool
            Also save the null colocalizations.
        verbose : None
            Accepted for NiSpace's signature, at its default only.

        Returns
        -------
        Path
        """
        _nispace_only("save", {"verbose": verbose})
        return self.save(filepath, save_nulls=save_nulls)

    @classmethod
    def from_pickle(cls, filepath: str | os.PathLike, verbose=True) -> NiSpace:
        """NiSpace's name for :meth:`load` (reads the open format; refuses pickles).

        Parameters
        ----------
        filepath : str or Path
            A folder or zip written by :meth:`save`.
        verbose : bool
            Accepted for NiSpace's signature; not used.

        Returns
        -------
        NiSpace
        """
        return cls.load(filepath)

    @classmethod
    def load(cls, path: str | os.PathLike, allow_pickle: bool = False,
             parcellation: Parcellation | None = None) -> NiSpace:
        """Load an analysis saved with :meth:`save` (folder or zip); never runs code.

        The loaded object answers every getter, :meth:`to_frame`, :meth:`plot` and
        :meth:`plot_nulls`, and :func:`nispace.report` re-renders its report. It
        can colocalize its stored tables again, but not replay group permutations
        (its Y steps are kept as hashes only).

        Parameters
        ----------
        path : str or Path
            A folder or zip written by :meth:`save`.
        allow_pickle : bool
            Also accept a pickle written by an older nispace. Loading a pickle runs
            any code it contains: only for files you made yourself (logs a WARNING).
            Without it, a pickle is refused with an error.
        parcellation : Parcellation, optional
            The parcellation to attach (for :meth:`plot_brain` and spatial nulls);
            must have the saved parcel labels. Default: none (name, spaces and
            labels are kept in ``parcellation_info_``).
        """
        from .results.storage import load_state

        state = load_state(path, allow_pickle=allow_pickle, unpickle=cls._unpickle)
        if isinstance(state, NiSpace):
            return state
        m = state["manifest"]
        o, parc = m["object"], m["parcellation"]
        # the constructor's parameters as saved (every other one at its default)
        obj = cls(x=o["x"], x_collection=o["x_collection"], standardize=o["standardize"],
                  drop_nan=o["drop_nan"], data_space=o.get("data_space"),
                  parcellation=parc["name"], parcellation_space=o["parcellation_space"],
                  parcellation_hemi=o["parcellation_hemi"], n_proc=o["n_proc"],
                  seed=o["seed"], verbose=o["verbose"], dtype=np.dtype(o["dtype"]).type)
        obj.fit_record_ = m["fit_record"]
        obj.parcellation_info_ = {k: v for k, v in parc.items() if k != "regions"}
        obj.parcellation_regions_ = state["regions"]
        if parcellation is not None and [str(v) for v in parcellation.labels] \
                != list(parc["labels"]):
            raise InputError(f"parcellation: expected the saved parcellation "
                             f"{parc['name']!r} ({parc['n_parcels']} parcels, same labels); "
                             f"got {parcellation.name!r} with other labels.")
        obj.parcellation_ = parcellation
        for name, frame in state["tables"].items():
            setattr(obj, f"{name}_", frame)
        obj.transforms_ = list(m["transforms"])
        obj.x_reduction_ = state.get("x_reduction")
        obj.y_steps_ = None  # kept as hashes in the provenance only
        obj._reset_results()
        for c in state["colocalizations"]:
            obj.colocalizations_[c.key] = c
        for perm in state["permutations"]:
            obj.permutations_.setdefault(perm.key, {})[perm.permute_what] = perm
        obj.corrections_ = list(state["corrections"])
        obj.saved_from_ = str(path)
        obj._fitted = True
        return obj

    @classmethod
    def _unpickle(cls, path) -> NiSpace:
        """Legacy loader (only with ``allow_pickle=True``)."""
        import pickle

        with open(path, "rb") as f:
            payload: Any = pickle.load(f)  # noqa: S301 - explicit opt-in, warned
        if not isinstance(payload, dict) or payload.get("format") != _SAVE_FORMAT \
                or not isinstance(payload.get("object"), NiSpace):
            raise InputError(f"path: {path} is a pickle but not a NiSpace object saved by "
                             f"an older nispace.")
        obj = payload["object"]
        obj._migrate_legacy()
        return obj

    def _migrate_legacy(self) -> None:
        """Turn the result dicts of objects pickled by older nispace versions into
        result objects (provenance: the data as loaded)."""
        from .results.provenance import base_provenance

        d = self.__dict__
        if "coloc_params_" not in d:
            return
        colocs, params = d.pop("colocalizations_"), d.pop("coloc_params_")
        perms, ps, zs = d.pop("permutations_", {}), d.pop("p_values_", {}), \
            d.pop("z_values_", {})
        nulls, pcs = d.pop("nulls_", {}), d.pop("p_corrected_", {})
        d.pop("pair_summary_", None)
        self._reset_results()
        prov = base_provenance(self)
        prov["migrated_from"] = "a pickle of an older nispace"
        for key, stats in colocs.items():
            pr = params[key]
            self.colocalizations_[key] = ColocalizationResult(
                key=key, method=pr["method"], xsea=pr["xsea"], xsea_aggr=pr["xsea_aggr"],
                options=pr["options"], stats=stats, provenance=prov)
        for key, info in perms.items():
            which = info.get("maps_which")
            what = f"{which.lower()}maps" if info["what"] == "maps" else info["what"]
            self.permutations_.setdefault(key, {})[what] = PermutationResult(
                key=key, permute_what=what, kind=info["what"],
                null_model=info.get("null_method"), n_perm=info["n_perm"],
                seed=info.get("seed"), n_proc=info.get("n_proc", 1), tails=info["p_tails"],
                pooled=info.get("pooled_p", False), paired=info.get("paired", False),
                maps_which=which, observed=info["observed"], p=ps[key], z=zs[key],
                nulls=nulls.get(key, {}), provenance=prov)
            for (mc, dim), frames in pcs.get(key, {}).items():
                self.corrections_.append(CorrectionResult(
                    key=key, permute_what=what, mc_method=mc, mc_dimension=dim, p=frames,
                    provenance=prov))

    def _repr_html_(self) -> str:
        """A small table for notebooks (reads only; nothing is computed)."""
        from .results.objects import html_summary

        if not getattr(self, "_fitted", False):
            return html_summary("NiSpace (not fitted)", [
                ("x", self.x if isinstance(self.x, str) else type(self.x).__name__),
                ("parcellation", self.parcellation if isinstance(self.parcellation, str)
                 else type(self.parcellation).__name__)])
        parc = (self.parcellation_.name if self.parcellation_ is not None
                else getattr(self, "parcellation_info_", {}).get("name")) or "none"
        def maps(n: int) -> str:
            return f"{n} map" if n == 1 else f"{n} maps"

        source = (f" (reference dataset '{self.x}'" + (f", collection '{self.x_collection}'"
                                                      if self.x_collection else "") + ")"
                  if isinstance(self.x, str) else "")
        rows = [("X", maps(self.x_.shape[0]) + source), ("Y", maps(len(self._y()))),
                ("parcellation", f"{parc} ({self.x_.shape[1]} parcels)")]
        rows += [("step", self._step_call(t)) for t in self.transforms_]
        rows += [("colocalization", k if k == c.method else f"{k}: {c.method}") for k, c in
                 self.colocalizations_.items()]
        rows += [("permutation", f"{k}/{w}: {p.n_perm:,} x {p.null_model or p.kind}")
                 for k, d in self.permutations_.items() for w, p in d.items()]
        rows += [("correction", f"{c.key}/{c.permute_what}: {c.mc_method}")
                 for c in self.corrections_]
        return html_summary("NiSpace", rows)

    def __repr__(self) -> str:
        if not getattr(self, "_fitted", False):
            return "<NiSpace (not fitted)>"
        y = self._y()
        parc = (self.parcellation_.name if self.parcellation_ is not None
                else getattr(self, "parcellation_info_", {}).get("name")) or "no parcellation"
        perms = [f"{k}/{w}" for k, d in self.permutations_.items() for w in d]
        corrs = [f"{c.key}/{c.permute_what}/{c.mc_method}" for c in self.corrections_]
        return (f"<NiSpace: X {self.x_.shape[0]} maps, Y {y.shape[0]} maps, "
                f"{self.x_.shape[1]} parcels ({parc}); colocalizations: "
                f"{list(self.colocalizations_)}; permutations: {perms}; "
                f"corrections: {corrs}>")
