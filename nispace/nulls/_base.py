"""The objects a null model is made of: the base class, split and subset wrappers.

A *null model* is prepared once for a geometry (centroids, distances, meshes) and
then draws null maps chunk by chunk; see :mod:`nispace.nulls.registry` for the two
kinds (``"index"`` and ``"values"``) and the registry of named models. This module
sits below every null family, so families and the registry can both import it.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from ..errors import InputTypeError

__all__ = ["NullModel", "SplitNullModel", "SubsetNullModel", "gather"]


def gather(data: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Resolve index nulls: ``data[idx]``, NaN where the index is -1 or the source is NaN.

    Parameters
    ----------
    data : numpy.ndarray, shape (n_parcels,)
        One map.
    idx : numpy.ndarray of int, shape (n, n_parcels)
        Null maps as parcel indices into ``data`` (-1: no source parcel).

    Returns
    -------
    numpy.ndarray, shape (n, n_parcels)
        The null maps; the input's NaN parcels stay NaN.
    """
    data = np.asarray(data, dtype=np.float64)
    bad = idx < 0
    out = data[np.where(bad, 0, idx)]
    out[bad] = np.nan
    out[:, np.isnan(data)] = np.nan
    return out


def _array_key(arr) -> str:
    arr = np.asarray(arr)
    return f"{arr.dtype.str}{list(arr.shape)}"


