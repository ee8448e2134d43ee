"""The ``nispace`` command: a thin argparse layer over the workflows.

Exit codes, from the type of the error (:mod:`nispace.errors`), never its wording:
0 success, 2 usage errors (bad arguments, missing files, unknown names: InputError,
InputTypeError, MissingFileError), 1 analysis failures (DataError, StateError, anything
else). Logs and progress bars go to stderr: warnings only by default, ``-v`` adds
progress (INFO), ``-vv`` DEBUG, ``--quiet`` nothing but errors on stderr (warnings are
still logged as records, e.g. for callers that capture them).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import warnings
from pathlib import Path

from ._errors import check_option
from .errors import ANALYSIS_EXIT_CODE, USAGE_EXIT_CODE, InputError, InputTypeError, NispaceError

__all__ = ["main", "build_parser"]

logger = logging.getLogger("nispace.cli")

EPILOG = """\
examples:
  # a meta-analytic map against the PET receptor maps (10,000 spins)
  nispace colocalize --y pain.nii.gz --x pet --x-collection UniqueTracers \\
      --parcellation Schaefer200 --n-perm 10000 --seed 42 --out results/pain

  # patients vs controls (Hedges' g), null by permuting the group labels
  nispace group-colocalize --y subjects.csv --design design.csv --x pet \\
      --parcellation Schaefer200 --out results/an

  # the mirror's example data, groups read from the subject labels
  nispace group-colocalize --y example:anorexianervosa --groups-regex "(AN|HC)$" \\
      --x pet --x-collection UniqueTracers --out results/an

  # gene-set enrichment of a map; list what the data source has; fetch a table
  nispace xsea --y map.nii.gz --x mrna --x-collection CellTypesPsychEncodeTPM --out res
  nispace list collections --dataset mrna
  nispace fetch reference pet --parcellation Schaefer200 --out pet.csv
  nispace report results/pain        # re-render report.html from a results folder

inputs (--y, --x, --z): NIfTI/GIfTI files (a GIfTI pair as L.gii,R.gii), CSV/TSV
tables (maps x parcels, first column = map labels), a reference dataset name
(pet, mrna, ...), or reference:NAME / example:NAME from the data source.

exit codes (from the type of the error, see nispace.errors):
  0  success
  2  usage: a bad option, name or value, a missing input file
     (InputError, InputTypeError, MissingFileError, FileNotFoundError)
  1  analysis failed: data that cannot be analysed, a download that failed, any
     other error (DataError, StateError, ...)
