"""Neurovault statistical maps as nispace inputs (a thin layer over nilearn).

:func:`fetch_neurovault` and :func:`fetch_neurovault_ids` call nilearn's fetchers of
the same names with nilearn's filter vocabulary and default filters; they add
nispace's cache location and a configurable server. :func:`neurovault_maps` turns
their result into ``{label: image path}``, which ``NiSpace(y=...)`` and the
workflows accept as it is::

    from nispace.datasets.neurovault import fetch_neurovault, neurovault_maps, IsIn
    res = fetch_neurovault(max_images=20, modality=IsIn("fMRI-BOLD", "fMRI-CBF"))
    nsp = NiSpace(x="pet", y=neurovault_maps(res), parcellation="Schaefer200").fit()

Where data come from and go to
------------------------------
``NISPACE_NEUROVAULT_URL``
    Base URL of the Neurovault API (default ``https://neurovault.org/api/``), e.g.
    a mirror or a local emulator. Collections are read from ``<base>collections/``
    and images from ``<base>images/``; image files whose metadata point at
    neurovault.org are downloaded from the mirror's site root instead (``<base>``
    without its final ``api/``).
``NISPACE_NEUROSYNTH_URL``
    The Neurosynth decoder used for ``fetch_neurosynth_words`` (default
    ``https://neurosynth.org/api/decode/``).
``NISPACE_NEUROVAULT_DIR``
    The Neurovault cache (default ``<NISPACE_DATA_DIR>/neurovault``). It holds
    nilearn's layout (``collection_<id>/image_<id>.nii.gz`` and JSON metadata), so
    pass ``data_dir="~/nilearn_data/neurovault"`` to share nilearn's cache.

The filter helpers ``IsNull``, ``NotNull``, ``NotEqual``, ``GreaterOrEqual``,
``GreaterThan``, ``LessOrEqual``, ``LessThan``, ``IsIn``, ``NotIn``, ``Contains``,
``NotContains``, ``Pattern`` and ``ResultFilter`` are nilearn's own classes,
re-exported here on first access (so that ``import nispace`` does not import
nilearn).

References
----------
Gorgolewski, K. J., Varoquaux, G., Rivera, G., Schwarz, Y., Ghosh, S. S., Maumet,
C., Sochat, V. V., Nichols, T. E., Poldrack, R. A., Poline, J.-B., Yarkoni, T., &
Margulies, D. S. (2015). NeuroVault.org: a web-based repository for collecting and
sharing unthresholded statistical maps of the human brain. Frontiers in
Neuroinformatics, 9, 8. https://doi.org/10.3389/fninf.2015.00008

Yarkoni, T., Poldrack, R. A., Nichols, T. E., Van Essen, D. C., & Wager, T. D.
(2011). Large-scale automated synthesis of human functional neuroimaging data.
Nature Methods, 8(8), 665-670. https://doi.org/10.1038/nmeth.1635
"""

from __future__ import annotations

import contextlib
import logging
import math
import numbers
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from .._errors import check_option
from .._logging import _to_level, verbose_context
from .._validate import check_bool
from ..errors import InputError, InputTypeError
from .config import get_data_dir
from .download import DataFetchError

logger = logging.getLogger(__name__)


class _RefusedURLError(DataFetchError, ValueError):
    """A file URL of a Neurovault listing that is not downloaded: a
    :class:`~nispace.datasets.DataFetchError` like every refused source, and a ValueError
    as before."""

ENV_NEUROVAULT_URL = "NISPACE_NEUROVAULT_URL"
ENV_NEUROSYNTH_URL = "NISPACE_NEUROSYNTH_URL"
ENV_NEUROVAULT_DIR = "NISPACE_NEUROVAULT_DIR"
#: nilearn's defaults (``nilearn.datasets.neurovault``), repeated so that resolving
#: a URL does not import nilearn.
DEFAULT_NEUROVAULT_URL = "https://neurovault.org/api/"
DEFAULT_NEUROSYNTH_URL = "https://neurosynth.org/api/decode/"

_NEUROVAULT_HOSTS = ("neurovault.org", "www.neurovault.org")
_MODES = ["download_new", "overwrite", "offline"]
_INTERPOLATIONS = ("continuous", "linear", "nearest")
_FILTERS = ("IsNull", "NotNull", "NotEqual", "GreaterOrEqual", "GreaterThan",
            "LessOrEqual", "LessThan", "IsIn", "NotIn", "Contains", "NotContains",
            "Pattern", "ResultFilter")
