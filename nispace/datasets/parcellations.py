"""Library parcellations as multi-space :class:`~nispace.parcellation.Parcellation` objects."""

from __future__ import annotations

import functools
import logging
import os

from .._logging import verbose_context
from ..errors import DataError, InputError
from ..parcellation.formats import is_annot_pair, is_cifti
from ..parcellation.parcellation import SURFACE_SPACES, Parcellation, _Space
from .download import fetch_library_file, fetch_manifest
from .registry import list_names, load_manifest, parse_parcellation_name
from .templates import template_source
from .._docs import fill_doc

logger = logging.getLogger("nispace.parcellation")


@fill_doc
def available_parcellations(data_dir=None, data_url=None, include_aliases: bool = True
                            ) -> list[str]:
    """Names of the library parcellations (and their aliases).

    Parameters
    ----------
    %(data_dir_url)s
    include_aliases : bool
        Also list the aliases of the parcellations (other names of the same one).

    Returns
    -------
    list of str
    """
    names = list_names("parcellation", data_dir, data_url)
    if include_aliases:
        return names
    return [n for n in names if load_manifest("parcellation", n, data_dir, data_url)[0] == n]


def fetch_parcellation(parcellation, space: str | None = None,
                       labels: list[str] | str | os.PathLike | None = None,
                       verbose: bool | str | int | None = None,
                       data_dir: str | os.PathLike | None = None,
                       data_url: str | None = None) -> Parcellation:
    """Fetch a library parcellation as a multi-space Parcellation.

    Parameters
    ----------
    parcellation : str or tuple
        A library name or alias (``"Schaefer200"``, ``"DesikanKilliany"``,
        ``"TianS1"``, ...) or a cortex + subcortex combination written
        ``"Schaefer200TianS1"``, ``"Schaefer200 TianS1"``, ``"Schaefer200+TianS1"``
        or ``("Schaefer200", "TianS1")``. Your own parcellation: the path of a
        NIfTI label volume, a nibabel image, or an ``(L, R)`` pair of GIfTI label
        files (see :meth:`Parcellation.from_image`).
    space : str, optional
        Space to make active (default: the first of MNI152NLin2009cAsym,
        MNI152NLin6Asym, fsLR, fsaverage available). For your own image: its space.
    labels : list of str or path, optional
        Your own image only: parcel names in the order of the label values.

    Returns
    -------
    Parcellation
        Holding every available space; images are downloaded and loaded on first use.
    """
    with verbose_context(verbose):
        if _is_image(parcellation):
            return Parcellation.from_image(parcellation, labels=labels, space=space,
                                           data_dir=data_dir, data_url=data_url,
                                           templates=template_source(data_dir, data_url))
        if labels is not None:
            raise InputError("labels: library parcellations carry their own labels; pass "
                             "labels= only with your own parcellation image.")
        names = parse_parcellation_name(parcellation, data_dir, data_url)
        parts = [_library_parcellation(n, data_dir, data_url) for n in names]
        if len(parts) == 1:
            parc = parts[0]
        else:
            levels = [p.level for p in parts]
            if levels != ["cortex", "subcortex"]:
                raise InputError(f"parcellation: a combination must be a cortical followed by a "
                                 f"subcortical parcellation; {names} are {levels}.")
            parc = Parcellation.combine(parts[0], parts[1], name="".join(names))
            logger.info("Combined parcellation '%s' ready. MNI space(s): %s. Cortex surface "
                        "space(s) for spins: %s.", parc.name, parc.spaces,
                        parc.surface_spaces_cortex)
        if space is not None:
            parc.set_active_space(space)
        return parc


def _is_image(obj) -> bool:
    """True for a label image given as a file path, a nibabel image or an (L, R) pair
    (also of FreeSurfer ``.annot`` files, and CIFTI ``dlabel`` files), whether the files
    exist or not (a missing file is then reported as such)."""
    if is_annot_pair(obj) or is_cifti(obj):
        return True
    if isinstance(obj, (tuple, list)):
        return len(obj) == 2 and all(_is_image(o) for o in obj)
    if isinstance(obj, (str, os.PathLike)):
        return str(obj).endswith((".nii", ".nii.gz", ".gii", ".gii.gz")) or os.path.isfile(obj)
    return hasattr(obj, "get_fdata") or hasattr(obj, "darrays")


def _library_parcellation(name: str, data_dir, data_url) -> Parcellation:
    name, meta = load_manifest("parcellation", name, data_dir, data_url,
                               argument="parcellation")
    logger.info("Building multi-space Parcellation for '%s' from library.", name)
    manifest = fetch_manifest(data_dir, data_url)
    spaces = {}
    for space in meta.get("spaces") or {}:
        stem = f"parcellation/{name}/{space}/parc-{name}_space-{space}"
        if space in SURFACE_SPACES:
            hemis = [f"{stem}_hemi-{h}" for h in ("L", "R")]
            images = [_find(manifest, h, ".label.gii") for h in hemis]
            labels = sum((_labels(f"{h}.label.txt", data_dir, data_url) for h in hemis), [])
            spaces[space] = _Space("surface", _lazy(images, data_dir, data_url), labels)
        else:
            image = _find(manifest, stem, ".label.nii")
            labels = _labels(f"{stem}.label.txt", data_dir, data_url)
            spaces[space] = _Space("volume", _lazy(image, data_dir, data_url), labels)
    logger.info("Available spaces: %s", ", ".join(spaces))
    return Parcellation(name, spaces, level=meta.get("level"), library_names=(name,),
                        meta=meta, data_dir=data_dir, data_url=data_url,
                        templates=template_source(data_dir, data_url))


def _find(manifest, stem: str, ext: str) -> str:
    for candidate in (stem + ext + ".gz", stem + ext):
        if candidate in manifest:
            return candidate
    raise DataError(f"The data manifest lists no {stem}{ext}(.gz); the data repository is "
                    f"incomplete for this parcellation.")


def _labels(relpath: str, data_dir, data_url) -> list[str]:
    text = fetch_library_file(relpath, data_dir, data_url).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _lazy(relpaths, data_dir, data_url):
    """A picklable loader that fetches the image file(s) on first use."""
    return functools.partial(_fetch_paths, relpaths, data_dir, data_url)


def _fetch_paths(relpaths, data_dir, data_url):
    if isinstance(relpaths, str):
        return fetch_library_file(relpaths, data_dir, data_url)
    return tuple(fetch_library_file(r, data_dir, data_url) for r in relpaths)
