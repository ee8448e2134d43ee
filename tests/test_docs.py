"""The documentation: the Sphinx site builds without a single warning (gallery examples
executed on the data mirror), every public callable documents its parameters in a numpydoc
"Parameters" section, and parameter texts written once in ``nispace._docs`` are filled in."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from nispace._docs import DOCDICT, fill_doc
from nispace.errors import InputError

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"

#: the modules of the API reference (docs/api.rst), each with its public names in __all__
PUBLIC_MODULES = ["nispace", "nispace.datasets", "nispace.io", "nispace.workflows",
                  "nispace.transforms", "nispace.parcellation", "nispace.stats",
                  "nispace.nulls", "nispace.plotting", "nispace.results", "nispace.report",
                  "nispace.errors"]


def _need(module: str):
    """Import a documentation package; skip without it, but fail under CI=true (CI
    installs the ``docs`` extra)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        msg = (f"{module} is not installed: pip install -e '.[docs]' to build and check "
               f"the documentation.")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


def _public_objects():
    """(name, object) of every public callable: the functions and classes in ``__all__``
    of the public modules, NiSpace, and the public methods of every public class."""
    from nispace.api import NiSpace

    seen: dict[int, str] = {}
    found = []

    def add(name, obj):
        if id(obj) not in seen:
            seen[id(obj)] = name
            found.append((name, obj))

    classes = [("nispace.api.NiSpace", NiSpace)]
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                classes.append((f"{module_name}.{name}", obj))
            elif inspect.isfunction(obj):
                add(f"{module_name}.{name}", obj)
    for cls_name, cls in classes:
        if issubclass(cls, BaseException):
            continue  # exceptions take a message, documented by the class text
        add(cls_name, cls)
        for name, member in vars(cls).items():
            func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            if not name.startswith("_") and inspect.isfunction(func):
                add(f"{cls_name}.{name}", func)
    return found


def _takes_parameters(obj) -> bool:
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return False
    return any(name not in ("self", "cls") for name in params)


def test_every_public_callable_with_parameters_has_a_parameters_section():
    docscrape = _need("numpydoc.docscrape")
    objects = _public_objects()
    assert len(objects) > 150  # the whole public API, not an empty list
    missing, malformed = [], []
    for name, obj in objects:
        doc = inspect.getdoc(obj) or ""
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpydoc warns on unknown sections
            try:
                parsed = docscrape.NumpyDocString(doc)
            except Exception as exc:  # noqa: BLE001 - any parse problem is reported
                malformed.append(f"{name}: {exc}")
                continue
        if _takes_parameters(obj) and not parsed["Parameters"]:
            missing.append(name)
    assert malformed == []
    assert missing == [], f"{len(missing)} public callables lack a Parameters section"


def test_documented_parameters_exist_in_the_signature():
    docscrape = _need("numpydoc.docscrape")
    wrong = []
    for name, obj in _public_objects():
        if not _takes_parameters(obj):
            continue
        signature = inspect.signature(obj).parameters
        documented = [p.name for p in docscrape.NumpyDocString(inspect.getdoc(obj) or "")
                      ["Parameters"]]
        for entry in documented:
            for param in re.split(r",\s*", entry):
                param = param.lstrip("*")
                if param and param not in signature:
                    wrong.append(f"{name}: {param}")
    assert wrong == []


def test_no_placeholder_is_left_unfilled():
    left = [name for name, obj in _public_objects() if "%(" in (obj.__doc__ or "")]
    assert left == []


def test_fill_doc_indents_shared_entries_like_the_placeholder():
    @fill_doc
    def run(n_perm: int = 100, seed=None):
        """Run something.

        Parameters
        ----------
        %(n_perm)s
        %(seed)s
        """

    lines = run.__doc__.splitlines()
    assert "        n_perm : int" in lines
    assert "        seed : int or None" in lines
    # description lines are indented four more than their entry
    first = lines.index("        n_perm : int")
    assert lines[first + 1].startswith("            Number of permutations")
    assert DOCDICT["n_perm"].splitlines()[1].strip() in run.__doc__


def test_fill_doc_fills_methods_of_a_class_and_leaves_percent_signs_alone():
    @fill_doc
    class Model:
        """A model with 5 % noise.

        Parameters
        ----------
        %(verbose)s
        """

        def fit(self, n_proc: int = 1):
            """Fit.

            Parameters
            ----------
            %(n_proc)s
            """

    assert "5 % noise" in Model.__doc__
    assert "verbose : bool, str, int or None" in Model.__doc__
    assert "            n_proc : int" in Model.fit.__doc__


def test_fill_doc_names_an_unknown_placeholder():
    def f():
        """Doc.

        Parameters
        ----------
        %(no_such_parameter)s
        """

    with pytest.raises(InputError, match="no_such_parameter"):
        fill_doc(f)


def test_api_reference_lists_every_public_name():
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    absent = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and \
                    not re.search(rf"^   {re.escape(name)}$", text, re.M):
                absent.append(f"{module_name}.{name}")
    assert absent == []


@pytest.mark.slow
@pytest.mark.network
def test_docs_build_without_warnings(data_url, tmp_path):
    _need("sphinx")
    _need("numpydoc")
    _need("sphinx_gallery")
    _need("pydata_sphinx_theme")
    out = tmp_path / "html"
    env = dict(os.environ, NISPACE_DATA_URL=data_url,
               NISPACE_DATA_DIR=str(tmp_path / "nispace-data"),
               PYTHONPATH=os.pathsep.join([str(REPO)] + [p for p in
                                          [os.environ.get("PYTHONPATH")] if p]))
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    # -W: any warning of Sphinx, numpydoc, autodoc or sphinx-gallery fails the build
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    # the API reference: a page per public object
    for page in ["api.html", "generated/nispace.api.NiSpace.html",
                 "generated/nispace.workflows.colocalization.html",
                 "generated/nispace.datasets.fetch_reference.html",
                 "generated/nispace.nulls.moran.html",
                 "generated/nispace.results.PermutationResult.html"]:
        assert (out / page).is_file(), page
    # shared parameter docs are filled in the pages, not shown as placeholders
    page = (out / "generated/nispace.workflows.colocalization.html").read_text("utf-8")
    assert "Number of permutations" in page and "%(" not in page
    # the executed examples produced their figures; the Neurovault one is shown unrun
    images = {p.name for p in (out / "_images").iterdir()}
    for example in ("colocalization_nifti", "group_comparison", "xsea", "command_line"):
        assert f"sphx_glr_plot_{example}_001.png" in images, sorted(images)
    assert (out / "auto_examples" / "plot_neurovault.html").is_file()
