"""Permutation of groups: re-run the Y pipeline with shuffled group labels.

Group-level maps (e.g. Hedges' g of patients vs controls) are recomputed from the
subject data for every permutation of the group labels, replaying every step that
made Y (covariate cleaning with the group variable protected, the transform), and
colocalized with the unchanged X maps. Spatial autocorrelation of the subject data
is thereby kept in every null map (Lotter et al., 2024,
https://doi.org/10.1038/s41467-024-52366-7). With ``paired=True`` labels are only
exchanged within each subject (e.g. pre vs post), which for two rows per subject
amounts to random sign flips of the paired differences.
"""

from __future__ import annotations

import numpy as np

from .._random import as_generator
from ..errors import InputError
from .engine import run_chunks, stack_chunks
from .spec import ColocSpec

__all__ = ["replay_steps", "permute_labels", "null_colocalizations_groups"]


def permute_labels(n: int, rng: np.random.Generator, blocks: np.ndarray | None = None
                   ) -> np.ndarray:
    """A random permutation of ``range(n)``; with ``blocks``, only within equal blocks."""
    if blocks is None:
        return rng.permutation(n)
    perm = np.arange(n)
    for members in _block_members(blocks):
        perm[members] = members[rng.permutation(members.size)]
    return perm


def _block_members(blocks: np.ndarray) -> list[np.ndarray]:
    _, inv = np.unique(blocks, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    cuts = np.flatnonzero(np.diff(inv[order])) + 1
    return [m for m in np.split(order, cuts) if m.size > 1]


def replay_steps(values: np.ndarray, steps: list[dict], perm: np.ndarray | None = None
                 ) -> np.ndarray:
    """Apply the recorded Y steps to subject data ``values`` (n_subjects, n_parcels).

    ``perm`` re-assigns the group labels (and the protected covariates, the variables
    of interest) of the subjects: subject ``i`` gets the labels of subject
    ``perm[i]``. Unprotected covariates stay with their subjects.
    """
    from ..stats import cleaning
    from ..stats.transforms import apply_transform

    for step in steps:
        if step["kind"] == "clean":
            if step.get("combat_site") is not None:
                values = cleaning.combat(values, step["combat_site"], step.get("combat_cov"))
            if step.get("between") is not None:
                prot = step.get("protect")
                if prot is not None and perm is not None:
                    prot = prot[perm]
                values = cleaning.regress_between(values, step["between"], prot)
            if step.get("within") is not None:
                values = cleaning.regress_within(values, step["within"])
        elif step["kind"] == "transform":
            groups = step.get("groups")
            if groups is not None and perm is not None:
                groups = groups[perm]
            values, _ = apply_transform(values, step["formula"], groups=groups,
                                        subjects=step.get("subjects"),
                                        levels=step.get("levels"))
        else:  # pragma: no cover - steps are built by the API
            raise InputError(f"steps: unknown step kind {step['kind']!r}.")
    return values


def _clean_batch(values: np.ndarray, step: dict, perms: np.ndarray) -> np.ndarray | None:
    """:func:`~nispace.stats.cleaning.regress_between` for every permutation of the
    protected columns at once, ``(b, n_subjects, n_parcels)``; None when the fast path
    does not apply (NaN, ComBat, within-cleaning, ill-conditioned designs)."""
    if (step.get("combat_site") is not None or step.get("within") is not None
            or step.get("between") is None or step.get("protect") is None
            or np.isnan(values).any()):
        return None
    C = np.asarray(step["between"], dtype=float).reshape(len(values), -1)
    P = np.asarray(step["protect"], dtype=float).reshape(len(values), -1)
    # rescaling columns leaves C @ beta_C unchanged and conditions the normal equations
    scale = np.concatenate([[1.0], np.abs(C).max(0), np.abs(P).max(0)])
    scale[scale == 0] = 1.0
    b, n, k = len(perms), len(values), C.shape[1]
    D = np.empty((b, n, 1 + k + P.shape[1]))
    D[:, :, 0] = 1.0
    D[:, :, 1:1 + k] = C
    D[:, :, 1 + k:] = P[perms]
    D /= scale
    G = D.transpose(0, 2, 1) @ D
    if np.linalg.cond(G).max() > 1e10:
        return None
    beta = np.linalg.solve(G, D.transpose(0, 2, 1) @ values)
    return values[None] - D[:, :, 1:1 + k] @ beta[:, 1:1 + k]


#: two-group transforms computed for a whole chunk of label permutations at once
_BATCHED_TRANSFORMS = ("meandiff", "cohen", "hedges")


def _transform_batch(values: np.ndarray, step: dict, perms: np.ndarray) -> np.ndarray | None:
    """``meandiff``/``cohen``/``hedges`` of ``values`` ((n, p) shared or (b, n, p)) for
    every permutation of the group labels, ``(b, 1, p)``, with the formulas of
    :mod:`nispace.stats.effectsize`; None when the fast path does not apply."""
    from ..stats import effectsize as es
    from ..stats.transforms import _split_groups, parse_transform

    t = parse_transform(step["formula"])
    if (t.operation not in _BATCHED_TRANSFORMS or t.paired or step.get("groups") is None
            or np.isnan(values).any()):
        return None
    groups = np.asarray(step["groups"], dtype=object)
    _, level = _split_groups(groups, groups.size, step.get("levels"))
    # centring by the overall mean changes no mean difference or variance and keeps the
    # one-pass sums of squares below accurate
    Y = values - values.mean(axis=-2, keepdims=True)
    parts = []
    for arg in t.args:  # (first, second) group of the formula
        member = np.array([g == level[arg] for g in groups.tolist()])
        mask = member[perms].astype(np.float64)  # (b, n)
        n = mask.sum(axis=1)[:, None]  # the same for every permutation
        if Y.ndim == 2:
            total, squares = mask @ Y, mask @ (Y * Y)
        else:
            total = np.matmul(mask[:, None, :], Y)[:, 0]
            squares = np.matmul(mask[:, None, :], Y * Y)[:, 0]
        mean = total / n
        parts.append((n, mean, (squares - n * mean * mean) / (n - 1)))
    (n_1, m_1, v_1), (n_2, m_2, v_2) = parts
    if t.operation == "meandiff":
        return (m_1 - m_2)[:, None, :]
    if (n_1 < 2).any() or (n_2 < 2).any():
        return None  # let the loop raise its message about too-small groups
    df = n_1 + n_2 - 2
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled_sd = np.sqrt(((n_1 - 1) * v_1 + (n_2 - 1) * v_2) / df)
    d = es._safe_divide(m_1 - m_2, pooled_sd)
    if t.operation == "hedges":
        d = d * es.hedges_correction(df)
    return d[:, None, :]


def _replay_batch(values: np.ndarray, steps: list[dict], perms: np.ndarray) -> np.ndarray:
    """:func:`replay_steps` for every row of ``perms``, ``(b, n_out, n_parcels)``: steps
    that do not depend on the labels run once; the protected covariate regression and
    the common two-group transforms run batched when possible, else per permutation."""
    first = next((i for i, s in enumerate(steps)
                  if s.get("protect") is not None or s.get("groups") is not None), len(steps))
    values = replay_steps(values, steps[:first])  # label-independent prefix: once
    if first == len(steps):
        return np.broadcast_to(values, (len(perms),) + values.shape)
    rest = steps[first:]
    batch = None
    if rest[0]["kind"] == "clean":
        batch = _clean_batch(values, rest[0], perms)
        if batch is not None:
            rest = rest[1:]
    current = values if batch is None else batch
    if len(rest) == 1 and rest[0]["kind"] == "transform":
        out = _transform_batch(current, rest[0], perms)
        if out is not None:
            return out
    if batch is None:
        return np.stack([replay_steps(values, rest, perm) for perm in perms])
    return np.stack([replay_steps(batch[i], rest, perm) for i, perm in enumerate(perms)])


def _groups_chunk(start, stop, seed, spec: ColocSpec, X, y_raw, steps, blocks):
    rng = as_generator(seed)
    perms = np.stack([permute_labels(len(y_raw), rng, blocks) for _ in range(stop - start)])
    return spec(X, np.ascontiguousarray(_replay_batch(y_raw, steps, perms)))


def null_colocalizations_groups(spec: ColocSpec, X: np.ndarray, y_raw: np.ndarray,
                                steps: list[dict], n_perm: int, seed, *,
                                blocks: np.ndarray | None = None, n_proc: int = 1,
                                verbose: bool | str | int | None = None) -> dict[str, np.ndarray]:
    """Null statistics ``{stat: (n_perm, n_y, n_cols)}`` from group-label permutations.

    Parameters
    ----------
    spec : ColocSpec
        The colocalization to repeat.
    X : ndarray (n_x, n_parcels)
        Reference maps (not permuted).
    y_raw : ndarray (n_subjects, n_parcels)
        Subject data before the steps.
    steps : list of dict
        The recorded steps that made Y (see :func:`replay_steps`).
    blocks : ndarray (n_subjects,), optional
        Exchangeability blocks (subject ids for paired designs).
    """
    if not any(s["kind"] == "transform" and s.get("groups") is not None for s in steps):
        raise InputError("what='groups': Y was not made from groups; call "
                         "nsp.transform_y(<formula>, groups=...) first (e.g. "
                         "'hedges(a,b)').")
    chunks = run_chunks(_groups_chunk, n_perm, seed,
                        args=(spec, X, np.asarray(y_raw, float), steps, blocks),
                        n_proc=n_proc, desc="Permuting groups", verbose=verbose,
                        prefer="threads")
    return stack_chunks(chunks)
