"""Library-style logging for nispace: quiet by default, one global switch.

nispace never configures logging at import time: no handler is added and no
level is set until the user asks for it. Messages go through module loggers
under ``"nispace"``.

* :func:`set_verbosity` is the one global switch (default: WARNING, so a normal
  run prints nothing unless something needs attention).
* Every public function that does noticeable work takes ``verbose=None``;
  ``None`` follows the global setting, ``True``/``False``/a level name override
  it for that call only. The override is applied through :func:`verbose_context`,
  which restores the previous level afterwards; calls nested inside such a block
  with ``verbose=None`` inherit the level of the outer call.
* :func:`progress_bar` shows a tqdm bar only when the user asked for INFO
  output, the work lasts a while and the output supports it (a terminal, or a
  notebook with ipywidgets); otherwise it is a silent counter.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

from .errors import InputError, InputTypeError

logger = logging.getLogger("nispace")

#: handler format: ISO-8601 timestamps (local time with UTC offset)
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_DATEFMT = "%Y-%m-%dT%H:%M:%S%z"

_LEVELS = {
    True: logging.INFO,
    False: logging.WARNING,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}

#: the global setting that ``verbose=None`` follows (see :func:`set_verbosity`)
_global_level: int = logging.WARNING
#: level of the outermost active :func:`verbose_context` (None outside any)
_active_level: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "nispace_active_level", default=None)
#: seconds of work before a progress bar appears ("only for long work")
PROGRESS_DELAY = 2.0


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


def _make_handler() -> logging.Handler:
    handler = logging.StreamHandler()  # stderr, never stdout
    handler.setFormatter(logging.Formatter(_FORMAT, _DATEFMT))
    handler.set_name("nispace")
    return handler


def _needs_handler() -> bool:
    """True when neither the nispace logger nor the root logger would show INFO records."""
    return not logger.handlers and not logging.getLogger().handlers


def set_verbosity(level: bool | str | int = "WARNING") -> None:
    """Set how much nispace reports, for all later calls.

    Calls made with ``verbose=None`` (the default everywhere) follow this setting;
    an explicit ``verbose=`` argument overrides it for that call only.

    Parameters
    ----------
    level : bool, str or int, default "WARNING"
        ``True`` = "INFO" (progress messages and progress bars), ``False`` =
        "WARNING" (the default: only problems), a level name ("DEBUG", "INFO",
        "WARNING", "ERROR", "CRITICAL", any case) or an int logging level.

    Examples
    --------
    >>> import nispace
    >>> nispace.set_verbosity("INFO")     # show what every step does
    >>> nispace.set_verbosity(False)      # back to quiet (warnings only)
    """
    global _global_level
    resolved = _to_level(level)
    if resolved is None:
        raise InputError("level: expected True, False, a level name or an int; got None.")
    _global_level = resolved
    logger.setLevel(resolved)
    if resolved < logging.WARNING and _needs_handler():
        # the user asked to see INFO records and logging is not configured: show them
        logger.addHandler(_make_handler())


@contextlib.contextmanager
def global_verbosity(level: bool | str | int) -> Iterator[None]:
    """:func:`set_verbosity` inside a ``with`` block; the previous setting comes back after."""
    global _global_level
    previous_global, previous_level = _global_level, logger.level
    handlers = list(logger.handlers)
    set_verbosity(level)
    try:
        yield
    finally:
        _global_level = previous_global
        logger.setLevel(previous_level)
        for handler in list(logger.handlers):
            if handler not in handlers:
                logger.removeHandler(handler)


def add_stderr_handler() -> None:
    """Give the ``nispace`` logger an ISO-8601 stderr handler unless logging is set up.

    For applications (the ``nispace`` command), never called by library code.
    """
    if _needs_handler():
        logger.addHandler(_make_handler())


def get_verbosity() -> int:
    """The global logging level that ``verbose=None`` follows (an int, e.g. 30 = WARNING)."""
    return _global_level


def set_log_level(verbose: bool | str | int = True) -> None:
    """Alias of :func:`set_verbosity` kept for older scripts.

    Parameters
    ----------
    verbose : bool, str or int, default True
        See ``level`` in :func:`set_verbosity`.
    """
    set_verbosity(verbose)


def effective_level(verbose: bool | str | int | None = None) -> int:
    """The level a call with this ``verbose`` argument runs at."""
    level = _to_level(verbose)
    if level is not None:
        return level
    active = _active_level.get()
    return _global_level if active is None else active


@contextlib.contextmanager
def verbose_context(verbose: bool | str | int | None) -> Iterator[None]:
    """Apply ``verbose`` to the ``nispace`` logger inside a ``with`` block.

    ``None`` means the global setting (:func:`set_verbosity`), or, inside another
    ``verbose_context``, the level of that outer block. The previous level is
    restored on exit, and a handler added here is removed again.
    """
    level = effective_level(verbose)
    previous = logger.level
    added = None
    if level < logging.WARNING and _needs_handler():
        added = _make_handler()
        logger.addHandler(added)
    logger.setLevel(level)
    token = _active_level.set(level)
    try:
        yield
    finally:
        _active_level.reset(token)
        logger.setLevel(previous)
        if added is not None:
            logger.removeHandler(added)


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:  # noqa: BLE001 - any failure means "not a notebook"
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _progress_class() -> Any:
    """The tqdm class that works here, or None when bars are not supported."""
    if os.environ.get("TQDM_DISABLE"):
        return None
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401 - tqdm.notebook needs it; else a TqdmWarning
        except ImportError:
            return None
        from tqdm.notebook import tqdm
        return tqdm
    stream = sys.stderr
    if stream is None or not getattr(stream, "isatty", lambda: False)():
        return None
    from tqdm.std import tqdm
    return tqdm


class _NoBar:
    """Stand-in for a disabled progress bar (same context-manager/update API)."""

    def __init__(self, iterable=None, **_: Any):
        self.iterable = iterable

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __iter__(self):
        return iter(self.iterable)

    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


def progress_bar(iterable=None, *, verbose: bool | str | int | None = None, **kwargs: Any):
    """A tqdm progress bar on stderr, shown only where it helps.

    Shown when the effective level (``verbose`` or the global setting) is INFO or
    lower, the output supports it (a terminal, or a notebook with ipywidgets: never
    a ``TqdmWarning: IProgress not found``) and the work lasts longer than
    :data:`PROGRESS_DELAY` seconds. Otherwise a silent stand-in with the same API.

    Parameters
    ----------
    iterable : iterable, optional
        Wrapped as by ``tqdm(iterable)``.
    verbose : bool, str, int or None, default None
        None follows the global setting (:func:`set_verbosity`).
    **kwargs
        Passed to tqdm (``total``, ``desc``, ``unit``, ``leave``, ...).
    """
    cls = _progress_class() if effective_level(verbose) <= logging.INFO else None
    if cls is None:
        return _NoBar(iterable)
    kwargs.setdefault("delay", PROGRESS_DELAY)
    kwargs.setdefault("file", sys.stderr)
    return cls(iterable, **kwargs)
