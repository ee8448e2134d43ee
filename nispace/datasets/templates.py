"""Brain templates: MNI volumes and fsaverage / fsLR surfaces."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path

from .._errors import check_option
from .._logging import verbose_context
from ..errors import DataError, InputError
from .download import fetch_library_file
from .registry import load_manifest

logger = logging.getLogger(__name__)

#: preferred default ``desc`` per space family (first one present is used)
_DEFAULT_DESC = ["T1w", "midthickness", "pial", "white", "sphere"]


def fetch_template(space: str = "MNI152NLin6Asym", desc: str | None = None,
                   res: str | None = None, hemi: str | list[str] | None = None,
                   data_dir: str | os.PathLike | None = None, data_url: str | None = None,
                   verbose: bool | str | int | None = None) -> Path | tuple[Path, ...]:
    """Fetch a template image or surface.

    Parameters
    ----------
    space : str
        Template space, e.g. ``"MNI152NLin6Asym"``, ``"fsaverage"``, ``"fsLR"``.
    desc : str, optional
        What to fetch (``"T1w"``, ``"brainmask"``, ``"sphere"``, ``"midthickness"``,
        ``"medial"``, ...). Default: ``T1w`` for volumes, ``midthickness`` or
        ``pial`` for surfaces.
    res : str, optional
        Resolution (``"1mm"``, ``"2mm"``) or surface density (``"10k"``, ``"32k"``).
        Default: the first one listed in the space's ``template.yaml``.
    hemi : {"L", "R"} or list, optional
        Surfaces only: one hemisphere (returns one path) or both (default).

    Returns
    -------
    pathlib.Path or tuple of pathlib.Path
        A volume path, or ``(L, R)`` surface paths (one path if ``hemi`` is a str).
    """
    with verbose_context(verbose):
        space, meta = load_manifest("template", space, data_dir, data_url, argument="space")
        resolutions = meta.get("resolutions") or {}
        if res is None:
            res = next(iter(resolutions))
        check_option("res", str(res), list(resolutions))
        descs = resolutions[str(res)]
        if desc is None:
            desc = next((d for d in _DEFAULT_DESC if d in descs), next(iter(descs)))
        check_option("desc", desc, list(descs))
        entry = descs[desc]
        logger.info("Loading %s template '%s' (%s).", space, desc, res)
        if "remote" in entry:  # volume
            if hemi is not None:
                raise InputError(f"hemi: {space} is a volumetric space; leave hemi=None.")
            return _fetch_entry(entry, data_dir, data_url)
        hemis = ["L", "R"] if hemi is None else ([hemi] if isinstance(hemi, str) else list(hemi))
        for h in hemis:
            check_option("hemi", h, list(entry))
        paths = tuple(_fetch_entry(entry[h], data_dir, data_url) for h in hemis)
        return paths[0] if isinstance(hemi, str) else paths


def template_source(data_dir: str | os.PathLike | None = None, data_url: str | None = None
                    ) -> Callable[..., Path | tuple[Path, ...]]:
    """The template source a :class:`~nispace.parcellation.Parcellation` fetches meshes from.

    Parameters
    ----------
    data_dir, data_url : optional
        As in :func:`fetch_template`.

    Returns
    -------
    callable
        ``source(space, desc=..., res=...)``, i.e. :func:`fetch_template` bound to
        ``data_dir`` and ``data_url`` with logging left to the caller (picklable).

    Examples
    --------
    >>> from nispace.parcellation import Parcellation
    >>> parc = Parcellation.from_image(("lh.label.gii", "rh.label.gii"),
    ...                                templates=template_source())  # doctest: +SKIP
    """
    return functools.partial(fetch_template, data_dir=data_dir, data_url=data_url, verbose=None)


def _fetch_entry(entry: dict, data_dir, data_url) -> Path:
    host = entry.get("host", "github-nispace")
    if host != "github-nispace":
        raise DataError(f"Template files hosted on {host!r} are not supported; only files of "
                        f"the nispace data repository ('github-nispace') are.")
    return fetch_library_file(entry["remote"], data_dir, data_url)
