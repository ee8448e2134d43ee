"""Where nispace reads its data from and where it caches it.

Two environment variables control the data layer:

``NISPACE_DATA_DIR``
    The local cache (default ``~/nispace-data``). Created on first download, never
    at import time.
``NISPACE_DATA_URL``
    The remote base: an ``http(s)://`` URL, a ``file://`` URL or a plain local
    directory laid out like the NiSpace-data repository (default: the public
    NiSpace-data repository at a pinned revision).

Both can also be given per call (``data_dir=``, ``data_url=``).

Limits and trust (see :mod:`nispace.datasets.download` and
:mod:`nispace.datasets.annotations`):

``NISPACE_MAX_DOWNLOAD_MB``
    Largest file one download may deliver, in MB (default 1024). A larger or
    endless response is stopped and nothing is written.
``NISPACE_DOWNLOAD_DEADLINE``
    Overall time one file's download may take, retries included, in seconds
    (default 1800).
``NISPACE_ALLOW_UNVERIFIED``
    ``1`` accepts annotation catalogue entries without a checksum (default: they
    are an error; the per-call argument is ``allow_unverified=``).

Computed results are cached in ``<NISPACE_DATA_DIR>/cache`` (null maps in
``cache/nulls``, distance matrices in ``cache/distmat``), each file with a JSON
sidecar recording what it was computed from and its SHA-256, verified before use
(:mod:`nispace._cache`). If that folder cannot be written, null maps go to a
temporary folder for the run and distance matrices stay in memory, with a
WARNING.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Revision of the public NiSpace-data repository this release is tested against.
DATA_REVISION = "5dbedba31d81d8e729e0a90c3c6eb65d3ce6771d"
#: Default remote base of the data repository.
DEFAULT_DATA_URL = (
    f"https://raw.githubusercontent.com/LeonDLotter/NiSpace-data/{DATA_REVISION}/"
)

ENV_DATA_DIR = "NISPACE_DATA_DIR"
ENV_DATA_URL = "NISPACE_DATA_URL"


def get_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the cache directory (argument > ``NISPACE_DATA_DIR`` > ``~/nispace-data``).

    The directory is not created here.
    """
    if data_dir is None:
        data_dir = os.environ.get(ENV_DATA_DIR) or Path.home() / "nispace-data"
    return Path(data_dir).expanduser().resolve()


def get_data_url(data_url: str | os.PathLike | None = None) -> str:
    """Return the remote base (argument > ``NISPACE_DATA_URL`` > public repository).

    Local directories are returned as absolute paths, URLs with a trailing slash.
    """
    if data_url is None:
        data_url = os.environ.get(ENV_DATA_URL) or DEFAULT_DATA_URL
    data_url = os.fspath(data_url)
    if "://" in data_url:
        return data_url if data_url.endswith("/") else data_url + "/"
    return str(Path(data_url).expanduser().resolve())
