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
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._version import __version__
from ._errors import check_option
from ._logging import verbose_context
from .parcellation import Parcellation

logger = logging.getLogger("nispace.api")

_STANDARDIZE = {"x", "y", "z"}
_SAVE_FORMAT = "nispace-object"
#: methods whose cross-validation folds are spatial blocks of parcel centroids
_CV_METHODS = {"pls", "pcr", "lasso", "ridge", "elasticnet"}


def _is_annotation_key(item) -> bool:
    return (isinstance(item, tuple) and len(item) == 4
            and all(isinstance(v, str) for v in item))


def _is_annotation(data) -> bool:
    """A neuromaps-style annotation ``(source, desc, space, den|res)`` or a list of them."""
    if _is_annotation_key(data):
        return True
    return (isinstance(data, list) and len(data) > 0
            and all(_is_annotation_key(d) for d in data))


def _fetch_annotations(data, verbose) -> dict:
    """``{"source_desc_space_denres": path or (L, R)}`` for annotation tuple(s)."""
    from .datasets import fetch_annotation

    out = {}
    for source, desc, space, denres in ([data] if _is_annotation_key(data) else data):
        key = "res" if denres.endswith("mm") else "den"
        paths = fetch_annotation(source=source, desc=desc, space=space, **{key: denres},
                                 return_single=True, verbose=verbose)
        if isinstance(paths, dict):
            raise ValueError(f"annotation ({source}, {desc}, {space}, {denres}) matches "
                             f"several files: {list(paths)}.")
        out[f"{source}_{desc}_{space}_{denres}"] = (tuple(paths) if isinstance(paths, list)
                                                   else paths)
    return out


def _set_means(x: pd.DataFrame) -> pd.DataFrame:
    """Mean map of every set of X (rows with a ``set`` index level), in set order."""
    sets = x.index.get_level_values("set")
    names = list(dict.fromkeys(sets))
    return pd.DataFrame([x.to_numpy()[np.asarray(sets == n)].mean(axis=0) for n in names],
                        index=pd.Index(names, name="set"), columns=x.columns)


def _zscore_rows(frame: pd.DataFrame) -> pd.DataFrame:
    from .datasets.tables import zscore_rows

    return zscore_rows(frame)