def _json_value(value):
    """JSON form of a parameter value json cannot write itself (for the cache key)."""
    if isinstance(value, np.ndarray):
        return {"array": _array_key(value),
                "sha256": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise InputTypeError(f"null_kwargs: parameter values must be numbers, strings, booleans, "
                         f"None, sequences or arrays (they key the null-map cache); got "
                         f"{value!r} (a {type(value).__name__}).")


class NullModel:
    """Base class: a null model prepared for one geometry."""

    name = ""
    kind = "values"
    #: Drawing the nulls again costs about as much as reading them from disk (e.g. Moran
    #: on a few dozen subcortical parcels): the null-map cache then stores only the
    #: other parts of a split model and draws these again, bit for bit, when read.
    cheap = False

    def digest(self) -> str:
        """Hash of the prepared geometry and parameters (for the null-map cache).

        Arrays enter by dtype, shape and bytes, parameters as sorted-key JSON (arrays
        among them likewise by dtype, shape and SHA-256): stable across processes and
        versions, and nothing is ever unpickled.
        """
        h = hashlib.sha256(self.name.encode())
        for arr in self._geometry():
            h.update(_array_key(arr).encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(json.dumps(self._params(), sort_keys=True, default=_json_value).encode())
        return f"{self.name}-{h.hexdigest()[:24]}"

    def _geometry(self) -> list[np.ndarray]:
        return []

    def _params(self) -> dict:
        return {}

    def prepare(self, data: np.ndarray) -> None:
        """Do the per-map preparation once, before the model is shipped to workers.

        Parameters
        ----------
        data : numpy.ndarray, shape (n_maps, n_parcels)
            The maps that will be permuted (default: nothing to prepare).
        """

    def indices(self, n: int, seed) -> np.ndarray:  # index kind
        """Null maps as parcel indices (models of the ``"index"`` kind only).

        Parameters
        ----------
        n : int
            Number of null maps.
        seed : int, numpy.random.SeedSequence or None
            Seed of this chunk (the same for every map, so all maps share the
            permutations).

        Returns
        -------
        numpy.ndarray of int, shape (n, n_parcels)
            Source parcel of every parcel in every null map (-1: none).
        """
        raise NotImplementedError

    def values(self, data: np.ndarray, n: int, seed_map, seed_shared=None) -> np.ndarray:
        """Null maps of one map.

        Parameters
        ----------
        data : numpy.ndarray, shape (n_parcels,)
            The map.
        n : int
            Number of null maps.
        seed_map : int, numpy.random.SeedSequence or None
            Seed of this map and chunk (models of the ``"values"`` kind).
        seed_shared : int, numpy.random.SeedSequence or None
            Seed shared by all maps of the chunk (models of the ``"index"`` kind).

        Returns
        -------
        numpy.ndarray, shape (n, n_parcels)
        """
        if self.kind == "index":
            return gather(data, self.indices(n, seed_shared))
        raise NotImplementedError


def _children(seed) -> tuple:
    """Two child seeds of ``seed`` without changing ``seed`` (so every map gets the same)."""
    if seed is None:
        return None, None
    if not isinstance(seed, np.random.SeedSequence):
        seed = np.random.SeedSequence(seed)
    fresh = np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key,
                                   pool_size=seed.pool_size)
    return tuple(fresh.spawn(2))


class SplitNullModel(NullModel):
    """Cortex and subcortex parcels permuted by two models, stitched together.

    Parameters
    ----------
    cortex, subcortex : NullModel
        The models of the cortical and of the subcortical parcels.
    cx_idx, sc_idx : array_like of int
        Positions of the cortical and subcortical parcels in the maps.
    """

    kind = "values"

    def __init__(self, cortex: NullModel, subcortex: NullModel, cx_idx, sc_idx):
        self.cortex, self.subcortex = cortex, subcortex
        self.cx_idx, self.sc_idx = np.asarray(cx_idx), np.asarray(sc_idx)
        self.name = f"{cortex.name}+{subcortex.name}"

    def digest(self) -> str:
        h = hashlib.sha256(f"{self.cortex.digest()}|{self.subcortex.digest()}".encode())
        h.update(self.cx_idx.tobytes() + self.sc_idx.tobytes())
        return f"split-{h.hexdigest()[:24]}"

    def prepare(self, data):
        data = np.atleast_2d(np.asarray(data, dtype=np.float64))
        self.cortex.prepare(data[:, self.cx_idx])
        self.subcortex.prepare(data[:, self.sc_idx])

    def values(self, data, n, seed_map, seed_shared=None):
        data = np.asarray(data, dtype=np.float64)
        out = np.empty((n, data.size))
        out[:, self.cx_idx] = self.part_values(0, data, n, seed_map, seed_shared)
        out[:, self.sc_idx] = self.part_values(1, data, n, seed_map, seed_shared)
        return out

    def part_values(self, part: int, data, n: int, seed_map, seed_shared=None) -> np.ndarray:
        """The columns of :meth:`values` of one part, drawn alone with the same seeds.

        Parameters
        ----------
        part : {0, 1}
            0: cortex, 1: subcortex.
        data : array, shape (n_parcels,)
            The full map.
        n : int
            Number of null maps.
        seed_map, seed_shared : SeedSequence
            The seeds :meth:`values` is called with.

        Returns
        -------
        ndarray, shape (n, n_part_parcels)
        """
        model, idx = (self.cortex, self.cx_idx) if part == 0 else (self.subcortex, self.sc_idx)
        data = np.asarray(data, dtype=np.float64)
        return model.values(data[idx], n, _children(seed_map)[part],
                            _children(seed_shared)[part])

    def cortex_indices(self, n: int, seed_shared) -> np.ndarray:
        """Index nulls of the cortex part (index-kind cortex model only).

        These are the rows :meth:`values` gathers the cortex columns from.

        Parameters
        ----------
        n : int
            Number of null maps.
        seed_shared : SeedSequence
            The shared seed :meth:`values` is called with.

        Returns
        -------
        ndarray, shape (n, n_cortex_parcels)
        """
        return self.cortex.indices(n, _children(seed_shared)[0])


class SubsetNullModel(NullModel):
    """A model of all ``n_all`` parcels applied to data on the parcels ``keep`` only.

    Parcels outside ``keep`` count as NaN.

    Parameters
    ----------
    model : NullModel
        A model prepared for all ``n_all`` parcels.
    keep : array_like of int
        Positions of the parcels the data have.
    n_all : int
        Number of parcels of ``model``.
    """

    def __init__(self, model: NullModel, keep, n_all: int):
        self.model, self.keep, self.n_all = model, np.asarray(keep), int(n_all)
        self.kind, self.name = model.kind, model.name
        self._pos = np.full(self.n_all, -1)
        self._pos[self.keep] = np.arange(self.keep.size)

    def digest(self) -> str:
        h = hashlib.sha256(self.model.digest().encode() + self.keep.tobytes())
        return f"{self.name}-sub-{h.hexdigest()[:24]}"

    def prepare(self, data):
        data = np.atleast_2d(np.asarray(data, dtype=np.float64))
        full = np.full((data.shape[0], self.n_all), np.nan)
        full[:, self.keep] = data
        self.model.prepare(full)

    def indices(self, n, seed):
        idx = self.model.indices(n, seed)[:, self.keep]
        return np.where(idx < 0, -1, self._pos[np.where(idx < 0, 0, idx)])

    def values(self, data, n, seed_map, seed_shared=None):
        if self.kind == "index":
            return gather(data, self.indices(n, seed_shared))
        full = np.full(self.n_all, np.nan)
        full[self.keep] = data
        return self.model.values(full, n, seed_map, seed_shared)[:, self.keep]