"""


class UsageError(InputError):
    """A problem with the command line or its inputs (exit code 2, prints the usage)."""


def _common(p: argparse.ArgumentParser, x_default: str, group: bool) -> None:
    io = p.add_argument_group("inputs")
    io.add_argument("--y", nargs="+", required=True, metavar="INPUT",
                    help="your map(s): images, a table, or example:/reference:NAME")
    io.add_argument("--y-labels", nargs="+", metavar="LABEL", help="labels of the Y maps")
    io.add_argument("--x", nargs="+", default=[x_default], metavar="INPUT",
                    help=f"reference maps or a dataset name (default: {x_default})")
    io.add_argument("--x-collection", metavar="NAME", help="collection of the X dataset")
    io.add_argument("--z", nargs="+", metavar="INPUT", help="covariate maps")
    io.add_argument("--space", metavar="SPACE",
                    help="space of the image data, e.g. MNI152NLin6Asym, MNI152NLin2009cAsym "
                         "(default: the space- entity of the file names, else MNI152NLin6Asym "
                         "for volumes, with a warning)")
    io.add_argument("--parcellation", default="Schaefer200",
                    help="library parcellation name or a label image (default: Schaefer200)")
    io.add_argument("--parcellation-labels", metavar="FILE",
                    help="text file with the parcel names of a custom label image")
    io.add_argument("--standardize", default="xz", help="z-score 'x', 'y', 'z' (default xz)")
    if group:
        g = p.add_argument_group("design")
        d = g.add_mutually_exclusive_group(required=True)
        d.add_argument("--design", metavar="TABLE",
                       help="CSV/TSV, one row per Y map: a 'groups' column, 'subjects' "
                            "(paired), 'site' (ComBat) and covariates")
        d.add_argument("--groups-regex", metavar="REGEX",
                       help="read the group of each Y map from its label, e.g. '(AN|HC)$'")
        g.add_argument("--comparison", default="hedges(a,b)",
                       help="transform formula (default: hedges(a,b); a = first level "
                            "in sorted order)")
        g.add_argument("--paired", action="store_true", help="paired design")
        g.add_argument("--combat", action="store_true", help="ComBat on the 'site' column")
    st = p.add_argument_group("statistics")
    st.add_argument("--method", nargs="+", default=["spearman"],
                    help="colocalization method(s) (default: spearman)")
    if not group:
        st.add_argument("--null-method", help="null model (default: spins for cortical "
                                              "surface parcellations, else moran; "
                                              "'spin+moran' for cortex+subcortex)")
        st.add_argument("--maps-which", choices=["X", "Y", "XY"],
                        help="maps replaced by nulls (default X; Y for xsea)")
        st.add_argument("--pooled-p", default="false",
                        choices=["false", "mean", "median", "auto"],
                        help="one p per X map from colocalizations averaged over Y maps")
    st.add_argument("--p-tails", choices=["two", "upper", "lower"],
                    help="tail of the tests (default per statistic: two for correlations)")
    st.add_argument("--mc-method", default="meff",
                    help="multiple-comparison correction (default: meff; 'none' to skip)")
    st.add_argument("--n-perm", type=int, default=10000, help="permutations (default 10000)")
    st.add_argument("--seed", type=int, help="random seed (results reproducible with it)")
    st.add_argument("--n-proc", type=int, default=1, help="parallel workers (-1: all cores)")
    out = p.add_argument_group("output")
    out.add_argument("--out", required=True, metavar="DIR",
                     help="output folder (created; an existing non-empty one is refused "
                          "unless --overwrite)")
    out.add_argument("--overwrite", action="store_true",
                     help="replace the results of an earlier run in --out (only a folder "
                          "holding nispace results, i.e. results.json or nispace/; its "
                          "nispace outputs are removed before the new ones are written, "
                          "other files are kept)")
    out.add_argument("--no-figures", action="store_true", help="skip figures")
    out.add_argument("--no-report", action="store_true", help="skip report.html")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``nispace`` (also used to render ``--help``)."""
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="nispace", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Spatial colocalization of brain maps with permutation tests.",
        epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"nispace {__version__}")
    parser.add_argument("--quiet", action="store_true", help="no logs or progress bars")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="show progress (INFO); -vv for DEBUG (default: warnings only)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # --quiet also after the command (``nispace colocalize ... --quiet``)
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="no logs or progress bars")
    quiet.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                       help="show progress (INFO); -vv for DEBUG (default: warnings only)")
    specs = [("colocalize", "map(s) vs reference maps, spatial null maps", "pet", False),
             ("group-colocalize", "group difference vs reference maps, label permutation",
              "pet", True),
             ("xsea", "map(s) vs sets of reference maps (set enrichment)", "mrna", False),
             ("group-xsea", "group difference vs sets of reference maps", "mrna", True)]
    for name, text, x_default, group in specs:
        p = sub.add_parser(name, help=text, description=text, epilog=EPILOG, parents=[quiet],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        _common(p, x_default, group)
    f = sub.add_parser("fetch", help="download data (verified) and print or save it",
                       parents=[quiet])
    f.add_argument("kind", choices=["reference", "parcellation", "template", "example"])
    f.add_argument("name")
    f.add_argument("--parcellation", help="parcellated table (reference, example)")
    f.add_argument("--collection", help="collection of a reference dataset")
    f.add_argument("--space", help="space (parcellation, template)")
    f.add_argument("--out", metavar="PATH", help="save a table as CSV here")
    ls = sub.add_parser("list", help="list datasets, collections, maps, parcellations, ...",
                        parents=[quiet])
    ls.add_argument("what", choices=["datasets", "collections", "maps", "parcellations",
                                     "spaces", "examples"])
    ls.add_argument("--dataset", help="dataset (required for collections; maps: default pet)")
    ls.add_argument("--parcellation", default="Schaefer200", help="parcellation (spaces)")
    r = sub.add_parser("report", help="re-render report.html from a results folder",
                       parents=[quiet])
    r.add_argument("folder")
    r.add_argument("--no-figures", action="store_true", help="keep the existing figures")
    return parser


# --------------------------------------------------------------------------------------
# inputs

_TABLE = re.compile(r"\.(csv|tsv|txt)(\.gz)?$", re.I)
_IMAGE = re.compile(r"\.(nii|nii\.gz|gii|gii\.gz|mgz)$", re.I)


def _read_table(path: str):
    import pandas as pd

    sep = "\t" if re.search(r"\.tsv(\.gz)?$", path, re.I) else ","
    return pd.read_csv(path, sep=sep, index_col=0)


def _input(values: list[str], parcellation: str, collection: str | None, name: str,
           labels: str | None = None):
    """One CLI input (list of strings) → what NiSpace accepts."""
    from .datasets import fetch_example

    if len(values) == 1:
        v = values[0]
        kind, _, rest = v.partition(":")
        if kind in ("example", "reference") and rest:
            dataset, _, coll = rest.partition(":")
            if kind == "example":
                return fetch_example(dataset, parcellation=parcellation, verbose=False)
            from .datasets import fetch_parcellation
            from .io import parcellate_reference  # any atlas: table, else the images

            parc = (fetch_parcellation(parcellation, labels=labels, verbose=False)
                    if os.path.exists(parcellation) else parcellation)
            return parcellate_reference(dataset, parc, collection=coll or collection,
                                        name=name, verbose=False)
        if _TABLE.search(v):
            if not os.path.isfile(v):
                raise UsageError(f"--{name}: file not found: {v}")
            return _read_table(v)
        if not _IMAGE.search(v) and "," not in v and not os.path.exists(v):
            return v  # a dataset name such as 'pet'; NiSpace checks it
    out = []
    for v in values:
        parts = v.split(",") if "," in v else [v]
        for part in parts:
            if not os.path.isfile(part):
                raise UsageError(f"--{name}: file not found: {part}")
        out.append(tuple(parts) if len(parts) == 2 else parts[0])
    return out if len(out) > 1 else out[0]


def _design(args, y_labels):
    import pandas as pd

    if args.design:
        if not os.path.isfile(args.design):
            raise UsageError(f"--design: file not found: {args.design}")
        # IDs stay as read: the workflow matches them to the Y labels (1 and "1" alike)
        return _read_table(args.design)
    try:
        pattern = re.compile(args.groups_regex)
    except re.error as err:
        raise UsageError(f"--groups-regex: not a valid regular expression ({err}).") from None
    groups = []
    for label in y_labels:
        m = pattern.search(str(label))
        if m is None:
            raise UsageError(f"--groups-regex: {args.groups_regex!r} does not match the Y "
                             f"label {label!r}.")
        groups.append(m.group(1) if m.groups() else m.group(0))
    return pd.DataFrame({"groups": groups}, index=[str(lab) for lab in y_labels])


# --------------------------------------------------------------------------------------
# commands

#: what ``export_results`` writes into a results folder (cleared by --overwrite)
_OUTPUTS = ("results.csv", "nulls_summary.csv", "results.json", "report.html", "nispace",
            "figures")


def _check_out(out: str, overwrite: bool) -> Path:
    """``--out``: a creatable folder, empty or (with --overwrite) an earlier nispace run."""
    from ._validate import check_out_dir

    try:
        folder = check_out_dir(out, "--out")
    except (InputError, TypeError) as err:
        raise UsageError(str(err)) from None
    if folder.is_dir() and any(folder.iterdir()):
        looks_like_results = any((folder / name).exists() for name in ("results.json",
                                                                      "nispace"))
        if not overwrite:
            hint = (" or pass --overwrite to replace the earlier results"
                     if looks_like_results else "")
            raise UsageError(f"--out: the folder {out} exists and is not empty; choose a new "
                             f"folder{hint}.")
        if not looks_like_results:
            raise UsageError(f"--out: --overwrite only replaces nispace results, but {out} "
                             f"holds no results.json or nispace/ folder; choose a new or an "
                             f"empty folder.")
        if not os.access(folder, os.W_OK):
            raise UsageError(f"--out: the folder {out} is not writable.")
    return folder


def _clear_outputs(folder: Path) -> None:
    """Remove the outputs of an earlier run (only nispace's own files and folders)."""
    import shutil

    for name in _OUTPUTS:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    logger.info("--overwrite: removed the earlier results in %s.", folder)


def _check_args(args) -> None:
    """Every option of an analysis that can be checked before anything is fetched."""
    from ._validate import check_n_perm, check_n_proc, check_seed
    from .nulls import parse_null_method
    from .stats.coloc import COLOC_METHODS
    from .stats.correction import canonical_mc_method
    from .stats.transforms import parse_transform

    def usage(check, *a, **kw) -> None:
        """Run a validator given the option's name; its error is a usage error."""
        try:
            check(*a, **kw)
        except (InputError, InputTypeError) as err:
            raise UsageError(str(err)) from None

    usage(check_n_perm, args.n_perm, name="--n-perm")
    usage(check_seed, args.seed, "--seed")
    usage(check_n_proc, args.n_proc, "--n-proc")
    for method in args.method:
        usage(check_option, "--method", method, list(COLOC_METHODS))
    if str(args.mc_method).lower() != "none":
        usage(canonical_mc_method, args.mc_method, "--mc-method")
    if getattr(args, "null_method", None):
        usage(parse_null_method, args.null_method, "--null-method")
    if not set(str(args.standardize).lower()) <= set("xyz"):
        raise UsageError(f"--standardize: expected a combination of 'x', 'y', 'z' such as "
                         f"'xz'; got {args.standardize!r}.")
    if getattr(args, "comparison", None):
        usage(parse_transform, args.comparison, "--comparison")
    for option in ("design", "parcellation_labels"):
        value = getattr(args, option, None)
        if value and not os.path.isfile(value):
            raise UsageError(f"--{option.replace('_', '-')}: file not found: {value}")


def _analysis(args) -> int:
    import pandas as pd

    from . import workflows
    from .datasets import reset_files_used
    from .report.results import export_results

    verbose = None  # follows set_verbosity (--quiet / -v)
    _check_args(args)
    out_folder = _check_out(args.out, args.overwrite)
    reset_files_used()
    group = args.command.startswith("group")
    xsea = args.command.endswith("xsea")
    labels = args.parcellation_labels
    y = _input(args.y, args.parcellation, None, "y", labels)
    x = _input(args.x, args.parcellation, args.x_collection, "x", labels)
    z = _input(args.z, args.parcellation, None, "z", labels) if args.z else None
    mc = None if str(args.mc_method).lower() == "none" else args.mc_method
    permute_kwargs = {"p_tails": args.p_tails} if args.p_tails else {}
    init = {"y_labels": args.y_labels,
            "parcellation_labels": args.parcellation_labels}
    common = dict(x=x, z=z, x_collection=args.x_collection, parcellation=args.parcellation,
                  colocalization_method=args.method, mc_method=mc, n_perm=args.n_perm,
                  seed=args.seed, n_proc=args.n_proc, plot=False, verbose=verbose,
                  init_kwargs={k: v for k, v in init.items() if v is not None},
                  permute_kwargs=permute_kwargs, standardize=args.standardize,
                  space=args.space)
    warnings = []
    if any(str(v).startswith("example:anorexianervosa") for v in args.y):
        warnings.append("The anorexia nervosa example data are SIMULATED and not intended for "
                        "scientific use.")
    if group:
        labels = args.y_labels or (list(y.index) if isinstance(y, pd.DataFrame) else None)
        if labels is None:
            raise UsageError("--y-labels: a group analysis of images needs one label per "
                             "image (matching the design's first column).")
        design = _design(args, labels)
        func = workflows.group_xsea if xsea else workflows.group_colocalization
        nsp = func(y, design, comparison_method=args.comparison, paired=args.paired,
                   combat=args.combat, **common)
    else:
        pooled = {"false": False}.get(args.pooled_p, args.pooled_p)
        if args.maps_which:
            permute_kwargs["maps_which"] = args.maps_which
        func = workflows.xsea if xsea else workflows.colocalization
        nsp = func(y, null_method=args.null_method, pooled_p=pooled, **common)
    command = "nispace " + " ".join(sys.argv[1:]) if sys.argv else None
    if args.overwrite and out_folder.is_dir():
        _clear_outputs(out_folder)
    export_results(nsp, args.out, command=command, figures=not args.no_figures,
                   report=not args.no_report, warnings=warnings)
    if not args.quiet:
        print(f"nispace: results written to {args.out}", file=sys.stderr)
    return 0


def _fetch(args) -> int:
    from .datasets import fetch_example, fetch_parcellation, fetch_reference, fetch_template

    verbose = None  # follows set_verbosity (--quiet / -v)
    if args.out:
        _check_file_out(args.out)
    if args.kind == "reference":
        result = fetch_reference(args.name, parcellation=args.parcellation,
                                 collection=args.collection, print_references=False,
                                 verbose=verbose)
    elif args.kind == "example":
        result = fetch_example(args.name, parcellation=args.parcellation, verbose=verbose)
    elif args.kind == "parcellation":
        parc = fetch_parcellation(args.name, space=args.space, verbose=verbose)
        print(parc)
        return 0
    else:
        result = fetch_template(args.space or args.name, verbose=verbose)
    import pandas as pd

    if isinstance(result, pd.DataFrame):
        if args.out:
            result.to_csv(args.out)
            print(f"{result.shape[0]} maps x {result.shape[1]} parcels saved to {args.out}")
        else:
            print(result.iloc[:, :6].to_string())
    else:
        items = result if isinstance(result, (list, tuple)) else [result]
        for item in items:
            print(item)
    return 0


def _check_file_out(out: str) -> None:
    """``fetch --out``: a file path in a writable folder, not a folder."""
    path = Path(out)
    if path.is_dir():
        raise UsageError(f"--out: expected a file path for the CSV; got the folder {out}.")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise UsageError(f"--out: the folder {parent} does not exist; create it first.")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"--out: the folder {parent} is not writable.")


