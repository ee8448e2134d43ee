"""The null-model registry and every null method through NiSpace.permute."""

from __future__ import annotations

import numpy as np
import pytest

from nispace import nulls
from nispace.api import NiSpace
from nispace.datasets import fetch_parcellation, fetch_reference
from nispace.permute.models import default_null_method, null_model_for
from nispace.permute.nullmaps import prepare_null_maps


def test_parse_null_method_names_aliases_and_splits():
    assert nulls.parse_null_method("spin") == ("alexander_bloch", None)
    assert nulls.parse_null_method("Moran") == ("moran", None)
    assert nulls.parse_null_method("spin+moran") == ("alexander_bloch", "moran")
    assert nulls.parse_null_method(("hungarian", "burt2020")) == ("hungarian", "burt2020")
    with pytest.raises(ValueError, match="null_method.*alexander_bloch"):
        nulls.parse_null_method("alexander-blok")
    with pytest.raises(ValueError, match="two names"):
        nulls.parse_null_method(("moran",))


def test_subset_model_treats_missing_parcels_as_nan():
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(40, 3))
    coords /= np.linalg.norm(coords, axis=1, keepdims=True)
    hemi = (coords[:, 0] > 0).astype(int)
    full = nulls.make_null_model("alexander_bloch", coords=coords, hemiid=hemi)
    keep = np.arange(0, 40, 2)
    sub = nulls.SubsetNullModel(full, keep, 40)
    data = rng.normal(size=20)
    seed = np.random.SeedSequence(1)
    ref = np.full(40, np.nan)
    ref[keep] = data
    np.testing.assert_array_equal(sub.values(data, 30, None, seed),
                                  nulls.gather(ref, full.indices(30, seed))[:, keep])


def test_model_digest_is_stable_json_and_array_hash():
    """The cache key of a model: the same for equal geometry and parameters (in any
    order, numpy or Python scalars), different when either changes, no pickle."""
    import inspect

    from nispace.errors import InputTypeError
    from nispace.nulls import _base

    rng = np.random.default_rng(0)
    coords = rng.normal(size=(20, 3))
    dist = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    a = nulls.make_null_model("moran", dist_mat=dist)
    b = nulls.make_null_model("moran", dist_mat=dist.copy())
    assert a.digest() == b.digest() and a.digest().startswith("moran-")
    assert nulls.make_null_model("moran", dist_mat=dist + 1.0).digest() != a.digest()
    a.options = {"procedure": "singleton", "joint": np.bool_(False)}
    b.options = {"joint": False, "procedure": "singleton"}
    assert a.digest() == b.digest()
    b.options = {"joint": True, "procedure": "singleton"}
    assert a.digest() != b.digest()


    class WithArrays(_base.NullModel):
        name = "toy"

        def __init__(self, geometry, params):
            self.geometry, self.params = geometry, params

        def _geometry(self):
            return [self.geometry]

        def _params(self):
            return self.params

    # arrays: dtype and shape count, not only the bytes
    flat = np.arange(6.0)
    assert (WithArrays(flat, {}).digest() != WithArrays(flat.reshape(2, 3), {}).digest())
    assert (WithArrays(flat, {"w": np.arange(3)}).digest()
            != WithArrays(flat, {"w": np.arange(3).astype(np.int32)}).digest())
    assert (WithArrays(flat, {"w": np.arange(3)}).digest()
            == WithArrays(flat.copy(), {"w": np.arange(3)}).digest())
    b.options = {"bad": object()}
    with pytest.raises(InputTypeError, match="null_kwargs"):
        b.digest()
    assert "import pickle" not in inspect.getsource(_base)


def test_defaults_follow_the_parcellation(data_url):
    assert default_null_method(fetch_parcellation("Schaefer100", verbose=False)) \
        == "alexander_bloch"
    assert default_null_method(fetch_parcellation("TianS1", verbose=False)) == "moran"
    assert default_null_method(fetch_parcellation("Schaefer100TianS1", verbose=False)) \
        == "moran"


@pytest.mark.parametrize("null_method", nulls.NULL_METHODS)
def test_every_null_method_runs_through_permute(data_url, null_method):
    pet = fetch_reference("pet", parcellation="Schaefer100", collection="UniqueTracers",
                          print_references=False, verbose=False).iloc[:2]
    y = pet.iloc[[0]].set_axis(["target"]) + 0.1
    nsp = NiSpace(x=pet, y=y, parcellation="Schaefer100", verbose=False).fit()
    nsp.colocalize("spearman").permute(null_method=null_method, n_perm=20, seed=1)
    p = nsp.get_p_values()
    assert p.shape == (1, 2) and ((p > 0) & (p <= 1)).all().all()
    assert nsp.get_permutation_result("spearman").null_model.startswith(null_method)


def test_spin_nulls_permute_values_and_keep_nan(data_url):
    parc = fetch_parcellation("Schaefer100", verbose=False)
    model, _ = null_model_for(parc, "hungarian")
    x = np.arange(100, dtype=float)[None]
    x[0, 5] = np.nan
    out = prepare_null_maps(model, x, ["x"], 10, 0, verbose=False).to_array()[0]
    assert np.isnan(out[:, 5]).all()
    for row in out:  # a true permutation: every value at most once
        vals = row[np.isfinite(row)]
        assert len(np.unique(vals)) == len(vals)