class NiSpace:
    """Spatial colocalization of brain maps.

    Parameters
    ----------
    x : images, table, array or str
        Reference maps (e.g. PET receptor maps): NIfTI/GIfTI images, paths, a list
        or dict of them, a DataFrame/array (maps x parcels), the name of a
        reference dataset (``"pet"``, ``"mrna"``, ...), fetched for the
        parcellation (with ``x_collection``), a neuromaps-style annotation
        ``(source, desc, space, den|res)`` or a list of them
        (:func:`nispace.datasets.fetch_annotation`), or a Neurovault result
        (:func:`nispace.datasets.neurovault.fetch_neurovault`).
    y : same as x, optional
        Target maps (e.g. a meta-analytic map, subject data). ``None``: X is
        colocalized with itself (self-pairs are NaN).
    z : same as x, optional
        Covariate maps for partial correlations / ``clean_y(how="within")``.
    x_labels, y_labels, z_labels : list of str or str, optional
        Map labels (else from dict keys, DataFrame index or file names).
    x_collection : str, optional
        Collection of the reference dataset when ``x`` is a dataset name.
    standardize : str or bool
        Which of X, Y, Z to z-score across parcels after parcellation
        (``"xz"`` default; ``True`` = ``"xyz"``, ``False`` = none).
    drop_nan : bool
        Drop parcels that are NaN in any map of X, Y or Z.
    parcellation : str, tuple, Parcellation, image or (L, R) pair
        A library name (``"Schaefer200"``, ``"Schaefer200TianS1"``), a
        :class:`~nispace.parcellation.Parcellation`, or your own label image.
    parcellation_space, parcellation_labels : optional
        Space and parcel names of your own label image.
    parcellation_hemi : {"L", "R"} or None
        Keep only the parcels of one hemisphere.
    parcellation_dist_mat : array (n_parcels, n_parcels), optional
        A distance matrix to use instead of the parcellation's.
    resampling_target : {"data", "parcellation", None}
        How images and parcellation are brought onto one grid.
    n_proc : int
        Parallel workers for permutations (-1: all cores). Results do not depend
        on it.
    seed : int, optional
        Seed for everything random.
    verbose : bool
        Log progress at INFO level.
    dtype : numpy dtype
        Float type of the parcellated data.
    """

    def __init__(self, x=None, y=None, z=None, x_labels=None, y_labels=None, z_labels=None,
                 x_collection: str | None = None, standardize: str | bool = "xz",
                 drop_nan: bool = False, parcellation=None, parcellation_space: str | None = None,
                 parcellation_hemi: str | None = None, parcellation_labels=None,
                 parcellation_dist_mat=None, resampling_target: str | None = "data",
                 n_proc: int = 1, seed: int | None = None, verbose: bool = True,
                 dtype=np.float64):
        # stored unchanged (scikit-learn convention); validated in fit()
        self.x, self.y, self.z = x, y, z
        self.x_labels, self.y_labels, self.z_labels = x_labels, y_labels, z_labels
        self.x_collection = x_collection
        self.standardize = standardize
        self.drop_nan = drop_nan
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
        self._fitted = False

    # ----------------------------------------------------------------------------------
    # fit

    def fit(self) -> NiSpace:
        """Parcellate and check X, Y and Z; standardize as requested. Returns self."""
        with verbose_context(self.verbose):
            logger.info("*** NiSpace.fit() - Data extraction and preparation. ***")
            if self.x is None:
                raise ValueError("x: expected reference maps (images, table, array or a "
                                 "dataset name such as 'pet'); got None.")
            check_option("resampling_target", self.resampling_target,
                         ["data", "parcellation", None])
            from .permute.engine import resolve_n_proc

            resolve_n_proc(self.n_proc)  # a positive integer or -1 (all cores)
            standardize = self._standardize_set(self.standardize)
            #: what fit() decided and assumed (data space, label order, alignment, ...):
            #: a JSON-serialisable record copied into every result's provenance
            self.fit_record_: dict[str, Any] = {}
            self.parcellation_ = self._build_parcellation()
            self.x_ = self._read("x", self.x, self.x_labels)
            self.y_ = (self._read("y", self.y, self.y_labels) if self.y is not None else None)
            self.z_ = (self._read("z", self.z, self.z_labels) if self.z is not None else None)
            self._check_parcels()
            if self.drop_nan:
                self._drop_nan_parcels()
            for name in sorted(standardize):
                frame = getattr(self, f"{name}_")
                if frame is not None:
                    logger.info("Z-standardizing '%s' data.", name.upper())
                    setattr(self, f"{name}_", _zscore_rows(frame).astype(self.dtype))
            self.y_raw_ = self.y_
            self.x_raw_ = self.x_
            self.transforms_: list[dict] = []
            self.y_steps_: list[dict] = []
            self.colocalizations_: dict[str, dict[str, pd.DataFrame]] = {}
            self.coloc_params_: dict[str, dict] = {}
            self._reset_permutations()
            self._fitted = True
            return self

    @staticmethod
    def _standardize_set(standardize) -> set[str]:
        if standardize is True:
            return set(_STANDARDIZE)
        if standardize in (False, None, ""):
            return set()
        if not isinstance(standardize, str) or not set(standardize.lower()) <= _STANDARDIZE:
            raise ValueError(f"standardize: expected True, False or a combination of 'x', 'y', "
                             f"'z' such as 'xz'; got {standardize!r}.")
        return set(standardize.lower())

    def _build_parcellation(self) -> Parcellation:
        from .datasets import fetch_parcellation

        parc = self.parcellation
        if parc is None:
            raise ValueError("parcellation: expected a library name (e.g. 'Schaefer200'), a "
                             "Parcellation or a label image; got None.")
        if not isinstance(parc, Parcellation):
            parc = fetch_parcellation(parc, space=self.parcellation_space,
                                      labels=self.parcellation_labels, verbose=self.verbose)
        elif self.parcellation_space is not None:
            parc.set_active_space(self.parcellation_space)
        if self.parcellation_hemi is not None:
            check_option("parcellation_hemi", self.parcellation_hemi, ["L", "R"])
        return parc

    def _read(self, name: str, data, labels) -> pd.DataFrame:
        from .io import read_input

        logger.info("Checking input data for '%s'.", name)
        if _is_annotation(data):
            data = _fetch_annotations(data, self.verbose)
        elif hasattr(data, "images_meta") and hasattr(data, "images"):
            from .datasets.neurovault import neurovault_maps

            data = neurovault_maps(data)  # a Neurovault result: {label: image path}
        if isinstance(data, str) and not os.path.exists(data):
            from .datasets import fetch_reference

            if not self.parcellation_.library_names:
                raise ValueError(f"{name}: reference dataset {data!r} needs a library "
                                 f"parcellation; got a custom one.")
            collection = self.x_collection if name == "x" else None
            data = fetch_reference(data, parcellation=self.parcellation_,
                                   collection=collection, standardize_parcellated=False,
                                   print_references=False, verbose=self.verbose)
        frame = read_input(data, self.parcellation_, labels=labels, name=name,
                           resampling_target=self.resampling_target, verbose=self.verbose)
        frame = frame.astype(self.dtype)
        if self.parcellation_hemi is not None:
            keep = self.parcellation_.get_hemi_indices(self.parcellation_hemi)
            frame = frame.iloc[:, keep]
        logger.info("Got '%s' data for %d x %d parcels.", name, *frame.shape)
        return frame

    def _check_parcels(self) -> None:
        ref = self.x_.columns
        for name in ("y", "z"):
            frame = getattr(self, f"{name}_")
            if frame is None:
                continue
            if frame.shape[1] != len(ref):
                raise ValueError(f"{name}: expected {len(ref)} parcels like x; got "
                                 f"{frame.shape[1]}.")
            if list(frame.columns) != list(ref):
                bad = [(a, b) for a, b in zip(frame.columns, ref) if a != b][:3]
                raise ValueError(f"{name}: parcel labels differ from those of x, e.g. "
                                 f"{bad} ({name} vs x).")

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
            raise RuntimeError("This NiSpace object is not fitted yet; call nsp.fit() first.")

    # ----------------------------------------------------------------------------------
    # getters

    def get_x(self, raw: bool = False) -> pd.DataFrame:
        """X (maps x parcels); ``raw=True``: before ``reduce_x``."""
        self._check_fitted()
        return (self.x_raw_ if raw else self.x_).copy()

    def get_y(self, raw: bool = False) -> pd.DataFrame:
        """Y (maps x parcels) after any transform/cleaning; ``raw=True``: as fitted.
        With ``y=None`` this is X (X colocalized with itself)."""
        self._check_fitted()
        frame = self.y_raw_ if raw else self.y_
        return (self.x_ if frame is None else frame).copy()

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
        """Transform Y with a formula such as ``"hedges(a,b)"`` (see
        :func:`nispace.stats.transforms.parse_transform` for all forms)."""
        from .stats.transforms import apply_transform

        self._check_fitted()
        y = self.get_y()
        groups, subjects = self._align("groups", groups, y), self._align("subjects", subjects, y)
        values, labels = apply_transform(y.to_numpy(), transform, groups=groups,
                                         subjects=subjects)
        self.y_ = pd.DataFrame(values, index=pd.Index(labels, name="y"), columns=y.columns)
        self.transforms_.append({"y": transform})
        self.y_steps_.append({"kind": "transform", "formula": transform, "groups": groups,
                              "subjects": subjects})
        logger.info("Transformed Y with '%s': %d x %d.", transform, *self.y_.shape)
        return self

    def transform_z(self, transform: str, groups=None, subjects=None) -> NiSpace:
        """Like :meth:`transform_y`, for Z."""
        from .stats.transforms import apply_transform

        self._check_fitted()
        if self.z_ is None:
            raise ValueError("transform_z: this object has no Z data (z=None).")
        z = self.z_
        groups, subjects = self._align("groups", groups, z), self._align("subjects", subjects, z)
        values, labels = apply_transform(z.to_numpy(), transform, groups=groups,
                                         subjects=subjects)
        self.z_ = pd.DataFrame(values, index=pd.Index(labels, name="z"), columns=z.columns)
        self.transforms_.append({"z": transform})
        return self

    @staticmethod
    def _align(name: str, values, frame: pd.DataFrame):
        if values is None:
            return None
        if isinstance(values, pd.Series) and values.index.isin(frame.index).all():
            values = values.loc[frame.index]
        values = np.asarray(values)
        if values.shape != (len(frame),):
            raise ValueError(f"{name}: expected one value per Y map ({len(frame)}); got shape "
                             f"{values.shape}.")
        return values

    def clean_y(self, how: str = "between", covariates_between=None, covariates_within=None,
                protect=None, combat: bool = False) -> NiSpace:
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
            ``covariates_between`` and ``pip install "nispace[combat]"``).
        """
        from .stats import cleaning

        self._check_fitted()
        check_option("how", how, ["between", "within", "both"])
        y = self.get_y()
        values = y.to_numpy(copy=True)
        step: dict = {"kind": "clean"}
        if how in ("between", "both") or combat:
            cov = self._covariate_frame(covariates_between, y)
            if combat:
                if "site" not in cov:
                    raise ValueError("covariates_between: ComBat needs a 'site' column; got "
                                     f"columns {list(cov.columns)}.")
                others = cov.drop(columns="site")
                step["combat_site"] = cov["site"].to_numpy()
                step["combat_cov"] = None if others.empty else cleaning.one_hot(others)[0]
                values = cleaning.combat(values, step["combat_site"], step["combat_cov"])
                cov = others
            if how in ("between", "both") and not cov.empty:
                protect = [protect] if isinstance(protect, str) else list(protect or [])
                missing = [p for p in protect if p not in cov]
                if missing:
                    raise ValueError(f"protect: columns {missing} are not in "
                                     f"covariates_between ({list(cov.columns)}).")
                prot = cleaning.one_hot(cov[protect])[0] if protect else None
                rest = cov.drop(columns=protect)
                step["between"], step["protect"] = cleaning.one_hot(rest)[0], prot
                values = cleaning.regress_between(values, step["between"], prot)
        if how in ("within", "both"):
            maps = covariates_within if covariates_within is not None else self.z_
            if maps is None:
                raise ValueError("covariates_within: expected covariate maps (maps x parcels) "
                                 "or Z data; got None.")
            maps = np.atleast_2d(np.asarray(maps, dtype=float))
            if maps.shape[1] != values.shape[1]:
                raise ValueError(f"covariates_within: expected {values.shape[1]} parcels; got "
                                 f"{maps.shape[1]}.")
            values = cleaning.regress_within(values, maps)
            step["within"] = maps
        self.y_ = pd.DataFrame(values, index=y.index, columns=y.columns)
        self.transforms_.append({"clean_y": how, "combat": combat})
        self.y_steps_.append(step)
        return self

    @staticmethod
    def _covariate_frame(cov, y: pd.DataFrame) -> pd.DataFrame:
        if cov is None:
            raise ValueError("covariates_between: expected a DataFrame with one row per Y map; "
                             "got None.")
        cov = pd.DataFrame(cov).copy()
        if len(cov) != len(y):
            raise ValueError(f"covariates_between: expected {len(y)} rows (one per Y map); got "
                             f"{len(cov)}.")
        if cov.index.isin(y.index).all() and cov.index.is_unique:
            cov = cov.loc[y.index]
        return cov

    def reduce_x(self, reduction: str = "mean", n_components: int | None = None,
                 per_set: bool = True, weighted: bool = False) -> NiSpace:
        """Reduce X to fewer maps: ``mean``/``median`` (per set if X has a ``set``
        level; ``weighted`` uses the ``weight`` level) or ``pca``/``ica``/``fa``."""
        from .stats.reduce import reduce_x

        self._check_fitted()
        x = self.x_
        sets = weights = None
        if per_set and "set" in (x.index.names or []):
            sets = x.index.get_level_values("set").to_numpy()
        if weighted:
            if "weight" not in (x.index.names or []):
                raise ValueError("weighted: X has no 'weight' index level.")
            weights = x.index.get_level_values("weight").to_numpy(dtype=float)
        out = reduce_x(x.to_numpy(), reduction, sets=sets, weights=weights,
                       n_components=n_components, seed=self.seed)
        values, labels = out[0], out[1]
        self.x_ = pd.DataFrame(values, index=pd.Index(labels, name="x"), columns=x.columns)
        self.transforms_.append({"reduce_x": reduction})
        return self

    # ----------------------------------------------------------------------------------
    # colocalization

    def colocalize(self, method: str = "spearman", xsea: bool = False,
                   xsea_aggr: str = "mean", fisher_z: bool = False, zy_matched: bool = False,
                   r2_adjusted: bool = True, **kwargs) -> NiSpace:
        """Colocalize every Y map with the X maps.

        Results are stored under the method name and returned by
        :meth:`get_colocalizations` as DataFrames (rows Y labels, columns X
        labels, or sets with ``xsea=True``; model-level statistics such as
        ``r2`` of ``mlr`` as one column).
        """
        from .stats.coloc import colocalize

        self._check_fitted()
        with verbose_context(self.verbose):
            logger.info("*** NiSpace.colocalize() - Estimating X & Y colocalizations. ***")
            x, y = self.x_, self.get_y()
            z = self.z_.to_numpy() if self.z_ is not None else None
            if method.startswith("partial") and z is None:
                raise ValueError(f"method: {method!r} needs Z maps; pass z= to NiSpace.")
            if method in _CV_METHODS and self.parcellation_hemi is None:
                kwargs.setdefault("coords", self.parcellation_.get_centroids())
            stats = colocalize(x.to_numpy(), y.to_numpy(), method, Z=z, fisher_z=fisher_z,
                               zy_matched=zy_matched, r2_adjusted=r2_adjusted,
                               seed=self.seed, **kwargs)
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
            self.colocalizations_[key] = results
            self.coloc_params_[key] = {"method": method, "xsea": xsea, "xsea_aggr": xsea_aggr,
                                       "options": {"fisher_z": fisher_z,
                                                   "zy_matched": zy_matched,
                                                   "r2_adjusted": r2_adjusted, **kwargs}}
            self._reset_permutations(key)
            logger.info("Stored %s colocalization statistics: %s.", key, list(results))
            return self

    def _aggregate_sets(self, frame: pd.DataFrame, how: str,
                        rho_scale: bool = False) -> pd.DataFrame:
        from .stats.xsea import aggregate_sets

        names = self.x_.index.names or []
        if "set" not in names:
            raise ValueError("xsea: X needs a ['set', 'map'] index (e.g. a set-structured "
                             "collection); got index levels " f"{names}.")
        sets = self.x_.index.get_level_values("set").to_numpy()
        weights = (self.x_.index.get_level_values("weight").to_numpy(dtype=float)
                   if "weight" in names else None)
        values, set_names = aggregate_sets(frame.to_numpy(), sets, how=how, weights=weights,
                                           rho_scale=rho_scale)
        return pd.DataFrame(values, index=frame.index, columns=pd.Index(set_names, name="set"))

    def get_colocalizations(self, method: str | None = None, stat: str | None = None,
                            get_nulls: bool = False, normalized: bool = False):
        """Stored colocalizations.

        Parameters
        ----------
        method : str, optional
            The method (``"spearman"``, ``"mlr"``, ``"spearman_xsea"``, ...). May be
            omitted only when a single method has been run.
        stat : str, optional
            One statistic (``"rho"``, ``"r2"``, ``"beta"``, ...). Omitted: the
            method's main statistic if it has only one, else a dict of all.
        get_nulls : bool
            Also return the null colocalizations of the last :meth:`permute` call,
            arrays ``(n_perm, n_rows, n_cols)``: ``(colocalizations, nulls)``.
        normalized : bool
            Return the colocalizations as z-scores against their null distribution
            (``(observed - mean(null)) / sd(null)``; needs :meth:`permute`).
        """
        self._check_fitted()
        key = self._method_key(method, self.colocalizations_, "colocalizations")
        if normalized:
            if key not in self.z_values_:
                raise RuntimeError(f"normalized=True needs null distributions; call "
                                   f"nsp.permute(method={key!r}) first.")
            result = self._pick(self.z_values_[key], stat)
        else:
            result = self._pick(self.colocalizations_[key], stat)
        if not get_nulls:
            return result
        if key not in self.nulls_:
            raise RuntimeError(f"get_nulls=True needs null distributions; call "
                               f"nsp.permute(method={key!r}) first.")
        return result, self.get_nulls(key, stat)

    # ----------------------------------------------------------------------------------
    # permutation, p-values, corrections

    def _reset_permutations(self, key: str | None = None) -> None:
        stores = ("nulls_", "p_values_", "z_values_", "permutations_", "p_corrected_")
        if key is None:
            for name in stores:
                setattr(self, name, {})
            return
        for name in stores:
            getattr(self, name, {}).pop(key, None)

    def _method_key(self, method: str | None, store: dict, what: str) -> str:
        done = list(store)
        if not done:
            raise RuntimeError(f"No {what} yet; call " + (
                "nsp.colocalize(method) first." if what == "colocalizations" else
                "nsp.permute(...) first."))
        if method is None:
            if len(done) > 1:
                raise ValueError(f"method: several methods were run ({done}); name one.")
            return done[0]
        if method not in store and f"{method}_xsea" in store:
            return f"{method}_xsea"
        check_option("method", method, done)
        return method

    def _parcel_positions(self) -> np.ndarray:
        """Positions of the data's parcels in the parcellation's label order."""
        labels = list(self.parcellation_.labels)
        pos = {lab: i for i, lab in enumerate(labels)}
        cols = list(self.x_.columns)
        if len(pos) == len(labels) and all(c in pos for c in cols):
            return np.array([pos[c] for c in cols])
        if len(cols) == len(labels):
            return np.arange(len(labels))
        raise ValueError("The data's parcels cannot be matched to the parcellation's labels; "
                         "pass null_maps= or dist_mat= for your parcels.")

    def _coloc_spec(self, key: str):
        from .permute.spec import ColocSpec, SetSpec

        params = self.coloc_params_[key]
        sets = None
        if params["xsea"]:
            names = self.x_.index.names
            sets = SetSpec(self.x_.index.get_level_values("set").to_numpy(),
                           how=params["xsea_aggr"],
                           weights=(self.x_.index.get_level_values("weight")
                                    .to_numpy(dtype=float) if "weight" in names else None),
                           fisher_z=params["options"].get("fisher_z", False))
        z = self.z_.to_numpy() if self.z_ is not None else None
        return ColocSpec(params["method"], Z=z, options=dict(params["options"]), sets=sets,
                         self_pairs=self.y_ is None)

    def permute(self, what: str = "maps", method: str | None = None,
                maps_which: str | None = None, null_method=None, n_perm: int = 10000,
                p_tails: str | dict | None = None, pooled_p: bool | str = False,
                null_maps=None, dist_mat=None, groups=None, subjects=None,
                paired: bool = False, seed: int | None = None, n_proc: int | None = None,
                use_cache: bool = True, null_kwargs: dict | None = None) -> NiSpace:
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
            Number of permutations.
        p_tails : {"two", "upper", "lower"} or dict, optional
            Tail for all statistics or per statistic; defaults per statistic
            (:data:`nispace.stats.pvalues.DEFAULT_TAILS`).
        pooled_p : bool or {"mean", "median", "auto"}
            Average the colocalizations of all Y maps (observed and every null)
            and compute one p per X map.
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
        """
        from .permute import engine
        from .stats import pvalues

        self._check_fitted()
        check_option("what", what, ["maps", "groups", "sets", "pairs"])
        seed = self.seed if seed is None else seed
        n_proc = engine.resolve_n_proc(self.n_proc if n_proc is None else n_proc)
        with verbose_context(self.verbose):
            logger.info("*** NiSpace.permute() - Estimate exact non-parametric p values. ***")
            key = self._method_key(method, self.colocalizations_, "colocalizations")
            observed = self.colocalizations_[key]
            logger.info("Permutation of: %s (method '%s', n_perm = %d).", what, key, n_perm)
            info = {"what": what, "method": key, "n_perm": int(n_perm), "seed": seed,
                    "n_proc": n_proc}
            if what == "maps":
                nulls, extra = self._permute_maps(key, maps_which, null_method, n_perm,
                                                  null_maps, dist_mat, seed, n_proc,
                                                  use_cache, null_kwargs)
                info.update(extra)
            elif what == "groups":
                nulls = self._permute_groups(key, n_perm, groups, subjects, paired, seed,
                                             n_proc)
                info["paired"] = bool(paired)
            elif what == "sets":
                nulls = self._permute_sets(key, n_perm, seed, n_proc)
            else:
                observed, nulls = self._permute_pairs(key, n_perm, seed, n_proc)
            stats = [s for s in observed if s in nulls
                     and nulls[s].shape[1:] == observed[s].shape]
            tails = pvalues.resolve_tails(p_tails, stats, pvalues.DEFAULT_TAILS)
            pooled = pvalues.resolve_pooled_p(pooled_p, len(self.get_y()))
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
            info.update(p_tails=tails, pooled_p=pooled, stats=stats, observed=obs_store)
            self.nulls_[key] = null_store
            self.p_values_[key] = p_frames
            self.z_values_[key] = z_frames
            self.permutations_[key] = info
            self.p_corrected_[key] = {}
            for stat in stats:
                n_sig = int((p_frames[stat].to_numpy() < 0.05).sum())
                logger.info("%s: %d/%d p < 0.05 (uncorrected).", stat, n_sig,
                            p_frames[stat].size)
            return self

    def _permute_maps(self, key, maps_which, null_method, n_perm, null_maps, dist_mat, seed,
                      n_proc, use_cache, null_kwargs):
        from .permute.maps import null_colocalizations_maps
        from .permute.models import null_model_for
        from .permute.nullmaps import prepare_null_maps

        params = self.coloc_params_[key]
        which = (maps_which or ("Y" if params["xsea"] else "X")).upper()
        check_option("maps_which", which, ["X", "Y", "XY"])
        x = self.x_
        y = self.get_y()
        standardize = self._standardize_set(self.standardize)
        model = desc = None
        sources = {}
        for side in which:
            frame = x if side == "X" else y
            if null_maps is not None:
                sources[side] = self._user_nulls(null_maps, frame, side, n_perm)
                desc = "user-provided"
                continue
            if model is None:
                if dist_mat is None and self.parcellation_dist_mat is not None:
                    dist_mat = self.parcellation_dist_mat
                model, desc = null_model_for(self.parcellation_, null_method,
                                             keep=self._parcel_positions(), dist_mat=dist_mat,
                                             null_kwargs=null_kwargs)
                logger.info("Null model: %s.", desc)
            sources[side] = prepare_null_maps(
                model, frame.to_numpy(dtype=float), list(frame.index), n_perm, seed,
                n_proc=n_proc, use_cache=use_cache,
                standardize=side.lower() in standardize, verbose=self.verbose)
        try:
            nulls = null_colocalizations_maps(
                self._coloc_spec(key), x.to_numpy(dtype=float), y.to_numpy(dtype=float),
                sources.get("X"), sources.get("Y"), n_proc=n_proc, verbose=self.verbose)
        finally:
            for src in sources.values():
                if hasattr(src, "cleanup"):
                    src.cleanup()
        return nulls, {"maps_which": which, "null_method": desc}

    @staticmethod
    def _user_nulls(null_maps, frame: pd.DataFrame, side: str, n_perm: int):
        from .permute.nullmaps import ArrayNulls

        n_maps, n_parcels = frame.shape
        if isinstance(null_maps, dict):
            missing = [lab for lab in frame.index if lab not in null_maps]
            if missing:
                raise ValueError(f"null_maps: no null maps for {side} map(s) {missing[:3]}; "
                                 f"got keys {list(null_maps)[:5]}.")
            arr = np.stack([np.asarray(null_maps[lab], dtype=float) for lab in frame.index])
        else:
            arr = np.asarray(null_maps, dtype=float)
        if arr.ndim != 3 or arr.shape[0] != n_maps or arr.shape[2] != n_parcels \
                or arr.shape[1] < n_perm:
            raise ValueError(f"null_maps: expected shape ({n_maps}, >= n_perm={n_perm}, "
                             f"{n_parcels}) for the {side} maps; got {arr.shape}.")
        return ArrayNulls(arr[:, :n_perm])

    def _permute_groups(self, key, n_perm, groups, subjects, paired, seed, n_proc):
        from .permute.groups import null_colocalizations_groups

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
                raise ValueError("subjects: paired=True needs the subject id of every Y map "
                                 "(pass subjects= here or to transform_y).")
            blocks = self._align("subjects", subjects, y_raw)
        return null_colocalizations_groups(
            self._coloc_spec(key), self.x_.to_numpy(dtype=float), y_raw.to_numpy(dtype=float),
            steps, n_perm, seed, blocks=blocks, n_proc=n_proc, verbose=self.verbose)

    def _permute_sets(self, key, n_perm, seed, n_proc):
        from .permute.sets import null_colocalizations_sets
        from .stats.coloc import colocalize

        params = self.coloc_params_[key]
        if not params["xsea"]:
            raise ValueError("what='sets' tests XSEA set statistics; run "
                             "nsp.colocalize(method, xsea=True) first.")
        spec = self._coloc_spec(key)
        x, y = self.x_, self.get_y()
        stats = colocalize(x.to_numpy(), y.to_numpy(), params["method"], Z=spec.Z,
                           **params["options"])
        pair = {k: np.asarray(v, float) for k, v in stats.items()
                if np.ndim(v) == 2 and np.shape(v) == (len(y), len(x))}
        sets = x.index.get_level_values("set")
        sizes = [int((sets == name).sum()) for name in spec.sets.names]
        fisher = params["options"].get("fisher_z", False)
        return null_colocalizations_sets(pair, sizes, n_perm, seed, how=params["xsea_aggr"],
                                         rho_scale={"rho": not fisher}, n_proc=n_proc,
                                         verbose=self.verbose)

    def _permute_pairs(self, key, n_perm, seed, n_proc):
        from .permute.pairs import null_colocalizations_pairs, pair_statistics

        params = self.coloc_params_[key]
        if params["xsea"]:
            raise ValueError("what='pairs' needs map-level colocalizations, not XSEA sets.")
        obs = self.colocalizations_[key]
        stat = next((s for s in ("rho", "r2", "beta", "mi") if s in obs), next(iter(obs)))
        frame = obs[stat]
        if frame.shape[0] != frame.shape[1]:
            raise ValueError(f"what='pairs': expected as many Y as X maps (Y_i pairs with "
                             f"X_i); got {frame.shape[0]} Y and {frame.shape[1]} X maps.")
        summary = pair_statistics(frame.to_numpy())
        observed = {"within": pd.DataFrame([[summary["within"]]], index=pd.Index(["pairs"]),
                                           columns=[stat])}
        self.pair_summary_ = summary
        return observed, null_colocalizations_pairs(frame.to_numpy(), n_perm, seed,
                                                    n_proc=n_proc, verbose=self.verbose)

    def correct_p(self, mc_method: str = "meff", method: str | None = None,
                  mc_dimension: str = "x") -> NiSpace:
        """Correct the stored p-values for multiple comparisons.

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
        mc_dimension : {"x", "y", "array"}
            The family: X maps within each Y row (default), Y maps within each
            column, or all tests together.
        """
        from .stats import correction

        self._check_fitted()
        key = self._method_key(method, self.p_values_, "permutations")
        canonical = correction.canonical_mc_method(mc_method)
        check_option("mc_dimension", mc_dimension, ["x", "y", "array"])
        info = self.permutations_[key]
        out = {}
        for stat, p in self.p_values_[key].items():
            corr = self._mc_correlations(key, p, mc_dimension) \
                if canonical.startswith("meff") else None
            kwargs = {}
            if corr is not None:
                kwargs = {"corr_x": corr.get("x"), "corr_y": corr.get("y")}
            if canonical in ("maxt", "step_maxt"):
                kwargs = {"null": self.nulls_[key][stat],
                          "obs": info["observed"][stat].to_numpy(),
                          "tail": info["p_tails"][stat]}
            out[stat] = pd.DataFrame(
                correction.correct_p(p.to_numpy(), canonical, mc_dimension=mc_dimension,
                                     **kwargs),
                index=p.index, columns=p.columns)
        self.p_corrected_.setdefault(key, {})[(canonical, mc_dimension)] = out
        info["mc_method"] = (canonical, mc_dimension)
        return self

    def _mc_correlations(self, key: str, p: pd.DataFrame, mc_dimension: str):
        """Correlations among the tested maps, for the effective number of tests."""
        params = self.coloc_params_[key]
        spearman = "spearman" in params["method"]

        def corr(frame: pd.DataFrame) -> np.ndarray:
            values = frame.to_numpy(dtype=float)
            values = values[:, ~np.isnan(values).any(axis=0)]
            if spearman:
                from scipy.stats import rankdata

                values = rankdata(values, axis=1)
            return np.atleast_2d(np.corrcoef(values))

        x = self.x_
        if params["xsea"]:
            x = _set_means(x)
        out = {}
        if mc_dimension in ("x", "array"):
            out["x"] = corr(x) if p.shape[1] == len(x) else np.eye(p.shape[1])
        if mc_dimension in ("y", "array"):
            y = self.get_y()
            out["y"] = corr(y) if p.shape[0] == len(y) and len(y) > 1 else np.eye(p.shape[0])
        return out

    def get_p_values(self, method: str | None = None, stat: str | None = None,
                     mc_method: str | None = None, mc_dimension: str = "x"):
        """Permutation p-values (DataFrames like :meth:`get_colocalizations`).

        With ``mc_method`` the corrected p-values (computed on first request, see
        :meth:`correct_p`).
        """
        self._check_fitted()
        key = self._method_key(method, self.p_values_, "permutations")
        frames = self.p_values_[key]
        if mc_method is not None:
            from .stats.correction import canonical_mc_method

            tag = (canonical_mc_method(mc_method), mc_dimension)
            if tag not in self.p_corrected_.get(key, {}):
                self.correct_p(mc_method, method=key, mc_dimension=mc_dimension)
            frames = self.p_corrected_[key][tag]
        return self._pick(frames, stat)

    def get_corrected_p_values(self, method: str | None = None, stat: str | None = None):
        """The p-values corrected by the last :meth:`correct_p` call for ``method``."""
        self._check_fitted()
        key = self._method_key(method, self.p_values_, "permutations")
        tag = self.permutations_[key].get("mc_method")
        if tag is None:
            raise RuntimeError("No corrected p-values yet; call nsp.correct_p(mc_method) first.")
        return self._pick(self.p_corrected_[key][tag], stat)

    @staticmethod
    def _pick(frames: dict, stat: str | None):
        if stat is None:
            if len(frames) == 1:
                return next(iter(frames.values())).copy()
            return {k: v.copy() for k, v in frames.items()}
        check_option("stat", stat, list(frames))
        return frames[stat].copy()

    def get_nulls(self, method: str | None = None, stat: str | None = None):
        """Null colocalizations ``(n_perm, n_rows, n_cols)`` per statistic."""
        self._check_fitted()
        key = self._method_key(method, self.nulls_, "permutations")
        nulls = self.nulls_[key]
        if stat is None:
            return next(iter(nulls.values())).copy() if len(nulls) == 1 else \
                {k: v.copy() for k, v in nulls.items()}
        check_option("stat", stat, list(nulls))
        return nulls[stat].copy()

    # ----------------------------------------------------------------------------------
    # figures

    _MAIN_STATS = ("rho", "r2", "total", "beta", "mi", "within")

    def _main_stat(self, frames: dict, stat: str | None) -> str:
        if stat is not None:
            check_option("stat", stat, list(frames))
            return stat
        return next((s for s in self._MAIN_STATS if s in frames), next(iter(frames)))

    @staticmethod
    def _select(frame: pd.DataFrame, which, axis: int, name: str) -> np.ndarray:
        """Positions of the rows/columns of ``frame`` named in ``which`` (labels, the last
        level of a MultiIndex, or integer positions)."""
        index = frame.index if axis == 0 else frame.columns
        if which is None:
            return np.arange(len(index))
        which = [which] if isinstance(which, (str, int, tuple)) else list(which)
        last = index.get_level_values(-1) if isinstance(index, pd.MultiIndex) else index
        out = []
        for w in which:
            if isinstance(w, (int, np.integer)) and not isinstance(w, bool):
                out.append(int(w))
            elif w in index:
                out.append(index.get_loc(w))
            elif w in last:
                out.append(int(np.flatnonzero(np.asarray(last == w))[0]))
            else:
                raise ValueError(f"{name}: {w!r} is not one of the maps ({list(last)[:5]}...).")
        return np.asarray(out)

    def plot(self, method: str | None = None, stat: str | None = None,
             sort_by: str | None = "coloc", n_categories: int | None = None,
             x_maps=None, y_maps=None, mc_method: str | None = None, alpha: float = 0.05,
             title: str | None = None, ax=None, figsize=None):
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
            Correction for the "**" marks (default: the last :meth:`correct_p`).
        Returns
        -------
        (Figure, Axes)
        """
        from .plotting import coloc_title, method_label, plot_colocalizations

        self._check_fitted()
        key = self._method_key(method, self.colocalizations_, "colocalizations")
        info = self.permutations_.get(key)
        frames = info["observed"] if info else self.colocalizations_[key]
        stat = self._main_stat(frames, stat)
        obs = frames[stat]
        nulls = p = q = None
        if info:
            nulls, p = self.nulls_[key][stat], self.p_values_[key][stat]
            tag = mc_method or info.get("mc_method")
            if tag is not None:
                q = (self.get_p_values(key, stat, mc_method=tag) if isinstance(tag, str)
                     else self.p_corrected_[key][tag][stat])
        rows = self._select(obs, y_maps, 0, "y_maps")
        cols = self._select(obs, x_maps, 1, "x_maps")
        obs = obs.iloc[rows, cols]
        if nulls is not None:
            nulls = nulls[:, rows][:, :, cols]
            p = p.iloc[rows, cols]
            q = None if q is None else q.iloc[rows, cols]
        if title is None:
            transform = next((t["y"] for t in reversed(self.transforms_) if "y" in t), None)
            title = coloc_title(self.coloc_params_[key]["method"] +
                                ("_xsea" if self.coloc_params_[key]["xsea"] else ""), stat,
                                transform=transform, what=info["what"] if info else None,
                                maps_which=info.get("maps_which") if info else None)
        return plot_colocalizations(obs, nulls, p, q, sort_by=sort_by,
                                    n_categories=n_categories, alpha=alpha, title=title,
                                    xlabel=method_label(self.coloc_params_[key]["method"], stat),
                                    ax=ax, figsize=figsize)

    def plot_nulls(self, method: str | None = None, stat: str | None = None, maps=None,
                   row: int = 0, **kwargs):
        """Null distribution of every X map (histogram), with the observed value and p."""
        from .plotting import plot_null_distributions

        self._check_fitted()
        key = self._method_key(method, self.nulls_, "permutations")
        info = self.permutations_[key]
        stat = self._main_stat(info["observed"], stat)
        return plot_null_distributions(info["observed"][stat], self.nulls_[key][stat],
                                       self.p_values_[key][stat], row=row, columns=maps,
                                       **kwargs)

    def plot_brain(self, data: str = "Y", maps=None, symmetric_cmap: bool | None = None,
                   **kwargs):
        """Draw parcel values of Y (or X, or Z) on the brain: the cortex on the template
        surface (lateral and medial views of both hemispheres), subcortical and
        volumetric parcellations as slices. Returns a matplotlib Figure."""
        from .plotting import plot_brain

        self._check_fitted()
        check_option("data", data, ["Y", "X", "Z", "y", "x", "z"])
        frame = {"y": self.get_y, "x": self.get_x, "z": self.get_z}[data.lower()]()
        if frame is None:
            raise ValueError("data: this object has no Z maps.")
        rows = self._select(frame, maps, 0, "maps")
        frame = frame.iloc[rows]
        values = np.full((len(frame), self.parcellation_.n_parcels), np.nan)
        values[:, self._parcel_positions()] = frame.to_numpy(dtype=float)
        titles = [" · ".join(map(str, t)) if isinstance(t, tuple) else str(t)
                  for t in frame.index]
        return plot_brain(values, self.parcellation_, titles=titles,
                          symmetric_cmap=symmetric_cmap, **kwargs)

    # ----------------------------------------------------------------------------------
    # persistence

    def save(self, path: str | os.PathLike) -> Path:
        """Save this object to ``path`` (a pickle; load it with :meth:`NiSpace.load`)."""
        path = Path(path)
        payload = {"format": _SAVE_FORMAT, "version": __version__, "object": self}
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as f:
            pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> NiSpace:
        """Load an object saved with :meth:`save`.

        Only load files you created yourself: like every pickle, the file can
        run code when loaded.
        """
        with open(path, "rb") as f:
            payload: Any = pickle.load(f)  # noqa: S301 - user's own file, documented
        if not isinstance(payload, dict) or payload.get("format") != _SAVE_FORMAT:
            raise ValueError(f"path: {path} is not a file saved by NiSpace.save().")
        if payload.get("version") != __version__:
            logger.warning("Loading an object saved with nispace %s (this is %s).",
                           payload.get("version"), __version__)
        return payload["object"]

    def __repr__(self) -> str:
        if not self._fitted:
            return "<NiSpace (not fitted)>"
        y = self.get_y()
        return (f"<NiSpace: X {self.x_.shape[0]} maps, Y {y.shape[0]} maps, "
                f"{self.x_.shape[1]} parcels ({self.parcellation_.name}); colocalizations: "
                f"{list(self.colocalizations_)}>")
