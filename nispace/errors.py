"""The exceptions nispace raises on purpose.

Every error nispace raises deliberately is a :class:`NispaceError`, and also an
instance of the builtin type the problem would have raised anyway, so code written
as ``except ValueError`` keeps working::

    NispaceError                                 base of all of them
    ├── InputError(NispaceError, ValueError)          a bad argument, option or name
    ├── InputTypeError(NispaceError, TypeError)       an argument of the wrong type
    ├── MissingFileError(NispaceError, FileNotFoundError)  a path the user gave is missing
    ├── ExistingPathError(NispaceError, FileExistsError)   a path to write is taken
    ├── DataError(NispaceError, ValueError)           the data cannot be analysed
    └── StateError(NispaceError, RuntimeError)        a step out of order, stale results

Input errors are the caller's to fix by changing the call; data and state errors are
about what the call was given or what ran before. The ``nispace`` command line maps
them to exit codes by type (never by the wording of the message):

=======================================================  =========
exception                                                exit code
=======================================================  =========
:class:`InputError`, :class:`InputTypeError`,            2 (usage)
:class:`MissingFileError`, :class:`ExistingPathError`,
a command-line usage error
:class:`DataError`, :class:`StateError`, anything        1 (analysis failed)
else
=======================================================  =========

The command line runs the steps of an analysis itself, so a :class:`StateError` there
means the analysis could not go on (for example a results folder whose files do not
belong together); it exits with 1. Each class carries its code as ``exit_code``.

Examples
--------
>>> from nispace.errors import InputError
>>> try:
...     raise InputError("tail: expected one of ['two', 'upper', 'lower']; got 'both'.")
... except ValueError as err:
...     print(type(err).__name__, err.exit_code)
InputError 2
"""

from __future__ import annotations

__all__ = ["DataError", "ExistingPathError", "InputError", "InputTypeError", "MissingFileError",
           "NispaceError", "StateError", "USAGE_EXIT_CODE", "ANALYSIS_EXIT_CODE"]

#: Exit code of the command line for usage errors (as argparse's own errors).
USAGE_EXIT_CODE = 2
#: Exit code of the command line when the analysis failed.
ANALYSIS_EXIT_CODE = 1


class NispaceError(Exception):
    """Base class of the errors nispace raises deliberately."""

    exit_code: int = ANALYSIS_EXIT_CODE


class InputError(NispaceError, ValueError):
    """An argument, option or name the call cannot accept (command line: exit 2)."""

    exit_code = USAGE_EXIT_CODE


class InputTypeError(NispaceError, TypeError):
    """An argument of a type the call cannot accept (command line: exit 2)."""

    exit_code = USAGE_EXIT_CODE


class MissingFileError(NispaceError, FileNotFoundError):
    """A file or folder the user named does not exist (command line: exit 2)."""

    exit_code = USAGE_EXIT_CODE


class ExistingPathError(NispaceError, FileExistsError):
    """A path to write to is taken by something nispace must not replace (command line:
    exit 2)."""

    exit_code = USAGE_EXIT_CODE


class DataError(NispaceError, ValueError):
    """Well-formed input whose data cannot be analysed (command line: exit 1)."""

    exit_code = ANALYSIS_EXIT_CODE


class StateError(NispaceError, RuntimeError):
    """A step called out of order or on results that no longer match (command line: exit 1)."""

    exit_code = ANALYSIS_EXIT_CODE