# nilearn.datasets.neurovault attributes replaced during a call (see _redirect_nilearn)
_PATCHED = ("_NEUROVAULT_BASE_URL", "_NEUROVAULT_COLLECTIONS_URL", "_NEUROVAULT_IMAGES_URL",
            "_NEUROSYNTH_FETCH_WORDS_URL", "_simple_download", "get_dataset_dir")
# one redirected call at a time: the overrides are attributes of a shared module
_LOCK = threading.RLock()

__all__ = ["fetch_neurovault", "fetch_neurovault_ids", "neurovault_maps",
           "get_neurovault_url", "get_neurovault_dir", *_FILTERS]


def __getattr__(name: str) -> Any:
    """Re-export nilearn's filter classes lazily (``neurovault.IsIn`` etc.)."""
    if name in _FILTERS:
        from nilearn.datasets import neurovault as _nv

        return getattr(_nv, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FILTERS))


# --------------------------------------------------------------------------------------
# configuration

def _http_url(url: str | None, env: str, default: str, argument: str) -> str:
    """Argument > environment variable > default; checked and with a trailing slash."""
    source = argument
    if url is None:
        url, source = os.environ.get(env) or default, f"environment variable {env}"
    url = os.fspath(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"{source}: expected an http(s):// URL such as {default!r}; got "
                         f"{url!r}.")
    return url if url.endswith("/") else url + "/"


def get_neurovault_url(base_url: str | None = None) -> str:
    """Return the Neurovault API base (argument > ``NISPACE_NEUROVAULT_URL`` > nilearn's).

    Parameters
    ----------
    base_url : str, optional
        An ``http(s)://`` URL of a Neurovault API, e.g. ``"http://127.0.0.1:8000/api/"``.

    Returns
    -------
    str
        The URL with a trailing slash.
    """
    return _http_url(base_url, ENV_NEUROVAULT_URL, DEFAULT_NEUROVAULT_URL, "base_url")


def get_neurovault_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the Neurovault cache folder (argument > ``NISPACE_NEUROVAULT_DIR`` >
    ``<NISPACE_DATA_DIR>/neurovault``). The folder is not created here."""
    if data_dir is None:
        data_dir = os.environ.get(ENV_NEUROVAULT_DIR) or get_data_dir() / "neurovault"
    return Path(data_dir).expanduser().resolve()


def _site_root(base_url: str) -> str:
    """Site root of an API base: ``http://host/prefix/api/`` -> ``http://host/prefix/``."""
    if urlsplit(base_url).path.endswith("/api/"):
        return base_url[: -len("api/")]
    return base_url


def _redirect_file_url(url: str, site_root: str | None) -> str:
    """Point an image file URL at the configured server.

    Absolute URLs on neurovault.org (what the API's ``file`` field holds) and
    relative URLs are resolved against ``site_root``; other URLs, and everything
    when ``site_root`` is None (the public server), are left alone.
    """
    if site_root is None:
        return url
    parts = urlsplit(url)
    if parts.scheme and (parts.hostname or "").lower() not in _NEUROVAULT_HOSTS:
        return url
    query = f"?{parts.query}" if parts.query else ""
    return site_root + parts.path.lstrip("/") + query


def _check_download_url(location: str, bases: list[str | None]) -> None:
    """Refuse a file URL (from an API listing) outside Neurovault and the configured servers."""
    parts = urlsplit(location)
    if parts.scheme in ("http", "https") and ".." not in parts.path.split("/") and (
            (parts.hostname or "").lower() in _NEUROVAULT_HOSTS
            or any(b and location.startswith(b) for b in bases)):
        return
    raise _RefusedURLError(f"Neurovault listing: the file URL {location!r} is neither on "
                           f"{list(_NEUROVAULT_HOSTS)} nor under the configured servers "
                           f"{[b for b in bases if b]}; it was not downloaded.")


def _retrieve_file(location: str, target: Path, timeout: float | None = None) -> None:
    """Download with the limits of :mod:`nispace.datasets.download` (atomic, retried;
    ``timeout``: seconds per request)."""
    from .download import _NotFound, _retrieve, _Transient

    try:
        _retrieve(location, target, None, timeout=timeout)
    except _NotFound:
        raise DataFetchError(f"{location}: not found (HTTP 404).") from None
    except _Transient as exc:
        raise DataFetchError(f"{location}: {exc}") from None


