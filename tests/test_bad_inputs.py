"""A corpus of bad inputs: each is refused with a typed error naming the argument,
before any data are permuted (and, for the workflows and the command line, before
``fit()`` loads any data).

Every case is a row ``(id, call, expected exception type, text the message must
contain)``. The text is the argument's name (``n_perm``, ``--mc-method``, ...) or, for
data problems, the map or file at fault. Small synthetic tables and images made in
the tests; a few cases use the mirror (``data_url``).
"""

from __future__ import annotations

import gzip
import logging
import os
from pathlib import Path
from types import SimpleNamespace

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from nispace import nulls, workflows
from nispace.api import NiSpace
from nispace.cli import main
from nispace.errors import (DataError, InputError, InputTypeError, MissingFileError,
                            NispaceError, StateError)
from nispace.io import parcellate_array, parcellate_images
from nispace.parcellation import Parcellation
from nispace.stats import correction, pvalues
from nispace.stats.coloc import colocalize

PARCELS = [f"p{i}" for i in range(20)]


class PermutationRan(AssertionError):
    """Raised by the guard when a permutation starts."""


@pytest.fixture(autouse=True)
def no_permutation(monkeypatch):
    """Fail the test if any permutation chunk runs (every permutation goes through
    ``run_chunks``). Every module of nispace.permute is imported first, so none binds
    the guard for good, and each that imported ``run_chunks`` by name is patched."""
    import importlib
    import pkgutil

    import nispace.permute as permute_pkg
    from nispace.permute import engine

    original = engine.run_chunks
    modules = [permute_pkg] + [importlib.import_module(f"nispace.permute.{m.name}")
                               for m in pkgutil.iter_modules(permute_pkg.__path__)]

    def refuse(*args, **kwargs):
        raise PermutationRan("a permutation ran before the bad input was refused")

    for module in modules:
        if getattr(module, "run_chunks", None) is original:
            monkeypatch.setattr(module, "run_chunks", refuse)


@pytest.fixture
def no_fit(monkeypatch):
    """Fail the test if NiSpace.fit() is called (workflows and CLI check first)."""
    def refuse(self):
        raise AssertionError("fit() ran before the bad input was refused")

    monkeypatch.setattr(NiSpace, "fit", refuse)


# ---------------------------------------------------------------------------------------
# synthetic data


def tables(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(3, 20)), index=["a", "b", "c"], columns=PARCELS)
    y = pd.DataFrame(rng.normal(size=(2, 20)), index=["y1", "y2"], columns=PARCELS)
    return x, y


def label_image() -> nib.Nifti1Image:
    """4 box-shaped parcels on a 10 x 10 x 10 grid at 4 mm."""
    data = np.zeros((10, 10, 10), dtype=np.int16)
    for i in range(4):
        data[1 + 2 * i:3 + 2 * i, 2:8, 2:8] = i + 1
    return nib.Nifti1Image(data, np.diag([4.0, 4.0, 4.0, 1.0]))


def image(values: np.ndarray, shift: float = 0.0) -> nib.Nifti1Image:
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] += shift
    return nib.Nifti1Image(values.astype(np.float32), affine)