def _list(args) -> int:
    from . import datasets

    if args.what == "datasets":
        items = datasets.available_datasets()
    elif args.what == "examples":
        items = datasets.available_examples()
    elif args.what == "parcellations":
        items = datasets.available_parcellations()
    elif args.what == "collections":
        items, default = _collections(args.dataset)
        if default and not args.quiet:  # stdout stays one name per line
            print(f"default collection of {args.dataset}: {default}", file=sys.stderr)
    elif args.what == "spaces":
        items = datasets.fetch_parcellation(args.parcellation, verbose=False).spaces
    else:
        info = datasets.fetch_metadata(args.dataset or "pet")
        items = [] if info is None else list(info.index)
    for item in items:
        print(item)
    return 0


def _collections(dataset: str | None) -> tuple[list[str], str | None]:
    """Collection names of ``dataset`` and its default one; no dataset is an error."""
    from .datasets.collections import datasets_with_collections, default_collection
    from .datasets.collections import list_collections
    from .datasets.registry import load_manifest

    if dataset is None:
        having = ", ".join(f"{name} (default {default})" if default else name
                           for name, default in datasets_with_collections().items())
        raise UsageError(f"--dataset: 'nispace list collections' needs a dataset; got none. "
                         f"Datasets with collections: {having}. Example: "
                         f"nispace list collections --dataset mrna")
    dataset = load_manifest("reference", dataset, argument="--dataset")[0]
    return list_collections(dataset), default_collection(dataset)