def _nilearn_verbose(verbose: bool | str | int | None) -> int:
    """nispace ``verbose`` (None = the ``nispace`` logger's level) -> nilearn's 0-3."""
    level = _to_level(verbose)
    if level is None:
        level = logging.getLogger("nispace").getEffectiveLevel()
    if level <= logging.DEBUG:
        return 3
    if level <= logging.INFO:
        return 2
    return 1 if level <= logging.WARNING else 0


@contextlib.contextmanager
def _redirect_nilearn(base_url: str, neurosynth_url: str, nv_dir: Path,
                      create_dir: bool, timeout: float | None = None) -> Iterator[None]:
    """Point ``nilearn.datasets.neurovault`` at our server and cache for one call.

    nilearn reads its URLs from module constants at call time, so the constants
    are replaced and restored afterwards. Two private helpers are replaced as
    well: ``_simple_download`` (every file download goes through it; the URL it
    receives is redirected with :func:`_redirect_file_url`, the metadata keep the
    original ``file`` URL; it must then be on a Neurovault host or under the
    configured servers, and is fetched with the size limit, deadline, atomic
    move of :mod:`nispace.datasets.download` and the socket ``timeout``) and
    ``get_dataset_dir`` (returns ``nv_dir`` itself rather than
    ``<data_dir>/neurovault``).

    The replacements are process-wide: nispace serialises its own calls with a
    lock, but nilearn's Neurovault functions called directly from another thread
    while a nispace call runs would see them too.
    """
    from nilearn import __version__ as nilearn_version
    from nilearn.datasets import neurovault as nv

    missing = [name for name in _PATCHED if not hasattr(nv, name)]
    if missing:
        raise RuntimeError(f"nilearn {nilearn_version}: nilearn.datasets.neurovault has no "
                           f"{missing}; nispace's Neurovault layer was written for nilearn "
                           f"0.14. Install a compatible nilearn or call nilearn directly.")
    site_root = None if base_url == DEFAULT_NEUROVAULT_URL else _site_root(base_url)

    def download(url, target_file, temp_dir, verbose=3):
        location = _redirect_file_url(url, site_root)
        _check_download_url(location, [base_url, neurosynth_url, site_root])
        _retrieve_file(location, Path(target_file), timeout)
        return target_file

    def dataset_dir(dataset_name, data_dir=None, default_paths=None, verbose=1):
        if create_dir:
            nv_dir.mkdir(parents=True, exist_ok=True)
        return nv_dir

    overrides = dict(zip(_PATCHED, (
        base_url, urljoin(base_url, "collections/"), urljoin(base_url, "images/"),
        neurosynth_url, download, dataset_dir)))
    with _LOCK:
        saved = {name: getattr(nv, name) for name in _PATCHED}
        try:
            for name, value in overrides.items():
                setattr(nv, name, value)
            yield
        finally:
            for name, value in saved.items():
                setattr(nv, name, value)


def _check_download_options(resample, interpolation, timeout) -> float:
    """``resample``, ``interpolation`` and ``timeout`` checked; ``timeout`` as a float."""
    check_bool(resample, "resample")
    if interpolation is not None:  # fetch_neurovault only
        check_option("interpolation", interpolation, list(_INTERPOLATIONS))
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) \
            or not math.isfinite(timeout) or timeout <= 0:
        raise InputError(f"timeout: expected a positive number of seconds per request; got "
                         f"{timeout!r}.")
    return float(timeout)


