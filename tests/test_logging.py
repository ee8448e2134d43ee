"""Quiet by default: nispace logs warnings only unless asked, through one global switch."""

import logging

import pytest

import nispace
from nispace import _logging
from nispace._logging import progress_bar, verbose_context


@pytest.fixture(autouse=True)
def _restore_verbosity():
    """Each test starts and ends at the default (WARNING), with no nispace handler."""
    with _logging.global_verbosity("WARNING"):
        yield


def _nispace_records(caplog, level=logging.INFO):
    return [r for r in caplog.records if r.name.startswith("nispace") and r.levelno == level]


def test_import_adds_no_handler_and_sets_no_level():
    import subprocess
    import sys

    code = ("import logging, nispace; lg = logging.getLogger('nispace'); "
            "print(len(lg.handlers), lg.level, nispace.get_verbosity())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["0", "0", str(logging.WARNING)]


def test_a_default_workflow_run_emits_no_info_records(data_url, caplog, capsys):
    from nispace.datasets import fetch_example
    from nispace.workflows import colocalization

    caplog.set_level(logging.INFO)  # root at INFO: only nispace's own default can keep it quiet
    pain = fetch_example("painmeta", parcellation="Schaefer200")
    colocalization(pain, x="pet", x_collection="UniqueTracers", n_perm=20, seed=1,
                   plot=False)
    assert _nispace_records(caplog) == []
    assert capsys.readouterr().out == ""  # library code never prints


def test_verbose_true_shows_info_for_that_call_only(data_url, caplog):
    from nispace.datasets import fetch_example

    caplog.set_level(logging.INFO)
    fetch_example("painmeta", parcellation="Schaefer200", verbose=True)
    assert _nispace_records(caplog)
    caplog.clear()
    fetch_example("painmeta", parcellation="Schaefer200")  # back to the global setting
    assert _nispace_records(caplog) == []


def test_set_verbosity_is_respected_by_later_calls(caplog):
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("nispace.test")
    nispace.set_verbosity("INFO")
    with verbose_context(None):  # what every function with verbose=None does
        log.info("shown")
    nispace.set_verbosity(False)
    with verbose_context(None):
        log.info("hidden")
    with verbose_context(True):  # an explicit argument wins for that call
        log.info("shown again")
    assert [r.getMessage() for r in _nispace_records(caplog)] == ["shown", "shown again"]


def test_nested_calls_inherit_the_outer_level(caplog):
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("nispace.test")
    with verbose_context(True):
        with verbose_context(None):  # an inner call with its default
            log.info("inner")
    assert [r.getMessage() for r in _nispace_records(caplog)] == ["inner"]
    assert logging.getLogger("nispace").level == logging.WARNING  # restored


@pytest.mark.parametrize("level, expected", [(True, logging.INFO), (False, logging.WARNING),
                                             ("debug", logging.DEBUG), ("ERROR", logging.ERROR),
                                             (15, 15)])
def test_set_verbosity_accepts_bools_names_and_ints(level, expected):
    nispace.set_verbosity(level)
    assert nispace.get_verbosity() == expected


def test_set_verbosity_rejects_unknown_levels():
    with pytest.raises(nispace.errors.InputError, match="verbose"):
        nispace.set_verbosity("loud")
    with pytest.raises(nispace.errors.InputTypeError, match="verbose"):
        nispace.set_verbosity(1.5)


def test_handler_uses_iso_8601_timestamps():
    record = logging.LogRecord("nispace.x", logging.INFO, __file__, 1, "hello", None, None)
    line = _logging._make_handler().format(record)
    stamp = line.split(" ")[0]
    assert len(stamp) >= 19 and stamp[4] == "-" and stamp[10] == "T"
    assert line.endswith("INFO nispace.x: hello")


def test_progress_bar_is_silent_by_default_and_off_a_terminal(capsys):
    with progress_bar(total=10) as bar:  # WARNING level: no bar
        bar.update(10)
    with progress_bar(total=10, verbose=True) as bar:  # pytest's stderr is not a terminal
        bar.update(10)
    assert list(progress_bar(range(3))) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_cli_verbosity_flags(monkeypatch):
    from nispace.cli import _verbosity, build_parser

    monkeypatch.setenv("TQDM_DISABLE", "")  # --quiet sets it; keep it out of other tests

    parser = build_parser()
    assert _verbosity(parser.parse_args(["list", "parcellations"])) == "WARNING"
    assert _verbosity(parser.parse_args(["-v", "list", "parcellations"])) == "INFO"
    assert _verbosity(parser.parse_args(["list", "parcellations", "-vv"])) == "DEBUG"
    assert _verbosity(parser.parse_args(["list", "parcellations", "--quiet"])) == "WARNING"
