"""Which space the images are in, and which space of the parcellation parcellates them.

The order in which the data's space is decided (:func:`resolve_data_space`):

1. the space the user gives (``data_space=`` in :class:`~nispace.api.NiSpace`,
   ``space=`` in the workflows, ``--space`` in the CLI);
2. a BIDS ``space-<label>`` entity in the file names (all images of one input must
   name the same space);
3. volumes: NiSpace's default :data:`DEFAULT_VOLUME_SPACE` (``MNI152NLin6Asym``),
   with a WARNING naming the assumption; surfaces: the space whose vertex counts
   match the data.

The parcellation is then used in that space (:func:`parcellation_space_for`). If it
lacks the space, volumes use its nearest volumetric space with a WARNING (MNI152
variants differ by a few millimetres; no transform is applied); surface data never
fall back to another space.
"""

from __future__ import annotations

import logging
import re

from ..errors import InputError, InputTypeError

__all__ = ["DEFAULT_VOLUME_SPACE", "SOURCE_USER", "SOURCE_FILENAME", "SOURCE_DEFAULT",
           "SOURCE_SURFACE", "SOURCE_TABLE", "is_surface_space", "space_from_filename",
           "resolve_data_space", "parcellation_space_for"]

logger = logging.getLogger("nispace.io")

#: NiSpace's default space of volumetric data
DEFAULT_VOLUME_SPACE = "MNI152NLin6Asym"
#: values of ``data_space_source`` in :attr:`NiSpace.fit_record_`
SOURCE_USER = "user"
SOURCE_FILENAME = "filename"
SOURCE_DEFAULT = "default"
SOURCE_SURFACE = "surface vertex counts"
SOURCE_TABLE = "parcellated table"
#: volumetric spaces in order of preference when the parcellation lacks the data's one
_VOLUME_PREFERENCE = ("MNI152NLin6Asym", "MNI152NLin2009cAsym")
_SPACE_ENTITY = re.compile(r"(?:^|[_/\\])space-([A-Za-z0-9]+)")
_HOW_TO_SET = "pass data_space= to NiSpace, space= to the workflows or --space to the CLI"


def is_surface_space(space: str) -> bool:
    """True for surface spaces (``fsaverage*``, ``fsLR``, ``fsnative``...)."""
    return str(space).lower().startswith(("fsaverage", "fslr", "fsnative", "civet"))


def space_from_filename(name: str | None) -> str | None:
    """The label of a BIDS ``space-<label>`` entity in a file name, or None.

    >>> space_from_filename("example-painmeta_space-MNI152NLin6Asym.nii.gz")
    'MNI152NLin6Asym'
    >>> space_from_filename("pain.nii.gz") is None
    True
    """
    if name is None:
        return None
    found = set(_SPACE_ENTITY.findall(str(name)))
    if len(found) > 1:
        raise InputError(f"images: the file name {name!r} names several spaces "
                         f"{sorted(found)}; {_HOW_TO_SET}.")
    return found.pop() if found else None


