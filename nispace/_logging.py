"""Library-style logging for nispace.

nispace never configures logging at import time. Every public function that does
noticeable work takes a ``verbose`` argument which is applied through
:func:`verbose_context`: it sets the level of the ``"nispace"`` logger for the
duration of the call and restores the previous level afterwards. When the
``"nispace"`` logger has no handler of its own (the usual case in a notebook),
a temporary stream handler is attached so that ``verbose=True`` is visible.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from .errors import InputError, InputTypeError

logger = logging.getLogger("nispace")

_FORMAT = "%(levelname)s | %(asctime)s | %(name)s: %(message)s"
_DATEFMT = "%d/%m/%y %H:%M:%S"

_LEVELS = {
    True: logging.INFO,
    False: logging.WARNING,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def _to_level(verbose: bool | str | int | None) -> int | None:
    """Translate a ``verbose`` argument into a logging level (None = leave as is)."""
    if verbose is None:
        return None
    if isinstance(verbose, bool) or isinstance(verbose, str):
        key = verbose.lower() if isinstance(verbose, str) else verbose
        if key not in _LEVELS:
            raise InputError(
                f"verbose: expected True, False, None, an int logging level or one of "
                f"{[k for k in _LEVELS if isinstance(k, str)]}; got {verbose!r}."
            )
        return _LEVELS[key]
    if isinstance(verbose, int):
        return verbose
    raise InputTypeError(f"verbose: expected bool, str, int or None; got {type(verbose).__name__}.")


def set_log_level(verbose: bool | str | int = True) -> None:
    """Set the level of the ``nispace`` logger and make sure its messages are shown.

    Parameters
    ----------
    verbose : bool, str or int
        ``True`` = INFO, ``False`` = WARNING, a level name ("debug", ...) or an int.
    """
    logger.setLevel(_to_level(verbose))
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_FORMAT, _DATEFMT))
        logger.addHandler(handler)


@contextlib.contextmanager
def verbose_context(verbose: bool | str | int | None) -> Iterator[None]:
    """Apply ``verbose`` to the ``nispace`` logger inside a ``with`` block.

    ``None`` leaves the logging configuration untouched. The previous level is
    restored on exit, and a handler added here is removed again.
    """
    level = _to_level(verbose)
    if level is None:
        yield
        return
    previous = logger.level
    added = None
    if not logger.handlers and level < logging.WARNING:
        added = logging.StreamHandler()
        added.setFormatter(logging.Formatter(_FORMAT, _DATEFMT))
        logger.addHandler(added)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)
        if added is not None:
            logger.removeHandler(added)