def smooth_map(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.indices((10, 10, 10))[0] + rng.normal(0, 0.1, (10, 10, 10)) + 1


@pytest.fixture
def env(tmp_path):
    """Tables, a fitted + colocalized NiSpace object, an image parcellation and files."""
    x, y = tables()
    nsp = NiSpace(x=x, y=y, parcellation=None, verbose=False).fit()
    nsp.colocalize("spearman")
    parc = Parcellation.from_image(label_image(), labels=["L_a", "R_a", "L_b", "R_b"],
                                   name="boxes", space="MNI152NLin6Asym")
    good = tmp_path / "space-MNI152NLin6Asym_good.nii.gz"
    nib.save(image(smooth_map()), good)
    raw = good.read_bytes()
    truncated = tmp_path / "space-MNI152NLin6Asym_truncated.nii.gz"
    truncated.write_bytes(raw[: len(raw) // 2])
    garbage = tmp_path / "space-MNI152NLin6Asym_garbage.nii.gz"
    garbage.write_bytes(gzip.compress(b"not a nifti header" * 10))
    xp = pd.DataFrame(np.random.default_rng(1).normal(size=(3, 4)), index=["a", "b", "c"],
                      columns=["L_a", "R_a", "L_b", "R_b"])
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("x")
    return SimpleNamespace(x=x, y=y, nsp=nsp, parc=parc, xp=xp, tmp=tmp_path, good=good,
                           truncated=truncated, garbage=garbage, a_file=a_file)


def with_y(y, **kw):
    x, _ = tables()
    return NiSpace(x=x, y=y, parcellation=None, **{"verbose": False, **kw}).fit()


def fit_image(e, y, **kw):
    return NiSpace(x=e.xp, y=y, parcellation=e.parc, verbose=False,
                   data_space="MNI152NLin6Asym", **kw).fit()


def y_const():
    _, y = tables()
    return y.iloc[:1] * 0 + 1.0


def y_nan():
    _, y = tables()
    return y.iloc[:1] * np.nan


def y_few(n_valid: int):
    _, y = tables()
    out = y.iloc[:1].copy()
    out.iloc[0, n_valid:] = np.nan
    return out


def x_const():
    x, _ = tables()
    return x * 0 + 2.0


def mismatch_cols():
    _, y = tables()
    return y.rename(columns={"p0": "q0"})


# ---------------------------------------------------------------------------------------
# the API corpus: NiSpace, its methods, io, nulls and stats

P = dict(n_perm=5, null_method="random")  # a valid permutation request, changed per row

API = [
    # --- NiSpace(...).fit(): data ---
    ("x-none", lambda e: NiSpace(x=None).fit(), InputError, "x"),
    ("x-int", lambda e: NiSpace(x=5, parcellation=None).fit(), InputTypeError, "x:"),
    ("x-bool", lambda e: NiSpace(x=True, parcellation=None).fit(), InputTypeError, "x:"),
    ("x-float", lambda e: NiSpace(x=3.5, parcellation=None).fit(), InputTypeError, "x:"),
    ("x-bytes", lambda e: NiSpace(x=b"pet", parcellation=None).fit(), InputTypeError, "x:"),
    ("x-empty-list", lambda e: NiSpace(x=[], parcellation=None).fit(), InputError, "x:"),
    ("x-empty-dict", lambda e: NiSpace(x={}, parcellation=None).fit(), InputError, "x:"),
    ("x-empty-frame", lambda e: NiSpace(x=pd.DataFrame(), parcellation=None).fit(),
     InputError, "x:"),
    ("x-empty-str", lambda e: NiSpace(x="  ", parcellation=None).fit(), InputError, "x:"),
    ("y-int", lambda e: with_y(7), InputTypeError, "y:"),
    ("y-complex", lambda e: with_y(1j), InputTypeError, "y:"),
    ("z-int", lambda e: NiSpace(x=e.x, z=1, parcellation=None).fit(), InputTypeError, "z:"),
    ("y-missing-nii", lambda e: with_y(str(e.tmp / "missing.nii.gz")), MissingFileError,
     "missing.nii.gz"),
    ("y-missing-csv", lambda e: with_y(str(e.tmp / "sub" / "t.csv")), MissingFileError,
     "t.csv"),
    ("y-missing-pathlib", lambda e: with_y(e.tmp / "nope"), MissingFileError, "nope"),
    ("y-missing-in-list", lambda e: fit_image(e, [str(e.good), str(e.tmp / "gone.nii")]),
     MissingFileError, "gone.nii"),
    ("x-dataset-without-parcellation", lambda e: NiSpace(x="pet", parcellation=None).fit(),
     InputError, "parcellation"),
    ("y-parcel-count", lambda e: with_y(tables()[1].iloc[:, :15]), InputError, "y:"),
    ("y-parcel-labels", lambda e: with_y(mismatch_cols()), InputError, "y:"),
    ("y-all-nan", lambda e: with_y(y_nan()), DataError, "y"),
    ("y-constant", lambda e: with_y(y_const()), DataError, "y:"),
    ("y-two-valid-parcels", lambda e: with_y(y_few(2)), DataError, "y:"),
    ("y-three-valid-parcels", lambda e: with_y(y_few(3)), DataError, "y:"),
    ("x-constant", lambda e: NiSpace(x=x_const(), parcellation=None).fit(), DataError, "x:"),
    # --- NiSpace(...).fit(): options ---
    ("n_proc-0", lambda e: with_y(e.y, n_proc=0), InputError, "n_proc"),
    ("n_proc--2", lambda e: with_y(e.y, n_proc=-2), InputError, "n_proc"),
    ("n_proc-float", lambda e: with_y(e.y, n_proc=1.5), InputTypeError, "n_proc"),
    ("n_proc-str", lambda e: with_y(e.y, n_proc="2"), InputTypeError, "n_proc"),
    ("n_proc-none", lambda e: with_y(e.y, n_proc=None), InputTypeError, "n_proc"),
    ("seed-negative", lambda e: with_y(e.y, seed=-1), InputError, "seed"),
    ("seed-str", lambda e: with_y(e.y, seed="a"), InputTypeError, "seed"),
    ("seed-float", lambda e: with_y(e.y, seed=1.5), InputTypeError, "seed"),
    ("seed-list", lambda e: with_y(e.y, seed=[1]), InputTypeError, "seed"),
    ("drop_nan-str", lambda e: with_y(e.y, drop_nan="yes"), InputTypeError, "drop_nan"),
    ("standardize-letter", lambda e: with_y(e.y, standardize="q"), InputError,
     "standardize"),
    ("standardize-int", lambda e: with_y(e.y, standardize=5), InputError, "standardize"),
    ("data_space-int", lambda e: with_y(e.y, data_space=5), InputError, "data_space"),
    ("data_space-two", lambda e: with_y(e.y, data_space=["a", "b"]), InputError,
     "data_space"),
    ("resampling_target", lambda e: with_y(e.y, resampling_target="grid"), InputError,
     "resampling_target"),
    ("parcellation_hemi-no-parc", lambda e: with_y(e.y, parcellation_hemi="L"), InputError,
     "parcellation_hemi"),
    ("x_collection-int", lambda e: with_y(e.y, x_collection=5), InputTypeError,
     "x_collection"),
    ("verbose-str", lambda e: with_y(e.y, verbose="loud"), InputError, "verbose"),
    # --- images ---
    ("image-all-zero", lambda e: fit_image(e, image(np.zeros((10, 10, 10)))), DataError,
     "all its values are zero"),
    ("image-all-nan", lambda e: fit_image(e, image(np.full((10, 10, 10), np.nan))),
     DataError, "NaN"),
    ("image-constant", lambda e: fit_image(e, image(np.full((10, 10, 10), 5.0))), DataError,
     "constant"),
    ("image-wrong-space", lambda e: fit_image(e, image(smooth_map(), shift=500.0)),
     DataError, "same space"),
    ("image-truncated", lambda e: fit_image(e, str(e.truncated)), DataError,
     "truncated.nii.gz"),
    ("image-garbage", lambda e: fit_image(e, str(e.garbage)), DataError, "garbage.nii.gz"),
    ("image-5d", lambda e: fit_image(e, image(np.ones((10, 10, 10, 1, 2)))), InputError,
     "5D"),
    ("image-zero-in-dict", lambda e: fit_image(e, {"m": image(np.zeros((10, 10, 10)))}),
     DataError, "y"),
    ("parcellate-none", lambda e: parcellate_images(None, e.parc), InputTypeError,
     "images"),
    ("parcellate-strategy", lambda e: parcellate_images(str(e.good), e.parc, strategy="avg"),
     InputError, "strategy"),
    ("parcellate-background", lambda e: parcellate_images(str(e.good), e.parc,
                                                          background="none"),
     InputError, "background"),
    ("parcellate-dtype", lambda e: parcellate_images(str(e.good), e.parc, dtype=int),
     InputError, "dtype"),
    ("parcellate-parcellation", lambda e: parcellate_images(str(e.good), "boxes"),
     InputTypeError, "parcellation"),
    ("parcellate-interpolation", lambda e: parcellate_images(
        str(e.good), e.parc, resampling_target="parcellation", interpolation="cubic"),
     InputError, "interpolation"),
    ("parcellate-all-zero", lambda e: parcellate_images(image(np.zeros((10, 10, 10))),
                                                        e.parc), DataError, "image 0"),
    ("parcellate-array-labels", lambda e: parcellate_array(np.ones(10), np.ones(5),
                                                           np.array([1])),
     InputError, "labels"),
    # --- colocalize ---
    ("coloc-none", lambda e: e.nsp.colocalize(None), InputTypeError, "method"),
    ("coloc-int", lambda e: e.nsp.colocalize(5), InputTypeError, "method"),
    ("coloc-list", lambda e: e.nsp.colocalize(["spearman"]), InputTypeError, "method"),
    ("coloc-typo", lambda e: e.nsp.colocalize("spearmann"), InputError, "spearman"),
    ("coloc-empty", lambda e: e.nsp.colocalize(""), InputError, "method"),
    ("coloc-case", lambda e: e.nsp.colocalize("Spearman"), InputError, "method"),
    ("coloc-xsea-str", lambda e: e.nsp.colocalize("spearman", xsea="yes"), InputTypeError,
     "xsea"),
    ("coloc-xsea_aggr", lambda e: e.nsp.colocalize("spearman", xsea_aggr="avg"), InputError,
     "xsea_aggr"),
    ("coloc-partial-no-z", lambda e: e.nsp.colocalize("partialpearson"), InputError,
     "method"),
    ("coloc-not-fitted", lambda e: NiSpace(x=e.x).colocalize("spearman"), StateError,
     "fit()"),
    # --- permute: n_perm ---
    ("n_perm-negative", lambda e: e.nsp.permute(**{**P, "n_perm": -1}), InputError,
     "n_perm"),
    ("n_perm-zero", lambda e: e.nsp.permute(**{**P, "n_perm": 0}), InputError, "n_perm"),
    ("n_perm-fraction", lambda e: e.nsp.permute(**{**P, "n_perm": 2.5}), InputError,
     "n_perm"),
    ("n_perm-float-integral", lambda e: e.nsp.permute(**{**P, "n_perm": 1e3}), InputError,
     "n_perm"),
    ("n_perm-numpy-float", lambda e: e.nsp.permute(**{**P, "n_perm": np.float64(5)}),
     InputError, "n_perm"),
    ("n_perm-str", lambda e: e.nsp.permute(**{**P, "n_perm": "10"}), InputTypeError,
     "n_perm"),
    ("n_perm-none", lambda e: e.nsp.permute(**{**P, "n_perm": None}), InputTypeError,
     "n_perm"),
    ("n_perm-bool", lambda e: e.nsp.permute(**{**P, "n_perm": True}), InputTypeError,
     "n_perm"),
    ("n_perm-list", lambda e: e.nsp.permute(**{**P, "n_perm": [10]}), InputTypeError,
     "n_perm"),
    ("n_perm-huge", lambda e: e.nsp.permute(**{**P, "n_perm": 10 ** 9}), InputError,
     "NISPACE_MAX_N_PERM"),
    ("n_perm-just-above", lambda e: e.nsp.permute(**{**P, "n_perm": 1_000_001}), InputError,
     "n_perm"),
    ("n_perm-nan", lambda e: e.nsp.permute(**{**P, "n_perm": float("nan")}), InputError,
     "n_perm"),
    ("n_perm-inf", lambda e: e.nsp.permute(**{**P, "n_perm": float("inf")}), InputError,
     "n_perm"),
    # --- permute: other options ---
    ("permute-seed-negative", lambda e: e.nsp.permute(**P, seed=-1), InputError, "seed"),
    ("permute-seed-str", lambda e: e.nsp.permute(**P, seed="x"), InputTypeError, "seed"),
    ("permute-seed-float", lambda e: e.nsp.permute(**P, seed=1.5), InputTypeError, "seed"),
    ("permute-seed-list", lambda e: e.nsp.permute(**P, seed=[1]), InputTypeError, "seed"),
    ("permute-n_proc-0", lambda e: e.nsp.permute(**P, n_proc=0), InputError, "n_proc"),
    ("permute-n_proc--5", lambda e: e.nsp.permute(**P, n_proc=-5), InputError, "n_proc"),
    ("permute-n_proc-str", lambda e: e.nsp.permute(**P, n_proc="all"), InputTypeError,
     "n_proc"),
    ("permute-n_proc-float", lambda e: e.nsp.permute(**P, n_proc=2.5), InputTypeError,
     "n_proc"),
    ("p_tails-both", lambda e: e.nsp.permute(**P, p_tails="both"), InputError, "p_tails"),
    ("p_tails-int", lambda e: e.nsp.permute(**P, p_tails=5), InputTypeError, "p_tails"),
    ("p_tails-list", lambda e: e.nsp.permute(**P, p_tails=["two"]), InputTypeError,
     "p_tails"),
    ("p_tails-dict-value", lambda e: e.nsp.permute(**P, p_tails={"rho": "up"}), InputError,
     "p_tails"),
    ("p_tails-dict-stat", lambda e: e.nsp.permute(**P, p_tails={"zz": "two"}), InputError,
     "p_tails"),
    ("what-typo", lambda e: e.nsp.permute(**P, what="map"), InputError, "what"),
    ("what-none", lambda e: e.nsp.permute(**P, what=None), InputError, "what"),
    ("what-int", lambda e: e.nsp.permute(**P, what=5), InputError, "what"),
    ("maps_which-Z", lambda e: e.nsp.permute(**P, maps_which="Z"), InputError,
     "maps_which"),
    ("maps_which-int", lambda e: e.nsp.permute(**P, maps_which=5), InputError,
     "maps_which"),
    ("maps_which-Y-self", lambda e: NiSpace(x=e.x, parcellation=None, verbose=False).fit()
     .colocalize("spearman").permute(**P, maps_which="Y"), InputError, "maps_which"),
    ("null_method-typo", lambda e: e.nsp.permute(n_perm=5, null_method="spinn"), InputError,
     "null_method"),
    ("null_method-int", lambda e: e.nsp.permute(n_perm=5, null_method=5), InputTypeError,
     "null_method"),
    ("null_method-tuple1", lambda e: e.nsp.permute(n_perm=5, null_method=("spin",)),
     InputError, "null_method"),
    ("null_method-3-parts", lambda e: e.nsp.permute(n_perm=5, null_method="spin+moran+x"),
     InputError, "null_method"),
    ("null_method-split-typo", lambda e: e.nsp.permute(n_perm=5, null_method=("a", "b")),
     InputError, "null_method"),
    ("null_method-spin-no-parc", lambda e: e.nsp.permute(n_perm=5, null_method="spin"),
     InputError, "null_method"),
    ("null_method-none-no-parc", lambda e: e.nsp.permute(n_perm=5), InputError,
     "parcellation"),
    ("moran-no-dist", lambda e: e.nsp.permute(n_perm=5, null_method="moran"), InputError,
     "null_method"),
    ("dist_mat-shape", lambda e: e.nsp.permute(n_perm=5, null_method="moran",
                                               dist_mat=np.ones((3, 3))),
     InputError, "parcellation_dist_mat"),
    ("pooled_p-typo", lambda e: e.nsp.permute(**P, pooled_p="avg"), InputError, "pooled_p"),
    ("pooled_p-int", lambda e: e.nsp.permute(**P, pooled_p=5), InputError, "pooled_p"),
    ("null_maps-shape", lambda e: e.nsp.permute(n_perm=5, null_maps=np.ones((3, 2, 20))),
     InputError, "null_maps"),
    ("null_maps-keys", lambda e: e.nsp.permute(n_perm=5, null_maps={"a": np.ones((5, 20))}),
     InputError, "null_maps"),
    ("permute-method-missing", lambda e: e.nsp.permute(**P, method="pearson"), InputError,
     "method"),
    ("permute-groups-no-transform", lambda e: e.nsp.permute(what="groups", n_perm=5),
     InputError, "transform_y"),
    ("permute-sets-no-xsea", lambda e: e.nsp.permute(what="sets", n_perm=5), InputError,
     "xsea"),
    ("permute-pairs-unequal", lambda e: e.nsp.permute(what="pairs", n_perm=5), InputError,
     "pairs"),
    ("permute-not-fitted", lambda e: NiSpace(x=e.x).permute(**P), StateError, "fit()"),
    # --- correct_p, getters, other methods ---
    ("correct_p-before-permute", lambda e: e.nsp.correct_p("fdr"), StateError, "permute"),
    ("get_colocalizations-method", lambda e: e.nsp.get_colocalizations(method="foo"),
     InputError, "method"),
    ("get_colocalizations-stat", lambda e: e.nsp.get_colocalizations(stat="zz"),
     InputError, "stat"),
    ("get_p_values-before", lambda e: e.nsp.get_p_values(), StateError, "permute"),
    ("get_x-not-fitted", lambda e: NiSpace(x=e.x).get_x(), StateError, "fit()"),
    ("transform_y-formula", lambda e: e.nsp.transform_y("foo(a"), InputError, "formula"),
    ("transform_y-groups-length", lambda e: e.nsp.transform_y("hedges(a,b)",
                                                              groups=[1, 2, 3]),
     ValueError, "groups"),
    ("clean_y-how", lambda e: e.nsp.clean_y(how="sideways"), InputError, "how"),
    ("reduce_x-method", lambda e: e.nsp.reduce_x("foo"), InputError, "method"),
    ("plot_brain-data", lambda e: e.nsp.plot_brain(data="Q"), InputError, "data"),
    ("save-over-a-file", lambda e: e.nsp.save(e.a_file), FileExistsError, "a_file"),
    ("load-missing", lambda e: NiSpace.load(e.tmp / "nothing"), FileNotFoundError, "nothing"),
    # --- pure functions: nulls and stats ---
    ("random-n_perm-negative", lambda e: nulls.random(np.ones(10), n_perm=-1), InputError,
     "n_perm"),
    ("random-n_perm-fraction", lambda e: nulls.random(np.ones(10), n_perm=2.5), InputError,
     "n_perm"),
    ("random-n_perm-str", lambda e: nulls.random(np.ones(10), n_perm="5"), InputError,
     "n_perm"),
    ("random-n_perm-huge", lambda e: nulls.random(np.ones(10), n_perm=10 ** 9), InputError,
     "n_perm"),
    ("random-seed", lambda e: nulls.random(np.ones(10), n_perm=5, seed=-1), InputError,
     "seed"),
    ("moran-n_perm", lambda e: nulls.moran(np.arange(10.0), np.ones((10, 10)), n_perm=0),
     InputError, "n_perm"),
    ("moran-dist-shape", lambda e: nulls.moran(np.arange(10.0), np.ones((3, 3)), n_perm=5),
     InputError, "dist_mat"),
    ("spin-n_perm", lambda e: nulls.spin_permutations(np.ones((4, 3)), np.array([0, 0, 1, 1]),
                                                      n_perm=0),
     InputError, "n_perm"),
    ("make_null_model-name", lambda e: nulls.make_null_model("foo"), InputError,
     "null_method"),
    ("null_to_p-tail", lambda e: pvalues.null_to_p(np.zeros(3), np.zeros((5, 3)),
                                                   tail="both"), InputError, "tail"),
    ("resolve_tails-type", lambda e: pvalues.resolve_tails(5, ["rho"]), InputTypeError,
     "p_tails"),
    ("resolve_pooled_p", lambda e: pvalues.resolve_pooled_p("avg", 2), InputError,
     "pooled_p"),
    ("colocalize-method", lambda e: colocalize(np.zeros((2, 5)), np.zeros((1, 5)), "foo"),
     InputError, "method"),
    ("colocalize-shapes", lambda e: colocalize(np.ones((2, 5)), np.ones((1, 4)), "pearson"),
     InputError, "parcels"),
    ("correct_p-method", lambda e: correction.correct_p(np.ones(3), "fdrr"), InputError,
     "method"),
    ("correct_p-method-int", lambda e: correction.correct_p(np.ones(3), 5), InputError,
     "method"),
    ("canonical_mc_method", lambda e: correction.canonical_mc_method("bonff", "mc_method"),
     InputError, "mc_method"),
    ("meff-method", lambda e: correction.meff(np.eye(3), method="x"), InputError, "method"),
]


@pytest.mark.parametrize("call, exc_type, text", [c[1:] for c in API],
                         ids=[c[0] for c in API])
def test_api_refuses_bad_input(env, call, exc_type, text):
    with pytest.raises(exc_type) as info:
        call(env)
    assert text in str(info.value)
    assert not isinstance(info.value, PermutationRan)


# ---------------------------------------------------------------------------------------
# the workflows: every argument checked before fit()

W = workflows


def two_groups():
    return pd.DataFrame({"groups": ["a", "b"]}, index=["y1", "y2"])


WORKFLOWS = [
    ("wf-y-none", lambda e: W.colocalization(None, x=e.x, parcellation=None), InputError,
     "y"),
    ("wf-n_perm-negative", lambda e: W.colocalization(e.y, n_perm=-1), InputError, "n_perm"),
    ("wf-n_perm-zero", lambda e: W.colocalization(e.y, n_perm=0), InputError, "n_perm"),
    ("wf-n_perm-str", lambda e: W.colocalization(e.y, n_perm="1000"), InputTypeError,
     "n_perm"),
    ("wf-n_perm-fraction", lambda e: W.colocalization(e.y, n_perm=2.5), InputError,
     "n_perm"),
    ("wf-n_perm-huge", lambda e: W.colocalization(e.y, n_perm=10 ** 9), InputError,
     "NISPACE_MAX_N_PERM"),
    ("wf-n_perm-none", lambda e: W.colocalization(e.y, n_perm=None), InputTypeError,
     "n_perm"),
    ("wf-seed-negative", lambda e: W.colocalization(e.y, seed=-1), InputError, "seed"),
    ("wf-seed-str", lambda e: W.colocalization(e.y, seed="s"), InputTypeError, "seed"),
    ("wf-n_proc-0", lambda e: W.colocalization(e.y, n_proc=0), InputError, "n_proc"),
    ("wf-n_proc-str", lambda e: W.colocalization(e.y, n_proc="x"), InputTypeError, "n_proc"),
    ("wf-mc_method-typo", lambda e: W.colocalization(e.y, mc_method="fdrr"), InputError,
     "mc_method"),
    ("wf-mc_method-int", lambda e: W.colocalization(e.y, mc_method=5), InputError,
     "mc_method"),
    ("wf-null_method-typo", lambda e: W.colocalization(e.y, null_method="spinn"), InputError,
     "null_method"),
    ("wf-null_method-int", lambda e: W.colocalization(e.y, null_method=5), InputTypeError,
     "null_method"),
    ("wf-method-typo", lambda e: W.colocalization(e.y, colocalization_method="spearmann"),
     InputError, "colocalization_method"),
    ("wf-method-empty", lambda e: W.colocalization(e.y, colocalization_method=[]),
     InputError, "colocalization_method"),
    ("wf-method-one-bad", lambda e: W.colocalization(
        e.y, colocalization_method=["spearman", "kendall"]), InputError,
     "colocalization_method"),
    ("wf-pooled_p", lambda e: W.colocalization(e.y, pooled_p="avg"), InputError, "pooled_p"),
    ("wf-plot-str", lambda e: W.colocalization(e.y, plot="yes"), InputTypeError, "plot"),
    ("wf-permute_kwargs-type", lambda e: W.colocalization(e.y, permute_kwargs="x"),
     InputTypeError, "permute_kwargs"),
    ("wf-permute_kwargs-tails", lambda e: W.colocalization(
        e.y, permute_kwargs={"p_tails": "both"}), InputError, "p_tails"),
    ("wf-permute_kwargs-null", lambda e: W.colocalization(
        e.y, permute_kwargs={"null_method": "nope"}), InputError, "null_method"),
    ("wf-permute_kwargs-n_perm", lambda e: W.colocalization(
        e.y, permute_kwargs={"n_perm": -3}), InputError, "n_perm"),
    ("wf-init_kwargs-type", lambda e: W.colocalization(e.y, init_kwargs=[1]),
     InputTypeError, "init_kwargs"),
    ("wf-plot_kwargs-type", lambda e: W.colocalization(e.y, plot_kwargs=3), InputTypeError,
     "plot_kwargs"),
    ("wf-nispace_object", lambda e: W.colocalization(e.y, nispace_object="x"),
     InputTypeError, "nispace_object"),
    ("xsea-n_perm", lambda e: W.xsea(e.y, n_perm=-5), InputError, "n_perm"),
    ("xsea-null_method", lambda e: W.xsea(e.y, null_method="spinn"), InputError,
     "null_method"),
    ("xsea-method", lambda e: W.xsea(e.y, colocalization_method="r"), InputError,
     "colocalization_method"),
    ("paired-n_perm", lambda e: W.paired_colocalization(e.y, e.x, n_perm=0), InputError,
     "n_perm"),
    ("group-design-none", lambda e: W.group_colocalization(e.y, None), InputTypeError,
     "design"),
    ("group-design-2d", lambda e: W.group_colocalization(e.y, np.ones((2, 2))),
     InputTypeError, "design"),
    ("group-design-no-groups", lambda e: W.group_colocalization(
        e.y, pd.DataFrame({"g": ["a", "b"]})), InputError, "design"),
    ("group-design-one-group", lambda e: W.group_colocalization(e.y, ["a", "a"]), InputError,
     "design"),
    ("group-paired-no-subjects", lambda e: W.group_colocalization(e.y, two_groups(),
                                                                  paired=True),
     InputError, "design"),
    ("group-paired-1d", lambda e: W.group_colocalization(e.y, ["a", "b"], paired=True),
     InputError, "design"),
    ("group-combat-no-site", lambda e: W.group_colocalization(e.y, two_groups(),
                                                              combat=True),
     InputError, "design"),
    ("group-paired-str", lambda e: W.group_colocalization(e.y, two_groups(), paired="yes"),
     InputTypeError, "paired"),
    ("group-n_perm", lambda e: W.group_colocalization(e.y, two_groups(), n_perm=-1),
     InputError, "n_perm"),
    ("group-mc_method", lambda e: W.group_colocalization(e.y, two_groups(), mc_method="x"),
     InputError, "mc_method"),
    ("group-seed", lambda e: W.group_colocalization(e.y, two_groups(), seed=-2), InputError,
     "seed"),
    ("group-xsea-design", lambda e: W.group_xsea(e.y, "groups"), InputTypeError, "design"),
    ("group-xsea-n_perm", lambda e: W.group_xsea(e.y, two_groups(), n_perm=0), InputError,
     "n_perm"),
]


@pytest.mark.parametrize("call, exc_type, text", [c[1:] for c in WORKFLOWS],
                         ids=[c[0] for c in WORKFLOWS])
def test_workflows_refuse_bad_input_before_fit(env, no_fit, call, exc_type, text):
    with pytest.raises(exc_type) as info:
        call(env)
    assert text in str(info.value)


# ---------------------------------------------------------------------------------------
# the command line, in process: exit 2 and the option named on stderr, before any work


@pytest.fixture
def cli_env(tmp_path, monkeypatch, no_fit):
    y = tmp_path / "y.csv"
    tables()[1].to_csv(y)
    previous = tmp_path / "previous"
    (previous / "figures").mkdir(parents=True)
    (previous / "results.json").write_text("{}")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.chdir(tmp_path)
    return SimpleNamespace(y=str(y), previous=str(previous), other=str(other),
                           a_file=str(a_file), locked=locked, tmp=tmp_path)


def coloc(e, *extra, out=None):
    return ["colocalize", "--y", e.y, "--out", out or str(e.tmp / "new"), "--quiet", *extra]


def group(e, *extra):
    return ["group-colocalize", "--y", e.y, "--groups-regex", "(1|2)$", "--out",
            str(e.tmp / "new"), "--quiet", *extra]


CLI = [
    ("cli-n_perm-negative", lambda e: coloc(e, "--n-perm", "-1"), "--n-perm"),
    ("cli-n_perm-zero", lambda e: coloc(e, "--n-perm", "0"), "--n-perm"),
    ("cli-n_perm-text", lambda e: coloc(e, "--n-perm", "many"), "--n-perm"),
    ("cli-n_perm-fraction", lambda e: coloc(e, "--n-perm", "2.5"), "--n-perm"),
    ("cli-n_perm-huge", lambda e: coloc(e, "--n-perm", "1000000000"), "--n-perm"),
    ("cli-seed-negative", lambda e: coloc(e, "--seed", "-1"), "--seed"),
    ("cli-seed-text", lambda e: coloc(e, "--seed", "abc"), "--seed"),
    ("cli-n_proc-zero", lambda e: coloc(e, "--n-proc", "0"), "--n-proc"),
    ("cli-n_proc--3", lambda e: coloc(e, "--n-proc", "-3"), "--n-proc"),
    ("cli-n_proc-text", lambda e: coloc(e, "--n-proc", "all"), "--n-proc"),
    ("cli-method-typo", lambda e: coloc(e, "--method", "spearmann"), "--method"),
    ("cli-method-second-bad", lambda e: coloc(e, "--method", "spearman", "kendall"),
     "--method"),
    ("cli-mc_method-typo", lambda e: coloc(e, "--mc-method", "fdrr"), "--mc-method"),
    ("cli-mc_method-empty", lambda e: coloc(e, "--mc-method", ""), "--mc-method"),
    ("cli-null_method-typo", lambda e: coloc(e, "--null-method", "spinn"), "--null-method"),
    ("cli-null_method-split", lambda e: coloc(e, "--null-method", "spin+moran+x"),
     "--null-method"),
    ("cli-null_method-split-typo", lambda e: coloc(e, "--null-method", "spin+morann"),
     "--null-method"),
    ("cli-p_tails", lambda e: coloc(e, "--p-tails", "both"), "--p-tails"),
    ("cli-maps_which", lambda e: coloc(e, "--maps-which", "Z"), "--maps-which"),
    ("cli-pooled_p", lambda e: coloc(e, "--pooled-p", "avg"), "--pooled-p"),
    ("cli-standardize", lambda e: coloc(e, "--standardize", "q"), "--standardize"),
    ("cli-out-file", lambda e: coloc(e, out=e.a_file), "--out"),
    ("cli-out-not-creatable", lambda e: coloc(e, out=e.a_file + "/sub"), "--out"),
    ("cli-out-proc", lambda e: coloc(e, out="/proc/nispace-test/out"), "--out"),
    ("cli-out-non-empty", lambda e: coloc(e, out=e.other), "--out"),
    ("cli-out-previous-no-overwrite", lambda e: coloc(e, out=e.previous), "--overwrite"),
    ("cli-overwrite-foreign-folder", lambda e: coloc(e, "--overwrite", out=e.other),
     "--overwrite"),
    ("cli-out-missing", lambda e: ["colocalize", "--y", e.y, "--quiet"], "--out"),
    ("cli-y-missing-file", lambda e: coloc(e) [:2] + [str(e.tmp / "nope.csv")] + coloc(e)[3:],
     "--y"),
    ("cli-y-missing-image", lambda e: coloc(e)[:2] + [str(e.tmp / "nope.nii.gz")]
     + coloc(e)[3:], "--y"),
    ("cli-y-missing-gifti-half", lambda e: coloc(e)[:2]
     + [str(e.tmp / "l.gii") + "," + str(e.tmp / "r.gii")] + coloc(e)[3:], "--y"),
    ("cli-x-missing-file", lambda e: coloc(e, "--x", str(e.tmp / "x.csv")), "--x"),
    ("cli-z-missing-file", lambda e: coloc(e, "--z", str(e.tmp / "z.tsv")), "--z"),
    ("cli-design-missing", lambda e: ["group-colocalize", "--y", e.y, "--design",
                                      str(e.tmp / "d.csv"), "--out", str(e.tmp / "n"),
                                      "--quiet"], "--design"),
    ("cli-labels-file-missing", lambda e: coloc(e, "--parcellation-labels",
                                                str(e.tmp / "labels.txt")),
     "--parcellation-labels"),
    ("cli-groups-regex-invalid", lambda e: ["group-colocalize", "--y", e.y, "--groups-regex",
                                            "(a", "--out", str(e.tmp / "n"), "--quiet"],
     "--groups-regex"),
    ("cli-groups-regex-no-match", lambda e: ["group-colocalize", "--y", e.y,
                                             "--groups-regex", "(XX)$", "--out",
                                             str(e.tmp / "n"), "--quiet"],
     "--groups-regex"),
    ("cli-comparison", lambda e: group(e, "--comparison", "hedges(a"), "--comparison"),
    ("cli-group-n_perm", lambda e: group(e, "--n-perm", "-4"), "--n-perm"),
    ("cli-group-mc_method", lambda e: group(e, "--mc-method", "bonff"), "--mc-method"),
    ("cli-xsea-null_method", lambda e: ["xsea", "--y", e.y, "--null-method", "x", "--out",
                                        str(e.tmp / "n"), "--quiet"], "--null-method"),
    ("cli-fetch-out-folder", lambda e: ["fetch", "reference", "pet", "--out", str(e.tmp),
                                        "--quiet"], "--out"),
    ("cli-fetch-out-no-parent", lambda e: ["fetch", "reference", "pet", "--out",
                                           str(e.tmp / "no" / "t.csv"), "--quiet"],
     "--out"),
    ("cli-fetch-kind", lambda e: ["fetch", "atlas", "x"], "kind"),
    ("cli-list-what", lambda e: ["list", "everything"], "what"),
    ("cli-report-missing", lambda e: ["report", str(e.tmp / "nowhere"), "--quiet"],
     "folder"),
    ("cli-unknown-command", lambda e: ["colocalise", "--y", e.y], "colocalise"),
    ("cli-unknown-option", lambda e: coloc(e, "--nperm", "10"), "--nperm"),
]


@pytest.mark.parametrize("argv", [c[1] for c in CLI], ids=[c[0] for c in CLI])
def test_cli_refuses_bad_options_with_exit_2(cli_env, capsys, argv):
    args = argv(cli_env)
    text = next(c[2] for c in CLI if c[1] is argv)
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert text in err
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------
# behaviour around the corpus


def test_quiet_cli_prints_only_the_error(cli_env, capsys, monkeypatch):
    """--quiet: a warning logged during the run does not reach stderr; the error does."""
    def fail(*args, **kwargs):
        logging.getLogger("nispace.workflows").warning("a warning the user did not ask for")
        raise DataError("y: the data cannot be analysed")

    monkeypatch.setattr(workflows, "colocalization", fail)
    assert main(coloc(cli_env, "--n-perm", "10")) == 1
    err = capsys.readouterr().err
    assert "a warning the user did not ask for" not in err
    assert err.strip().splitlines() == ["nispace: analysis failed: y: the data cannot be "
                                        "analysed"]


def test_overwrite_clears_only_nispace_outputs(cli_env, monkeypatch):
    """--overwrite replaces a results folder: old figures go, the user's files stay."""
    from nispace.cli import _clear_outputs

    folder = Path(cli_env.previous)
    (folder / "figures" / "old.png").write_bytes(b"png")
    (folder / "report.html").write_text("<html>")
    (folder / "my_notes.txt").write_text("keep me")
    _clear_outputs(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["my_notes.txt"]


def test_a_huge_n_perm_names_the_memory_it_would_need(env):
    with pytest.raises(InputError, match=r"1,000,000,000 x 2 x 3 x 8 bytes = 44.7 GB"):
        env.nsp.permute(n_perm=10 ** 9, null_method="random")


def test_the_bound_can_be_raised(env, monkeypatch):
    """NISPACE_MAX_N_PERM lifts the bound (here: the check passes, the guard then stops
    the permutation itself)."""
    monkeypatch.setenv("NISPACE_MAX_N_PERM", str(2_000_000))
    with pytest.raises(PermutationRan):
        env.nsp.permute(n_perm=1_500_000, null_method="random")


def test_degenerate_maps_warn_with_their_names(caplog):
    """One constant Y map among good ones: a WARNING at fit naming it, and one naming
    the NaN statistics; the other map's results are unchanged."""
    x, y = tables()
    y.loc["flat"] = 1.0
    with caplog.at_level(logging.WARNING, logger="nispace"):
        nsp = NiSpace(x=x, y=y, parcellation=None, verbose=False).fit().colocalize("spearman")
    messages = [r.getMessage() for r in caplog.records]
    assert any("'flat' (constant)" in m for m in messages)
    assert any("NaN" in m and "flat" in m for m in messages)
    rho = nsp.get_colocalizations("spearman")
    assert rho.loc["flat"].isna().all() and rho.loc[["y1", "y2"]].notna().all().all()
    assert nsp.fit_record_["degenerate_maps"] == {"y": ["flat"]}


def test_three_valid_parcels_warn(caplog):
    x, y = tables()
    y.iloc[0, 3:] = np.nan
    with caplog.at_level(logging.WARNING, logger="nispace"):
        NiSpace(x=x, y=y, parcellation=None, verbose=False).fit()
    assert any("'y1' (3 valid parcels)" in r.getMessage() for r in caplog.records)


def test_every_error_is_a_nispace_error_or_builtin_subclass():
    """The corpus size, for the closing note: every row is refused with a typed error."""
    n = len(API) + len(WORKFLOWS) + len(CLI)
    assert n >= 150
    types = {c[2] for c in API + WORKFLOWS}
    assert all(issubclass(t, (NispaceError, ValueError, TypeError, OSError)) for t in types)


@pytest.mark.parametrize("args, option", [
    (["--parcellation", "Schaefer2000"], "Schaefer200"),
    (["--x", "pett"], "pet"),
])
def test_cli_bad_names_from_the_data_source(data_url, tmp_path, capsys, args, option):
    """Names checked against the mirror's catalogue: exit 2, naming the closest one, and
    no permutation."""
    y = tmp_path / "y.csv"
    tables()[1].to_csv(y)
    code = main(["colocalize", "--y", str(y), "--out", str(tmp_path / "o"), "--quiet",
                 *args])
    assert code == 2
    assert option in capsys.readouterr().err


def test_env_is_clean(env):
    """The corpus fixtures write only into the test's tmp folder."""
    assert os.path.commonpath([env.tmp, env.good]) == str(env.tmp)