def _call_nilearn(function_name: str, mode: str, data_dir, base_url, neurosynth_url,
                  verbose, resample=False, interpolation=None, timeout=10.0,
                  **kwargs):
    """Resolve server, decoder and cache, then run nilearn's ``function_name`` on them."""
    check_option("mode", mode, _MODES)
    timeout = _check_download_options(resample, interpolation, timeout)
    base_url = get_neurovault_url(base_url)
    neurosynth_url = _http_url(neurosynth_url, ENV_NEUROSYNTH_URL, DEFAULT_NEUROSYNTH_URL,
                               "neurosynth_url")
    nv_dir = get_neurovault_dir(data_dir)
    with verbose_context(verbose):
        logger.info("Neurovault (%s): %s, cache %s.", mode,
                    "local cache only" if mode == "offline" else base_url, nv_dir)
        from nilearn.datasets import neurovault as nv

        if interpolation is not None:
            kwargs["interpolation"] = interpolation
        with _redirect_nilearn(base_url, neurosynth_url, nv_dir,
                               create_dir=mode != "offline", timeout=timeout):
            result = getattr(nv, function_name)(mode=mode, data_dir=str(nv_dir),
                                                resample=bool(resample), timeout=timeout,
                                                verbose=_nilearn_verbose(verbose), **kwargs)
        logger.info("Neurovault: %d image(s) from %d collection(s).", len(result["images"]),
                    len({c.get("id") for c in result["collections_meta"]}))
        return result


# --------------------------------------------------------------------------------------
# fetchers

_DOCS = {"params": """mode : {"download_new", "overwrite", "offline"}
        ``"download_new"``: use cached files and download only the missing ones
        (metadata of new matches are still read from the server);
        ``"overwrite"``: download everything again; ``"offline"``: read the cache
        only, never contact a server.
    data_dir : path, optional
        Cache folder (argument > ``NISPACE_NEUROVAULT_DIR`` >
        ``<NISPACE_DATA_DIR>/neurovault``). Holds ``collection_<id>/`` folders
        directly (nilearn's layout, without nilearn's extra ``neurovault/`` level).
    fetch_neurosynth_words : bool
        Also download the Neurosynth decoding of each image (Yarkoni et al., 2011).
    vectorize_words : bool
        With ``fetch_neurosynth_words``: add ``vocabulary`` and ``word_frequencies``
        to the result.
    resample : bool
        Resample every downloaded image to nilearn's 3 mm MNI grid (``STD_AFFINE``
        of :mod:`nilearn.datasets.neurovault`) and keep only the resampled file,
        ``image_<id>_resampled.nii.gz`` (smaller on disk; the space stays that of
        the image). ``images`` then lists the resampled files. Default False.
    timeout : float
        Seconds to wait for each server response (metadata requests and image
        downloads alike; default 10, as nilearn). A download that stalls is
        retried, within the overall deadline of
        :mod:`nispace.datasets.download`.
    base_url : str, optional
        Neurovault API base (argument > ``NISPACE_NEUROVAULT_URL`` >
        ``https://neurovault.org/api/``). With a custom base, image files whose
        metadata point at neurovault.org are downloaded from the base's site root
        (the base without its final ``api/``).
    neurosynth_url : str, optional
        Neurosynth decoder endpoint (argument > ``NISPACE_NEUROSYNTH_URL`` >
        ``https://neurosynth.org/api/decode/``); nilearn appends
        ``?neurovault=<image id>``.
    verbose : bool, str, int or None
        nispace logging level for the call (None follows :func:`nispace.set_verbosity`); nilearn's
        messages follow it (DEBUG -> 3, INFO -> 2, WARNING -> 1, else 0).""",
         "returns": """Returns
    -------
    sklearn.utils.Bunch
        nilearn's result: ``images`` (list of n_images paths), ``images_meta`` and
        ``collections_meta`` (lists of n_images metadata dicts, the collection of
        each image), ``description``; with Neurosynth words and
        ``vectorize_words`` also ``vocabulary`` (n_words,) and
        ``word_frequencies`` (n_images, n_words). Pass it to
        :func:`neurovault_maps` to get a ``y=`` input.""",
         "notes": """For the duration of the call nilearn's module-level URL constants (and two
    private download helpers) are replaced and then restored; this is not
    thread-safe with respect to direct nilearn calls made from other threads at
    the same time (nispace's own calls are serialised).""",
         "references": """References
    ----------
    Gorgolewski, K. J., et al. (2015). NeuroVault.org: a web-based repository for
    collecting and sharing unthresholded statistical maps of the human brain.
    Frontiers in Neuroinformatics, 9, 8. https://doi.org/10.3389/fninf.2015.00008

    Yarkoni, T., Poldrack, R. A., Nichols, T. E., Van Essen, D. C., & Wager, T. D.
    (2011). Large-scale automated synthesis of human functional neuroimaging data.
    Nature Methods, 8(8), 665-670. https://doi.org/10.1038/nmeth.1635"""}