def resolve_data_space(kind: str, names: list, data_space: str | None,
                       where: str) -> tuple[str | None, str]:
    """The space of the images of one input and where it came from.

    Parameters
    ----------
    kind : {"volume", "surface"}
        What the images are.
    names : list of str or None
        File names (None for images given as objects).
    data_space : str or None
        The space the user gave.
    where : str
        Name of the input in messages (``"y"``).

    Returns
    -------
    space : str or None
        None for surfaces without a space from the user or the file names (the
        vertex counts decide it later).
    source : str
        :data:`SOURCE_USER`, :data:`SOURCE_FILENAME`, :data:`SOURCE_DEFAULT` or
        :data:`SOURCE_SURFACE`.
    """
    if data_space is not None:
        if not isinstance(data_space, str) or not data_space:
            raise InputTypeError(f"data_space: expected a space name such as "
                                 f"'{DEFAULT_VOLUME_SPACE}' or 'fsLR'; got {data_space!r}.")
        _check_kind(kind, data_space, where, "data_space")
        return data_space, SOURCE_USER
    found = {n: space_from_filename(n) for n in names}
    named = {s for s in found.values() if s is not None}
    if len(named) > 1:
        raise InputError(f"{where}: the images name different spaces in their file names "
                         f"({sorted(named)}); give the images of one input in one space, or "
                         f"{_HOW_TO_SET}.")
    if named:
        unnamed = [str(n) for n, s in found.items() if s is None]
        if unnamed:
            raise InputError(f"{where}: some file names name space {next(iter(named))!r}, "
                             f"others none (e.g. {unnamed[:3]}); {_HOW_TO_SET}.")
        space = named.pop()
        _check_kind(kind, space, where, "the space- entity of the file names")
        logger.info("'%s': images are in space '%s' (from their file names).", where, space)
        return space, SOURCE_FILENAME
    if kind == "surface":
        return None, SOURCE_SURFACE
    logger.warning("'%s': the space of the volumes is not known (no data_space given, no "
                   "space- entity in the file names); assuming NiSpace's default '%s'. If "
                   "this is wrong, %s.", where, DEFAULT_VOLUME_SPACE, _HOW_TO_SET)
    return DEFAULT_VOLUME_SPACE, SOURCE_DEFAULT


def _check_kind(kind: str, space: str, where: str, argument: str) -> None:
    if kind == "volume" and is_surface_space(space):
        raise InputError(f"{argument}: {space!r} is a surface space but the images in "
                         f"'{where}' are volumes. Give the volumes' MNI space, e.g. "
                         f"'{DEFAULT_VOLUME_SPACE}'; to project them to a surface, pass "
                         f"space='fsLR' (or a surface-only parcellation).")
    if kind == "surface" and not is_surface_space(space):
        raise InputError(f"{argument}: {space!r} is a volumetric space but the images in "
                         f"'{where}' are (L, R) surface pairs; give their surface space "
                         f"('fsaverage' or 'fsLR') or leave it out (the vertex counts tell).")


def parcellation_space_for(parcellation, kind: str, data_space: str | None,
                           where: str) -> str | None:
    """The space of ``parcellation`` in which images of ``data_space`` are parcellated.

    Returns ``data_space`` when the parcellation has it; for volumes in another space
    its nearest volumetric space (MNI152NLin6Asym, then MNI152NLin2009cAsym, then
    any other) with a WARNING; None for surfaces without a known space (chosen from
    the vertex counts). Raises for surface data in a space the parcellation lacks.
    """
    if data_space is None or data_space in parcellation.spaces:
        if data_space is not None and parcellation.is_surface(data_space) != (
                kind == "surface"):
            raise InputError(f"data_space: {data_space!r} is a "
                             f"{'surface' if kind == 'volume' else 'volumetric'} space of "
                             f"parcellation {parcellation.name!r} but the images in "
                             f"'{where}' are {kind}s.")
        return data_space
    if kind == "surface":
        surf = [s for s in parcellation.spaces if parcellation.is_surface(s)]
        has = f"only the surface space(s) {surf}" if surf else "no surface space"
        raise InputError(f"data_space: the surface data in '{where}' are in {data_space!r} "
                         f"but parcellation {parcellation.name!r} has {has} "
                         f"({parcellation.spaces}); nispace resamples only between the "
                         f"standard meshes (fsaverage 164k/10k, fsLR 32k). Resample your "
                         f"data or use another parcellation.")
    volumetric = [s for s in parcellation.spaces if not parcellation.is_surface(s)]
    if not volumetric:
        return None  # the parcellation step raises its clear volume-vs-surface error
    chosen = next((s for s in _VOLUME_PREFERENCE if s in volumetric), volumetric[0])
    logger.warning("'%s': the data are in space '%s' but parcellation %r is not available "
                   "in it; using its nearest volumetric space '%s' without a transform "
                   "(MNI152 variants differ by a few millimetres). Available spaces: %s.",
                   where, data_space, parcellation.name, chosen, parcellation.spaces)
    return chosen