def _report(args) -> int:
    from .report.results import render_from_folder

    if not Path(args.folder).is_dir():
        raise UsageError(f"folder: not a directory: {args.folder}")
    path = render_from_folder(args.folder, figures=not args.no_figures)  # typed errors
    print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``nispace`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit with 2 here
    from ._logging import add_stderr_handler, global_verbosity

    with global_verbosity(_verbosity(args)):
        add_stderr_handler()
        return _run(parser, args)


def _run(parser, args) -> int:
    handlers = {"fetch": _fetch, "list": _list, "report": _report}
    try:
        with _quiet(args.quiet):
            return handlers.get(args.command, _analysis)(args)
    except UsageError as err:
        parser.print_usage(sys.stderr)
        print(f"nispace: error: {err}", file=sys.stderr)
        return USAGE_EXIT_CODE
    except Exception as err:  # noqa: BLE001 - the command line reports, not tracebacks
        code = _exit_code(err)
        if code == USAGE_EXIT_CODE:
            print(f"nispace: error: {err}", file=sys.stderr)
        elif isinstance(err, NispaceError):
            print(f"nispace: analysis failed: {err}", file=sys.stderr)
        else:
            print(f"nispace: analysis failed: {type(err).__name__}: {err}", file=sys.stderr)
        return code


@contextlib.contextmanager
def _quiet(quiet: bool):
    """``--quiet``: no log records or Python warnings on stderr (errors are printed by
    :func:`main`). A handler that drops everything below ERROR keeps logging's
    last-resort handler from printing WARNINGs; it is removed afterwards."""
    if not quiet:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.ERROR)
    root = logging.getLogger("nispace")
    # handlers left by an earlier call in this process (e.g. main() without --quiet)
    earlier = {h: h.level for h in root.handlers}
    for h in earlier:
        h.setLevel(max(h.level, logging.ERROR))
    root.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeHandler(handler)
        for h, level in earlier.items():
            h.setLevel(level)
def _verbosity(args) -> str:
    """The logging level: WARNING by default and with --quiet (whose stderr is then
    silenced by :func:`_quiet`, records are still made), -v INFO, -vv DEBUG."""
    if args.quiet:
        os.environ.setdefault("TQDM_DISABLE", "1")
        return "WARNING"
    return {0: "WARNING", 1: "INFO"}.get(args.verbose, "DEBUG")


def _exit_code(err: BaseException) -> int:
    """The exit code of an error, from its type alone (see :mod:`nispace.errors`)."""
    if isinstance(err, NispaceError):
        return err.exit_code
    if isinstance(err, FileNotFoundError):  # a path the user named, raised by open() & co.
        return USAGE_EXIT_CODE
    return ANALYSIS_EXIT_CODE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