def _fill_doc(func):
    """Insert the shared parameter and result sections into ``func``'s docstring."""
    func.__doc__ = func.__doc__ % _DOCS
    return func


@_fill_doc
def fetch_neurovault(max_images: int | None = 100, collection_terms: dict | None = None,
                     collection_filter: Callable[[dict], bool] | None = None,
                     image_terms: dict | None = None,
                     image_filter: Callable[[dict], bool] | None = None,
                     mode: Literal["download_new", "overwrite", "offline"] = "download_new",
                     data_dir: str | os.PathLike | None = None,
                     fetch_neurosynth_words: bool = False, vectorize_words: bool = True,
                     base_url: str | None = None, neurosynth_url: str | None = None,
                     verbose: bool | str | int | None = None, resample: bool = False,
                     interpolation: Literal["continuous", "linear", "nearest"] = "continuous",
                     timeout: float = 10.0, **kwarg_image_filters):
    """Fetch Neurovault maps whose metadata match filters (Gorgolewski et al., 2015).

    Calls :func:`nilearn.datasets.fetch_neurovault`. Cached images matching the
    filters are used first; then collections are scanned on the server until
    ``max_images`` images are found.

    Parameters
    ----------
    max_images : int or None
        Stop after this many images; None = all matching images.
    collection_terms : dict, optional
        ``{field: value}`` that collection metadata must equal; values may be the
        filter helpers (``NotNull()``, ``IsIn(...)``, ...). None = nilearn's
        default ``{"number_of_images": NotNull()}`` (skip empty collections);
        ``{}`` = no collection terms.
    collection_filter : callable, optional
        ``f(collection_metadata) -> bool``; a :class:`ResultFilter` or any function.
        The default terms still apply unless ``collection_terms={}``.
    image_terms : dict, optional
        ``{field: value}`` that image metadata must equal. None = nilearn's
        default, which drops images not in MNI space (``not_mni``), thresholded
        maps, map types ``"ROI/mask"``, ``"anatomical"``, ``"parcellation"`` and
        atlases. ``{}`` = no image terms. nilearn's code no longer drops images
        whose ``is_valid`` flag is cleared (nilearn issue #2168) although its user
        guide still says so; add ``is_valid=True`` to do that.
    image_filter : callable, optional
        ``f(image_metadata) -> bool``. The default terms still apply unless
        ``image_terms={}`` (nilearn warns about this).
    %(params)s
    interpolation : {"continuous", "linear", "nearest"}
        With ``resample``: the interpolation of :func:`nilearn.image.resample_img`
        (default ``"continuous"``, as nilearn; :func:`fetch_neurovault_ids` always
        uses nilearn's default).
    **kwarg_image_filters
        Extra image terms added to ``image_terms``, e.g. ``modality="fMRI-BOLD"``,
        ``number_of_subjects=GreaterThan(20)``. A keyword on a field of the
        default terms replaces that default (``map_type=NotEqual("T map")``
        lets ROI masks through again). ``collection_id=<id>`` reads that
        collection only.

    %(returns)s

    Notes
    -----
    %(notes)s

    In ``"download_new"`` mode nilearn does not scan a collection on the server
    again once some of its images matching the filters are cached: images of
    that collection excluded by the filters of earlier calls are then missed.
    Use ``mode="overwrite"`` (downloads again) or another ``data_dir`` when
    changing filters.

    %(references)s
    """
    from nilearn.datasets.neurovault import _empty_filter

    return _call_nilearn(
        "fetch_neurovault", mode, data_dir, base_url, neurosynth_url, verbose,
        max_images=max_images, collection_terms=collection_terms,
        collection_filter=_empty_filter if collection_filter is None else collection_filter,
        image_terms=image_terms,
        image_filter=_empty_filter if image_filter is None else image_filter,
        fetch_neurosynth_words=fetch_neurosynth_words, vectorize_words=vectorize_words,
        resample=resample, interpolation=interpolation, timeout=timeout,
        **kwarg_image_filters)


