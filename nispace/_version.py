"""The installed version of nispace, in a base module any layer may import."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nispace")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"
