"""nispace.errors: typed errors that stay builtin errors, and the CLI exit codes they give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import nispace
from nispace import cli, workflows
from nispace._errors import check_option
from nispace.errors import (DataError, InputError, InputTypeError, MissingFileError,
                            NispaceError, StateError)


def test_the_hierarchy_keeps_the_builtin_types():
    assert nispace.errors.InputError is InputError
    for cls, builtin, code in [(InputError, ValueError, 2), (InputTypeError, TypeError, 2),
                               (MissingFileError, FileNotFoundError, 2),
                               (DataError, ValueError, 1), (StateError, RuntimeError, 1)]:
        assert issubclass(cls, NispaceError) and issubclass(cls, builtin)
        assert cls.exit_code == code


def test_check_option_raises_an_input_error_that_is_a_value_error():
    with pytest.raises(InputError, match=r"tail: expected one of \['two', 'upper'\]; got "
                                         r"'uper'\. Did you mean 'upper'\?"):
        check_option("tail", "uper", ["two", "upper"])
    with pytest.raises(ValueError):  # what callers written before nispace.errors catch
        check_option("tail", "uper", ["two", "upper"])


def test_validation_across_the_package_raises_typed_errors():
    from nispace.io import load_img
    from nispace.nulls import make_null_model
    from nispace.stats.pvalues import null_to_p

    with pytest.raises(InputError, match="null_method: expected one of"):
        make_null_model("spinn", n_parcels=3)
    with pytest.raises(InputTypeError, match="null_method: expected a str; got int"):
        make_null_model(3)
    with pytest.raises(InputError, match=r"null: expected shape \(n_perm"):
        null_to_p(np.zeros(3), np.zeros((10, 4)))
    with pytest.raises(MissingFileError, match="img: file not found"):
        load_img("/no/such/map.nii.gz")


def test_degenerate_data_is_a_data_error():
    from nispace.nulls import moran

    coords = np.arange(10.0)[:, None]
    dist = np.abs(coords - coords.T)
    with pytest.raises(DataError, match="data: expected a non-constant map"):
        moran(np.ones(10), dist, n_perm=5, seed=0)
    with pytest.raises(ValueError):  # still a ValueError for older callers
        moran(np.ones(10), dist, n_perm=5, seed=0)


# --------------------------------------------------------------------------------------
# the command line maps the type, never the message, to the exit code

@pytest.fixture
def tables(tmp_path):
    """Two tiny parcellated tables, so the CLI reaches the workflow without any download."""
    cols = [f"p{i}" for i in range(6)]
    rng = np.random.default_rng(0)
    paths = {}
    for name, n in (("y", 1), ("x", 2)):
        paths[name] = tmp_path / f"{name}.csv"
        pd.DataFrame(rng.normal(size=(n, 6)), index=[f"{name}{i}" for i in range(n)],
                     columns=cols).to_csv(paths[name])
    return paths


def raising(err: BaseException):
    """A stand-in workflow that fails a few calls deep, as a real one would."""
    def validate():
        raise err

    def workflow(*args, **kwargs):
        validate()

    return workflow


@pytest.mark.parametrize("err, code", [
    (InputError("n_perm: expected a positive integer; got -1."), 2),
    (InputTypeError("seed: expected None, an int or a Generator; got str."), 2),
    (MissingFileError("y: file not found: 'a.nii.gz'."), 2),
    (FileNotFoundError("[Errno 2] No such file or directory: 'a.csv'"), 2),
    (DataError("y: 1 map(s) contain only NaN values."), 1),
    (StateError("permute: the colocalizations changed; call colocalize() again."), 1),
    # untyped errors are analysis failures whatever their wording says
    (ValueError("n_perm: expected a positive integer; got -1. Did you mean 1?"), 1),
    (KeyError("x"), 1),
    (RuntimeError("boom"), 1),
])
def test_cli_exit_code_comes_from_the_error_type(tables, tmp_path, monkeypatch, capsys,
                                                 err, code):
    monkeypatch.setattr(workflows, "colocalization", raising(err))
    argv = ["colocalize", "--y", str(tables["y"]), "--x", str(tables["x"]), "--parcellation",
            "none", "--out", str(tmp_path / "out"), "--quiet"]
    assert cli.main(argv) == code
    stderr = capsys.readouterr().err
    assert str(err) in stderr
    assert ("nispace: error: " if code == 2 else "nispace: analysis failed: ") in stderr
    assert not (tmp_path / "out").exists()


def test_cli_has_no_message_matching_left():
    assert not hasattr(cli, "_is_usage")
    assert "exit codes" in cli.EPILOG and "InputError" in cli.EPILOG


def test_cli_usage_errors_print_the_usage(tmp_path, capsys):
    argv = ["colocalize", "--y", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o")]
    assert cli.main(argv + ["--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: nispace") and "--y: file not found" in err
    with pytest.raises(SystemExit) as exc:  # argparse's own usage errors
        cli.main(["colocalize", "--y", "a.csv", "--out", "o", "--n-perm", "many"])
    assert exc.value.code == 2