@_fill_doc
def fetch_neurovault_ids(collection_ids: Sequence[int] = (), image_ids: Sequence[int] = (),
                         mode: Literal["download_new", "overwrite", "offline"] = "download_new",
                         data_dir: str | os.PathLike | None = None,
                         fetch_neurosynth_words: bool = False, vectorize_words: bool = True,
                         base_url: str | None = None, neurosynth_url: str | None = None,
                         verbose: bool | str | int | None = None, resample: bool = False,
                         timeout: float = 10.0):
    """Fetch whole Neurovault collections and single images by id (Gorgolewski et al.,
    2015).

    Calls :func:`nilearn.datasets.fetch_neurovault_ids`; no metadata filter
    applies. Cached collections and images are not requested again.

    Parameters
    ----------
    collection_ids : sequence of int
        Collections to fetch with all their images.
    image_ids : sequence of int
        Single images to fetch (their collection's metadata come along).
    %(params)s

    %(returns)s

    Notes
    -----
    %(notes)s

    %(references)s
    """
    return _call_nilearn(
        "fetch_neurovault_ids", mode, data_dir, base_url, neurosynth_url, verbose,
        collection_ids=collection_ids, image_ids=image_ids,
        fetch_neurosynth_words=fetch_neurosynth_words, vectorize_words=vectorize_words,
        resample=resample, timeout=timeout)


# --------------------------------------------------------------------------------------
# labels

_FIELD_PREFIX = {"collection_id": "collection ", "id": "image "}


def _label(meta: Mapping, label_fields: Sequence[str]) -> str:
    """``"<first field> (<other fields>)"``, skipping empty and repeated values."""
    values = []
    for field in label_fields:
        value = meta.get(field)
        if value is None or str(value).strip() == "":
            continue
        text = f"{_FIELD_PREFIX.get(field, '')}{str(value).strip()}"
        if text not in values:
            values.append(text)
    if not values:
        return f"image {meta.get('id')}"
    main, extra = values[0], values[1:]
    return f"{main} ({', '.join(extra)})" if extra else main


def neurovault_maps(result: Mapping,
                    label_fields: Sequence[str] | str = ("name", "collection_id",
                                                          "contrast_definition"),
                    ) -> dict[str, str]:
    """Turn a Neurovault result into ``{label: image path}`` for ``NiSpace(y=...)``.

    Parameters
    ----------
    result : Bunch or mapping
        The output of :func:`fetch_neurovault` or :func:`fetch_neurovault_ids`
        (``images`` and ``images_meta`` are used).
    label_fields : sequence of str
        Image metadata fields forming the label: the first field's value followed
        by the others in parentheses; ``collection_id`` reads ``collection <id>``
        and ``id`` ``image <id>``; empty fields and repeated values are skipped.
        The default gives ``"Pain (collection 11, pain > rest)"``, or
        ``"Pain (collection 11)"`` when no contrast is given.

    Returns
    -------
    dict of str to str
        One entry per image, in the order of ``result["images"]``. Labels shared
        by several images get ``" [image <id>]"`` appended, so all are unique.

    Examples
    --------
    >>> res = fetch_neurovault_ids(collection_ids=[1952])          # doctest: +SKIP
    >>> nsp = NiSpace(x="pet", y=neurovault_maps(res),
    ...               parcellation="Schaefer200").fit()            # doctest: +SKIP
    """
    if not isinstance(result, Mapping) or "images" not in result or "images_meta" not in result:
        raise InputTypeError(f"result: expected the output of fetch_neurovault or "
                             f"fetch_neurovault_ids (with 'images' and 'images_meta'); got "
                             f"{type(result).__name__}.")
    if isinstance(label_fields, str):
        label_fields = (label_fields,)
    if not label_fields or not all(isinstance(f, str) for f in label_fields):
        raise InputError(f"label_fields: expected one or more metadata field names; got "
                         f"{label_fields!r}.")
    images, metas = list(result["images"]), list(result["images_meta"])
    if len(images) != len(metas):
        raise InputError(f"result: expected one metadata dict per image; got {len(images)} "
                         f"images and {len(metas)} metadata dicts.")
    labels = [_label(meta, label_fields) for meta in metas]
    counts = {lab: labels.count(lab) for lab in labels}
    labels = [f"{lab} [image {meta.get('id')}]" if counts[lab] > 1 else lab
              for lab, meta in zip(labels, metas)]
    out: dict[str, str] = {}
    for lab, path in zip(labels, images):
        key, k = lab, 2
        while key in out:  # same image listed twice
            key, k = f"{lab} ({k})", k + 1
        out[key] = str(path)
    return out
