"""Where nispace reads its data from and where it caches it (public as
:mod:`nispace.datasets.config`).

Two environment variables control the data layer:

``NISPACE_DATA_DIR``
    The local cache (default ``~/nispace-data``). Created on first download, never
    at import time.
``NISPACE_DATA_URL``
    The remote base: an ``http(s)://`` URL, a ``file://`` URL or a plain local
    directory laid out like the NiSpace-data repository (default: the public
    NiSpace-data repository at a pinned revision).

Both can also be given per call (``data_dir=``, ``data_url=``).
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

    Parameters
    ----------
    data_dir : str or path-like, optional
        A cache directory to use instead of the default.

    Returns
    -------
    pathlib.Path
    """
    if data_dir is None:
        data_dir = os.environ.get(ENV_DATA_DIR) or Path.home() / "nispace-data"
    return Path(data_dir).expanduser().resolve()


def get_data_url(data_url: str | os.PathLike | None = None) -> str:
    """Return the remote base (argument > ``NISPACE_DATA_URL`` > public repository).

    Local directories are returned as absolute paths, URLs with a trailing slash.

    Parameters
    ----------
    data_url : str or path-like, optional
        A URL or local directory to use instead of the default.

    Returns
    -------
    str
    """
    if data_url is None:
        data_url = os.environ.get(ENV_DATA_URL) or DEFAULT_DATA_URL
    data_url = os.fspath(data_url)
    if "://" in data_url:
        return data_url if data_url.endswith("/") else data_url + "/"
    return str(Path(data_url).expanduser().resolve())
