"""Validation helpers shared by the whole package."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .errors import InputError


def suggest(value: str, options: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest option, or an empty string."""
    options = [str(o) for o in options]
    lower = {o.lower(): o for o in options}
    match = difflib.get_close_matches(str(value).lower(), list(lower), n=1, cutoff=0.5)
    return f" Did you mean {lower[match[0]]!r}?" if match else ""


def check_option(name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise an :class:`~nispace.errors.InputError` (a ValueError) naming the argument,
    the allowed values and the closest one."""
    allowed = list(allowed)
    if value not in allowed:
        hint = suggest(value, allowed) if isinstance(value, str) else ""
        raise InputError(f"{name}: expected one of {allowed}; got {value!r}.{hint}")
