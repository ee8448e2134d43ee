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

from . import __version__
from ._errors import check_option
from ._logging import verbose_context
from .parcellation import Parcellation

logger = logging.getLogger("nispace.api")

_STANDARDIZE = {"x", "y", "z"}
_SAVE_FORMAT = "nispace-object"
#: methods whose cross-validation folds are spatial blocks of parcel centroids
_CV_METHODS = {"pls", "pcr", "lasso", "ridge", "elasticnet"}


def _zscore_rows(frame: pd.DataFrame) -> pd.DataFrame:
    from .datasets.tables import zscore_rows

    return zscore_rows(frame)


class NiSpace:
    """Spatial colocalization of brain maps.

    Parameters
    ----------
    x : images, table, array or str
        Reference maps (e.g. PET receptor maps): NIfTI/GIfTI images, paths, a list
        or dict of them, a DataFrame/array (maps x parcels), or the name of a
        reference dataset (``"pet"``, ``"mrna"``, ...), fetched for the
        parcellation (with ``x_collection``).
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
        Parallel workers.
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
            if not isinstance(self.n_proc, (int, np.integer)) or self.n_proc < 1:
                raise ValueError(f"n_proc: expected a positive integer; got {self.n_proc!r}.")
            standardize = self._standardize_set(self.standardize)
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
            self.colocalizations_: dict[str, dict[str, pd.DataFrame]] = {}
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
                           resampling_target=self.resampling_target)
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
        if how in ("between", "both") or combat:
            cov = self._covariate_frame(covariates_between, y)
            if combat:
                if "site" not in cov:
                    raise ValueError("covariates_between: ComBat needs a 'site' column; got "
                                     f"columns {list(cov.columns)}.")
                others = cov.drop(columns="site")
                values = cleaning.combat(values, cov["site"].to_numpy(),
                                         None if others.empty else
                                         cleaning.one_hot(others)[0])
                cov = others
            if how in ("between", "both") and not cov.empty:
                protect = [protect] if isinstance(protect, str) else list(protect or [])
                missing = [p for p in protect if p not in cov]
                if missing:
                    raise ValueError(f"protect: columns {missing} are not in "
                                     f"covariates_between ({list(cov.columns)}).")
                prot = cleaning.one_hot(cov[protect])[0] if protect else None
                rest = cov.drop(columns=protect)
                values = cleaning.regress_between(values, cleaning.one_hot(rest)[0], prot)
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
        self.y_ = pd.DataFrame(values, index=y.index, columns=y.columns)
        self.transforms_.append({"clean_y": how, "combat": combat})
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

    def get_colocalizations(self, method: str | None = None, stat: str | None = None):
        """Stored colocalizations.

        Parameters
        ----------
        method : str, optional
            The method (``"spearman"``, ``"mlr"``, ``"spearman_xsea"``, ...). May be
            omitted only when a single method has been run.
        stat : str, optional
            One statistic (``"rho"``, ``"r2"``, ``"beta"``, ...). Omitted: the
            method's main statistic if it has only one, else a dict of all.
        """
        self._check_fitted()
        done = list(self.colocalizations_)
        if not done:
            raise RuntimeError("No colocalizations yet; call nsp.colocalize(method) first.")
        if method is None:
            if len(done) > 1:
                raise ValueError(f"method: several methods were run ({done}); name one.")
            method = done[0]
        check_option("method", method, done)
        results = self.colocalizations_[method]
        if stat is None:
            if len(results) == 1:
                return next(iter(results.values())).copy()
            return {k: v.copy() for k, v in results.items()}
        check_option("stat", stat, list(results))
        return results[stat].copy()

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
