"""
Group comparison with covariates
================================

Do the grey-matter differences between patients and controls follow the distribution
of neurotransmitter receptors?

The ``anorexianervosa`` example holds parcellated data of 50 "patients" (``...AN``) and
50 "controls" (``...HC``); it is **simulated** (a toy data set, not for scientific use).
Age and sex below are simulated too, to show how covariates enter: they are regressed
from the subject data before the comparison (the group effect is protected), the
group difference becomes a Hedges' g map, and the null distribution comes from
permuting the group labels, replaying the covariate regression every time. This
example uses 100 permutations; use 10,000 for a real analysis.
"""

# %%
# Subject data and design
# -----------------------
import numpy as np
import pandas as pd

from nispace.datasets import fetch_example

an = fetch_example("anorexianervosa", parcellation="Schaefer200")
print(an.shape)  # subjects x parcels
print(an.index[:3].tolist(), "...", an.index[-3:].tolist())

# %%
# The design has one row per subject, **indexed by the subject IDs**: nispace matches
# it to the data by label (an unlabelled design would be taken in order only with a
# WARNING). The ``groups`` column holds the two groups; every other column is a
# covariate.
rng = np.random.default_rng(0)
design = pd.DataFrame({"groups": an.index.str[-2:],
                       "age": rng.normal(25, 5, len(an)).round(1),
                       "sex": rng.integers(0, 2, len(an))},
                      index=an.index)
print(design.head())

# %%
# Colocalize the group difference
# -------------------------------
# ``"hedges(a,b)"`` compares the first group level in sorted order (``AN``) with the
# second (``HC``).
from nispace.workflows import group_colocalization

nsp = group_colocalization(an, design, x="pet", x_collection="UniqueTracers",
                           parcellation="Schaefer200", comparison_method="hedges(a,b)",
                           n_perm=100, seed=42, plot=False)

# %%
# One tidy table of everything (the command line's ``results.csv``):
table = nsp.to_frame()
print(table[["x", "value", "p", "q"]].sort_values("value").round(3).to_string(index=False))

# %%
# The steps applied to the subject data, as stored with the results:
print(nsp.transforms_)

# %%
# Plot
# ----
fig, ax = nsp.plot()
