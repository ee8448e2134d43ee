"""The multi-space :class:`Parcellation`.

A parcellation in nispace is one set of parcels represented in several coordinate
spaces: MNI152 volumes (``MNI152NLin2009cAsym``, ``MNI152NLin6Asym``) and
cortical surfaces (``fsaverage``, ``fsLR``, left and right hemisphere). Labels are
the same in every space; images are loaded only when first needed. Centroids and
distance matrices are computed on first use and cached (distance matrices also
on disk, keyed by the content of the images and meshes they are computed from).

Conventions
-----------
* Parcel ``i`` (0-based) carries label value ``label_values[i]`` in the image and
  name ``labels[i]``. Library parcellations use values ``1..n_parcels``.
* Surface label data are the left hemisphere's vertices followed by the right
  hemisphere's; right-hemisphere label values continue after the left ones;
  0 is background / medial wall.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import nibabel as nib
import numpy as np
import pandas as pd

from .._cache import cache_folder, load_array, remove_stale_parts, save_array
from .._errors import check_option
from ..errors import DataError, InputError
from . import geometry
from .combine import merge_label_volumes
from .formats import (MESH_DENSITIES, annot_hemispheres, dlabel_hemispheres, is_annot_pair,
                      is_cifti, labels_to_gifti_pair)
from .._docs import fill_doc

logger = logging.getLogger("nispace.parcellation")

#: spaces in order of preference for the default active space
SPACES = ["MNI152NLin2009cAsym", "MNI152NLin6Asym", "fsLR", "fsaverage"]
SURFACE_SPACES = {"fsaverage", "fsLR"}
#: bump when the way distances are computed changes (invalidates the disk cache)
_DIST_VERSION = "1"

ImageLike = Any  # path, nibabel image, or (L, R) pair of them


@dataclass
class _Space:
    """One representation of the parcellation (internal)."""

    kind: str  # "volume" | "surface"
    source: ImageLike | Callable[[], ImageLike]
    labels: list[str] | None = None
    density: str | None = None
    _img: Any = field(default=None, repr=False)
    _data: np.ndarray | None = field(default=None, repr=False)
    _hemi_sizes: tuple[int, int] | None = field(default=None, repr=False)

    def img(self):
        if self._img is None:
            src = self.source() if callable(self.source) else self.source
            if self.kind == "volume":
                self._img = _load_volume(src)
            else:
                self._img = tuple(_load_gifti(s) for s in src)
        return self._img

    def data(self) -> np.ndarray:
        if self._data is None:
            img = self.img()
            if self.kind == "volume":
                self._data = np.asarray(np.round(np.asarray(img.dataobj)), dtype=np.int32)
            else:
                lh, rh = (np.asarray(g.darrays[0].data).astype(np.int32).ravel() for g in img)
                self._hemi_sizes = (lh.size, rh.size)
                self._data = np.concatenate([lh, rh])
        return self._data

    def hemi_sizes(self) -> tuple[int, int]:
        self.data()
        return self._hemi_sizes


def _load_volume(src) -> nib.Nifti1Image:
    img = nib.load(os.fspath(src)) if isinstance(src, (str, os.PathLike)) else src
    if not isinstance(img, nib.spatialimages.SpatialImage) or len(img.shape) != 3:
        shape = getattr(img, "shape", None)
        raise InputError(f"parcellation: expected a 3D label image; got {type(img).__name__} "
                         f"with shape {shape}.")
    return img


def _load_gifti(src) -> nib.GiftiImage:
    img = nib.load(os.fspath(src)) if isinstance(src, (str, os.PathLike)) else src
    if not isinstance(img, nib.GiftiImage) or not img.darrays:
        raise InputError(f"parcellation: expected a GIfTI label image per hemisphere; got "
                         f"{type(img).__name__}.")
    return img


def _read_labels(path) -> list[str]:
    text = Path(path).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


@fill_doc
class Parcellation:
    """A brain parcellation available in one or more spaces.

    Build it with :func:`nispace.datasets.fetch_parcellation` (library
    parcellations, also combined cortex + subcortex ones) or
    :meth:`from_image` (your own NIfTI or GIfTI parcellation).

    Parameters
    ----------
    name : str or None
        Display name.
    spaces : dict
        Internal: space name -> representation.
    level : {"cortex", "subcortex", "combined"} or None
        What the parcels cover.
    library_names : tuple of str
        Names of the library parcellation(s) this is built from (empty for
        custom parcellations); used to find pre-parcellated reference tables.
    templates : callable, optional
        Where template meshes come from: ``templates(space, desc=..., res=...)``
        returns a volume path or an ``(L, R)`` pair of surface paths, as
        :func:`nispace.datasets.template_source` does. Needed only for surface
        geometry (centroids, distances, meshes); parcellations built by
        :func:`nispace.datasets.fetch_parcellation` have it.
    """

    def __init__(self, name: str | None, spaces: dict[str, _Space], level: str | None = None,
                 library_names: tuple[str, ...] = (), meta: dict | None = None,
                 components: tuple[Parcellation, ...] = (), data_dir=None, data_url=None,
                 templates: Callable[..., Any] | None = None):
        if not spaces:
            raise InputError("spaces: a Parcellation needs at least one space.")
        self.name = name
        self._spaces = spaces
        self.level = level
        self.library_names = tuple(library_names)
        self.meta = dict(meta or {})
        self.components = tuple(components)
        self._data_dir = data_dir  # data_url is accepted for compatibility, not needed
        self._templates = templates
        self._cache: dict[tuple, np.ndarray] = {}
        self._active = next((s for s in SPACES if s in spaces), next(iter(spaces)))
        self.validate()

    # ----------------------------------------------------------------------------------
    # construction

    @classmethod
    def from_image(cls, img: ImageLike, labels: list[str] | str | os.PathLike | None = None,
                   space: str | None = None, name: str | None = None, data_dir=None,
                   data_url=None, templates: Callable[..., Any] | None = None
                   ) -> Parcellation:
        """Build a parcellation from your own label image.

        Parameters
        ----------
        img : path, nibabel image, or (L, R) pair of GIfTI label files/images
            A 3D integer label volume (0 = background) or per-hemisphere surface
            labels; also a CIFTI-2 ``.dlabel.nii`` (cortex L/R) or an (L, R) pair of
            FreeSurfer ``.annot`` files, whose parcel names are used when ``labels``
            is not given (parcels numbered left hemisphere first).
        labels : list of str, or path to a text file (one label per line), optional
            Parcel names in the order of the sorted non-zero label values.
            Default: the label values as strings.
        space : str, optional
            The space of the image. Volumes default to ``"MNI152NLin6Asym"``;
            surfaces are recognised from their number of vertices.
        name : str, optional
            Display name.
        data_dir : optional
            Data directory whose cache holds computed distance matrices.
        data_url : optional
            Accepted for compatibility and not used: template meshes come from
            ``templates``.
        templates : callable, optional
            Source of template meshes for surface centroids and distances, e.g.
            ``nispace.datasets.template_source(data_dir, data_url)``;
            :func:`nispace.datasets.fetch_parcellation` given your image sets it for you.
        """
        logger.info("Building Parcellation from path / image.")
        if isinstance(labels, (str, os.PathLike)):
            labels = _read_labels(labels)
        elif labels is not None:
            labels = [str(lab) for lab in labels]
        if is_cifti(img) or is_annot_pair(img):
            read = dlabel_hemispheres if is_cifti(img) else annot_hemispheres
            lh, rh, found = read(img, "parcellation")
            img = labels_to_gifti_pair(lh, rh)
            labels = found if labels is None else labels
        if isinstance(img, (tuple, list)):
            if len(img) != 2:
                raise InputError(f"img: expected one volume or an (L, R) pair of surface label "
                                 f"files; got {len(img)} items.")
            entry = _Space("surface", tuple(img), labels)
            lh, rh = (np.asarray(g.darrays[0].data).astype(np.int32) for g in entry.img())
            if np.intersect1d(np.unique(lh[lh > 0]), np.unique(rh[rh > 0])).size:
                rh = np.where(rh > 0, rh + lh.max(), 0)  # numbering restarted per hemisphere
            entry._data, entry._hemi_sizes = np.concatenate([lh, rh]), (lh.size, rh.size)
            detected, entry.density = MESH_DENSITIES.get(lh.size, (None, None))
            space = space or detected
            if space is None:
                raise InputError(f"space: cannot tell the surface space of a mesh with "
                                 f"{lh.size} vertices per hemisphere; pass space='fsaverage' "
                                 f"or 'fsLR'.")
            level = "cortex"
        else:
            entry = _Space("volume", img, labels)
            entry.data()  # load now so that the labels are validated against the image
            space = space or "MNI152NLin6Asym"
            level = None
        logger.info("Parcellation space: '%s'.", space)
        return cls(name, {space: entry}, level=level, data_dir=data_dir, templates=templates)

    @classmethod
    def combine(cls, cortex: Parcellation, subcortex: Parcellation,
                name: str | None = None) -> Parcellation:
        """Combine a cortical and a subcortical parcellation.

        Volumetric spaces present in both are merged (subcortical label values are
        offset by the number of cortical parcels; overlapping voxels stay
        cortical). The cortical surface spaces are kept in
        :attr:`components` for surface-based null models of the cortex.

        Parameters
        ----------
        cortex, subcortex : Parcellation
            The two parcellations (not modified).
        name : str, optional
            Name of the combination (default: the two names joined).

        Returns
        -------
        Parcellation
        """
        name = name or f"{cortex.name}{subcortex.name}"
        common = [s for s in cortex.spaces if s in subcortex.spaces
                  and cortex._spaces[s].kind == "volume"]
        if not common:
            raise InputError(f"parcellation: {cortex.name!r} and {subcortex.name!r} share no "
                             f"volumetric space ({cortex.spaces} vs {subcortex.spaces}).")
        logger.info("Building combined Parcellation '%s'. Common MNI space(s): %s.", name, common)
        spaces = {}
        for s in common:
            spaces[s] = _Space("volume", _merged_loader(cortex, subcortex, s),
                               cortex.get_labels(s) + subcortex.get_labels(s))
        return cls(name, spaces, level="combined",
                   library_names=cortex.library_names + subcortex.library_names,
                   components=(cortex, subcortex), data_dir=cortex._data_dir,
                   templates=cortex._templates)

    # ----------------------------------------------------------------------------------
    # spaces

    @property
    def spaces(self) -> list[str]:
        """Spaces in which this parcellation is available."""
        return list(self._spaces)

    @property
    def active_space(self) -> str:
        """The space used when a method is called without ``space=``."""
        return self._active

    @property
    def surface_spaces_cortex(self) -> list[str]:
        """Surface spaces available for the cortical parcels (also for combined ones)."""
        comps = self.components or (self,)
        return [s for s in comps[0].spaces if s in SURFACE_SPACES]

    def set_active_space(self, space: str) -> Parcellation:
        """Make ``space`` the default space of all methods; returns self.

        Parameters
        ----------
        space : str
            One of :attr:`spaces`.

        Returns
        -------
        Parcellation
            This object.
        """
        check_option("space", space, self.spaces)
        if space != self._active:
            logger.info("Parcellation '%s': active space set to '%s' (was '%s').",
                        self.name, space, self._active)
        self._active = space
        return self

    def copy(self) -> Parcellation:
        """An independent copy: changing its active space (or anything else) leaves this
        object as it is. Images already loaded and cached geometry are shared read-only."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._spaces = {s: replace(e) for s, e in self._spaces.items()}
        new.meta = dict(self.meta)
        new._cache = dict(self._cache)
        return new

    def with_space(self, space: str) -> Parcellation:
        """A copy whose active space is ``space``; this object is not changed.

        Parameters
        ----------
        space : str
            One of :attr:`spaces`.

        Returns
        -------
        Parcellation
            A copy.
        """
        check_option("space", space, self.spaces)
        new = self.copy()
        new._active = space
        return new

    def _space(self, space: str | None) -> tuple[str, _Space]:
        space = self._active if space is None else space
        check_option("space", space, self.spaces)
        return space, self._spaces[space]

    def is_surface(self, space: str | None = None) -> bool:
        """True if the (active) space is a surface space.

        Parameters
        ----------
        %(parc_space)s

        Returns
        -------
        bool
        """
        return self._space(space)[1].kind == "surface"

    # ----------------------------------------------------------------------------------
    # images, labels

    def get_img(self, space: str | None = None):
        """The label image: a NIfTI image, or an (L, R) pair of GIfTI images.

        Parameters
        ----------
        %(parc_space)s

        Returns
        -------
        nibabel.nifti1.Nifti1Image or tuple of nibabel.gifti.GiftiImage
        """
        space, entry = self._space(space)
        if entry._img is None:
            logger.info("Lazy-loading parcellation image for space '%s'.", space)
        return entry.img()

    def get_data(self, space: str | None = None) -> np.ndarray:
        """Integer label array: the 3D volume, or L then R vertices of a surface.

        Parameters
        ----------
        %(parc_space)s

        Returns
        -------
        numpy.ndarray
        """
        return self._space(space)[1].data()

    def get_label_values(self, space: str | None = None) -> np.ndarray:
        """Label value of every parcel (length ``n_parcels``).

        Parameters
        ----------
        %(parc_space)s

        Returns
        -------
        numpy.ndarray
        """
        space, entry = self._space(space)
        key = ("values", space)
        if key not in self._cache:
            if self.library_names and entry.labels is not None:
                values = np.arange(1, len(entry.labels) + 1)
            else:
                data = entry.data()
                values = np.unique(data[data > 0])
            self._cache[key] = values
        return self._cache[key]

    def get_labels(self, space: str | None = None) -> list[str]:
        """Parcel names of the (active) space.

        Parameters
        ----------
        %(parc_space)s

        Returns
        -------
        list of str
        """
        space, entry = self._space(space)
        if entry.labels is None:
            return [str(v) for v in self.get_label_values(space)]
        return list(entry.labels)

    @property
    def labels(self) -> list[str]:
        """Parcel names (active space)."""
        return self.get_labels()

    @property
    def n_parcels(self) -> int:
        """Number of parcels."""
        return len(self.get_labels())

    def validate(self) -> None:
        """Check that labels agree across spaces and with the label images loaded so far."""
        named = {s: e.labels for s, e in self._spaces.items() if e.labels is not None}
        if len({tuple(v) for v in named.values()}) > 1:
            counts = {s: len(v) for s, v in named.items()}
            raise DataError(f"parcellation {self.name!r}: labels differ between spaces "
                            f"({counts} labels).")
        for labels in named.values():
            repeated = sorted(str(v) for v, n in Counter(labels).items() if n > 1)
            if repeated:
                raise InputError(f"labels: parcel names must be unique; {repeated[:5]} "
                                 f"occur more than once in parcellation {self.name!r}.")
        for s, e in self._spaces.items():
            if e.labels is not None and e._data is not None:
                n_img = len(np.unique(e._data[e._data > 0]))
                if n_img != len(e.labels):
                    raise InputError(
                        f"labels: {len(e.labels)} names given but the {s} image has {n_img} "
                        f"parcels (non-zero label values).")
        logger.info("Parcellation '%s': validation passed.", self.name)

    # ----------------------------------------------------------------------------------
    # parcel groups

    def get_hemi_indices(self, hemi: str, space: str | None = None) -> np.ndarray:
        """0-based indices of the parcels in hemisphere ``"L"`` or ``"R"``.

        Taken from ``hemi-L`` / ``hemi-R`` in the labels where present; otherwise
        from the surface the parcel lies on, or the sign of the centroid's x.

        Parameters
        ----------
        hemi : {"L", "R"}
            The hemisphere.
        %(parc_space)s

        Returns
        -------
        numpy.ndarray
        """
        check_option("hemi", hemi, ["L", "R"])
        labels = self.get_labels(space)
        tags = [("L" if "hemi-L" in lab else "R" if "hemi-R" in lab else None) for lab in labels]
        if all(tags):
            return np.flatnonzero(np.array(tags) == hemi)
        space, entry = self._space(space)
        if entry.kind == "surface":
            data, (n_l, _) = entry.data(), entry.hemi_sizes()
            left = set(np.unique(data[:n_l]))
            side = np.array(["L" if v in left else "R" for v in self.get_label_values(space)])
        else:
            x = self.get_centroids(space)[:, 0]
            side = np.where(x < 0, "L", "R")
        return np.flatnonzero(side == hemi)

    def get_level_indices(self, level: str) -> np.ndarray:
        """0-based indices of the ``"cortex"`` or ``"subcortex"`` parcels.

        Parameters
        ----------
        level : {"cortex", "subcortex"}
            The level.

        Returns
        -------
        numpy.ndarray
        """
        check_option("level", level, ["cortex", "subcortex"])
        n = self.n_parcels
        if self.level == "combined":
            n_cx = self.components[0].n_parcels
            idx = np.arange(n)
            return idx[:n_cx] if level == "cortex" else idx[n_cx:]
        if self.level in ("cortex", "subcortex"):
            return np.arange(n) if level == self.level else np.arange(0)
        raise InputError(f"level: parcellation {self.name!r} does not say which parcels are "
                         f"cortical; build it with Parcellation.combine or use a library one.")

    @property
    def cortex_indices(self) -> np.ndarray:
        """0-based indices of the cortical parcels."""
        return self.get_level_indices("cortex")

    @property
    def subcortex_indices(self) -> np.ndarray:
        """0-based indices of the subcortical parcels."""
        return self.get_level_indices("subcortex")

    # ----------------------------------------------------------------------------------
    # geometry

    def _template(self, space: str, desc: str, density: str | None):
        if self._templates is None:
            raise InputError(f"templates: Parcellation {self.name!r} has no source of template "
                             f"meshes, needed for its {space} geometry; build it with "
                             f"nispace.datasets.fetch_parcellation(<your image>) or pass "
                             f"templates=nispace.datasets.template_source() to "
                             f"Parcellation.from_image.")
        return self._templates(space, desc=desc, res=density)

    def _density(self, space: str) -> str | None:
        entry = self._spaces[space]
        if entry.density is None:
            entry.density = MESH_DENSITIES.get(entry.hemi_sizes()[0], (None, None))[1]
        return entry.density

    def _mesh(self, space: str, desc: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per-hemisphere (coords, faces) of a template mesh; 'midthickness' falls back to
        the mean of the white and pial surfaces (fsaverage)."""
        density = self._density(space)
        try:
            files = [self._template(space, desc, density)]
        except ValueError:
            if desc != "midthickness":
                raise
            files = [self._template(space, "white", density), self._template(space, "pial",
                                                                              density)]
        coords, faces = [], []
        for h in range(2):
            surfs = [nib.load(os.fspath(f[h])) for f in files]
            xyz = np.mean([s.agg_data("pointset") for s in surfs], axis=0)
            coords.append(np.asarray(xyz, dtype=np.float64))
            faces.append(np.asarray(surfs[0].agg_data("triangle"), dtype=np.int64))
        return coords, faces

    def get_mesh(self, space: str | None = None, desc: str = "midthickness"
                 ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Template mesh of a surface space: ``([coords_L, coords_R], [faces_L, faces_R])``.

        Parameters
        ----------
        %(parc_space)s
        desc : str
            ``"midthickness"`` (fsaverage: mean of white and pial), ``"inflated"``,
            ``"sphere"``, ``"white"``, ``"pial"``, ... as the data source provides them.

        Returns
        -------
        tuple of (list of ndarray, list of ndarray)
            ``([coords_L, coords_R], [faces_L, faces_R])``.
        """
        space, entry = self._space(space)
        if entry.kind != "surface":
            raise InputError(f"space: {space!r} is a volume space of {self.name!r}; meshes "
                             f"exist for its surface spaces {self.surface_spaces_cortex}.")
        return self._mesh(space, desc)

    def get_hemi_sizes(self, space: str | None = None) -> tuple[int, int]:
        """Vertices per hemisphere ``(n_left, n_right)`` of a surface space.

        Parameters
        ----------
        %(parc_space)s

        Returns
        -------
        tuple of int
        """
        space, entry = self._space(space)
        if entry.kind != "surface":
            raise InputError(f"space: {space!r} is not a surface space of {self.name!r}.")
        return entry.hemi_sizes()

    def get_template(self, space: str, desc: str = "T1w", res: str | None = None):
        """A template file of ``space`` from the same data source as this parcellation.

        Parameters
        ----------
        space : str
            Template space, e.g. ``"MNI152NLin6Asym"`` or ``"fsLR"``.
        desc : str
            Which template (``"T1w"``, ``"brain"``, ``"midthickness"``, ...; see
            :func:`nispace.datasets.fetch_template`).
        res : str, optional
            Resolution or density (e.g. ``"1mm"``, ``"32k"``).

        Returns
        -------
        pathlib.Path or list of pathlib.Path
        """
        return self._template(space, desc, res)

    def _medial_mask(self, space: str) -> list[np.ndarray] | None:
        try:
            files = self._template(space, "medial", self._density(space))
        except ValueError:
            return None
        return [np.asarray(nib.load(os.fspath(f)).agg_data()).ravel() > 0 for f in files]

    def get_centroids(self, space: str | None = None) -> np.ndarray:
        """Parcel centroids, shape (n_parcels, 3).

        Volumes: mean voxel position in world (mm) coordinates. Surfaces: on the
        template sphere (for spin tests), the parcel vertex closest to the mean of
        the parcel's sphere coordinates.

        Parameters
        ----------
        %(parc_space)s

        Returns
        -------
        numpy.ndarray
        """
        space, entry = self._space(space)
        key = ("centroids", space)
        if key not in self._cache:
            values = self.get_label_values(space)
            if entry.kind == "volume":
                img = entry.img()
                self._cache[key] = geometry.volume_centroids(entry.data(), img.affine, values)
            else:
                (c_l, c_r), _ = self._mesh(space, "sphere")
                coords = np.concatenate([c_l, c_r])
                self._cache[key], _ = geometry.surface_centroids(entry.data(), coords, values,
                                                                 method="surface")
        return self._cache[key].copy()

    def get_dist_mat(self, space: str | None = None, cache: bool = True) -> np.ndarray:
        """Distance matrix between parcels, shape (n_parcels, n_parcels), in mm.

        Volumes: Euclidean distance between parcel centroids. Surfaces: geodesic
        distance along the template mesh (fsLR midthickness; fsaverage: mean of
        white and pial) between the parcels' centroid vertices, medial wall
        excluded, computed per hemisphere; distances between hemispheres are
        ``inf``. Computed on first use and cached on disk
        (``<NISPACE_DATA_DIR>/cache/distmat``), keyed by the content of the
        label image and meshes; a cached matrix is used only if its sidecar's key
        and SHA-256 match (else it is computed again, with a WARNING), and an
        unwritable cache folder keeps the matrix in memory (WARNING).

        Parameters
        ----------
        %(parc_space)s
        cache : bool
            Read and write the disk cache.

        Returns
        -------
        numpy.ndarray
        """
        space, entry = self._space(space)
        key = ("dist", space)
        if key in self._cache:
            return self._cache[key].copy()
        logger.info("Lazy-loading dist mat for '%s' in space '%s'.", self.name, space)
        values = self.get_label_values(space)
        digest = hashlib.sha256(f"{_DIST_VERSION}|{entry.kind}|{space}".encode())
        digest.update(np.ascontiguousarray(entry.data()).tobytes())
        digest.update(np.asarray(values, dtype=np.int64).tobytes())
        if entry.kind == "volume":
            digest.update(np.asarray(entry.img().affine, dtype=np.float64).tobytes())
        else:
            coords, faces = self._mesh(space, "midthickness")
            medial = self._medial_mask(space)
            for arr in coords + faces + (medial or []):
                digest.update(np.ascontiguousarray(arr).tobytes())
        n = len(values)
        cache_key = {"what": "distance matrix", "inputs_sha256": digest.hexdigest(),
                     "kind": entry.kind, "space": space, "n_parcels": n,
                     "version": _DIST_VERSION}
        folder = cache_folder("distmat", self._data_dir, fallback=False)[0] if cache \
            else None
        if folder is not None:
            cache_file = folder / f"{digest.hexdigest()}.npy"
            dist = load_array(cache_file, cache_key, shape=(n, n), dtype=np.float64,
                              what="cached distance matrix")
            if dist is not None:
                self._cache[key] = dist
                return dist.copy()
        if entry.kind == "volume":
            dist = geometry.euclidean_distance_matrix(self.get_centroids(space))
        else:
            dist = self._surface_distances(entry, values, coords, faces, medial)
        dist = np.asarray(dist, dtype=np.float64)
        if folder is not None:
            remove_stale_parts(folder)
            save_array(cache_file, dist, cache_key)
        self._cache[key] = dist
        return dist.copy()

    def _surface_distances(self, entry, values, coords, faces, medial) -> np.ndarray:
        data, (n_l, _) = entry.data(), entry.hemi_sizes()
        dist = np.full((len(values), len(values)), np.inf)
        for h, part in enumerate((data[:n_l], data[n_l:])):
            idx = np.flatnonzero(np.isin(values, part))
            if idx.size == 0:
                continue
            mask = medial[h] if medial is not None else None
            dist[np.ix_(idx, idx)] = geometry.parcel_geodesic_distances(
                part, faces[h], coords[h], values[idx], mask=mask)
        np.fill_diagonal(dist, 0.0)
        return dist

    def region_summary(self, space: str | None = None) -> pd.DataFrame:
        """Size of every parcel, in the style of nilearn's masker reports.

        Volumes: number of voxels times the voxel volume (mm³). Surfaces: area on
        the template mesh (fsLR midthickness; fsaverage: mean of white and pial),
        one third of every triangle's area going to each of its vertices (mm²).

        Parameters
        ----------
        %(parc_space)s

        Returns
        -------
        DataFrame
            One row per parcel: ``label value``, ``region name``, ``size (in mm^3)``
            or ``size (in mm^2)``, ``relative size (in %)`` (share of all parcels).
        """
        space, entry = self._space(space)
        values = self.get_label_values(space)
        data = np.asarray(entry.data()).ravel()
        if entry.kind == "volume":
            unit = "mm^3"
            weights = np.full(data.shape, abs(np.linalg.det(entry.img().affine[:3, :3])))
        else:
            unit = "mm^2"
            coords, faces = self._mesh(space, "midthickness")
            weights = np.concatenate([geometry.vertex_areas(c, f)
                                      for c, f in zip(coords, faces)])
        pos = np.searchsorted(values, data)
        pos[pos == len(values)] = 0
        inside = values[pos] == data
        sizes = np.bincount(pos[inside], weights=weights[inside], minlength=len(values))
        return pd.DataFrame({"label value": values, "region name": self.get_labels(space),
                             f"size (in {unit})": sizes,
                             "relative size (in %)": 100 * sizes / sizes.sum()})

    def to_masker(self, space: str | None = None, strategy: str = "mean", **kwargs):
        """A nilearn labels masker configured with this parcellation.

        Volumes give a :class:`nilearn.maskers.NiftiLabelsMasker`, surfaces a
        :class:`nilearn.maskers.SurfaceLabelsMasker` on the template mesh
        (midthickness); both carry the parcel names as a look-up table
        (``lut``, background 0).

        Parameters
        ----------
        %(parc_space)s
        strategy : str
            How parcel values are summarised (``"mean"``, ``"median"``, ...).
        **kwargs
            Further arguments of the masker.

        Returns
        -------
        nilearn.maskers.NiftiLabelsMasker or nilearn.maskers.SurfaceLabelsMasker
        """
        from nilearn import maskers

        kwargs.setdefault("standardize", None)  # no scaling (nilearn's False is deprecated)
        space, entry = self._space(space)
        lut = pd.DataFrame({"index": np.concatenate([[0], self.get_label_values(space)]),
                            "name": ["Background"] + self.get_labels(space)})
        if entry.kind == "volume":
            return maskers.NiftiLabelsMasker(labels_img=entry.img(), lut=lut,
                                             strategy=strategy, **kwargs)
        from nilearn.surface import InMemoryMesh, PolyMesh, SurfaceImage

        coords, faces = self._mesh(space, "midthickness")
        data, (n_l, _) = np.asarray(entry.data()), entry.hemi_sizes()
        mesh = PolyMesh(left=InMemoryMesh(coords[0], faces[0]),
                        right=InMemoryMesh(coords[1], faces[1]))
        img = SurfaceImage(mesh=mesh, data={"left": data[:n_l], "right": data[n_l:]})
        return maskers.SurfaceLabelsMasker(labels_img=img, lut=lut, strategy=strategy,
                                           **kwargs)

    def __getattr__(self, name: str):
        # the drawing and the report live in higher layers (plotting, report) that import
        # this module, so they are functions there rather than methods here
        moved = {"plot": "nispace.plotting.plot_parcellation(parc, **kwargs)",
                 "generate_report": "nispace.report.parcellation_report(parc, space, path, "
                                    "**masker_params)"}
        if name in moved:
            raise AttributeError(f"Parcellation.{name} is not a method; call {moved[name]}.")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ----------------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        """A short description for notebooks.

        The number of parcels comes from the parcel names; a parcellation built
        without names loads its label image of the active space once to count them.
        """
        import html

        facts = {"parcels": self.n_parcels, "level": self.level,
                 "spaces": ", ".join(map(str, self.spaces)), "active space": self._active}
        items = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>"
                        for k, v in facts.items())
        return (f"<div><strong>Parcellation {html.escape(str(self.name))}</strong>"
                f"<ul>{items}</ul></div>")

    def __repr__(self) -> str:
        return (f"<Parcellation {self.name!r}: {self.n_parcels} parcels, level={self.level}, "
                f"spaces={self.spaces}, active={self._active!r}>")


def _merged_loader(cortex: Parcellation, subcortex: Parcellation, space: str):
    """A picklable loader that merges the two volumes on first use."""
    return functools.partial(_merge_volumes, cortex, subcortex, space)


def _merge_volumes(cortex: Parcellation, subcortex: Parcellation, space: str):
    logger.info("Merging '%s' and '%s' for space '%s'.", cortex.name, subcortex.name, space)
    cx_img, sc_img = cortex.get_img(space), subcortex.get_img(space)
    sc_data = subcortex.get_data(space)
    if sc_img.shape != cx_img.shape or not np.allclose(sc_img.affine, cx_img.affine):
        from nilearn.image import resample_to_img

        sc_data = np.asarray(resample_to_img(sc_img, cx_img, interpolation="nearest",
                                             force_resample=True, copy_header=True)
                             .dataobj).astype(np.int32)
    n_cx = int(cortex.get_label_values(space).max())
    merged, n_overlap = merge_label_volumes(cortex.get_data(space), sc_data, n_cx)
    if n_overlap:
        logger.info("%d voxels labelled in both parcellations were kept cortical.", n_overlap)
    return nib.Nifti1Image(merged, cx_img.affine)
