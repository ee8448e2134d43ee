"""
The command line
================

Every workflow is also a ``nispace`` command: a thin layer over
:mod:`nispace.workflows` that writes tables, figures, the whole analysis in the open
``nispace-results`` format and a self-contained HTML report into one folder.

In a terminal you would type::

    nispace colocalize --y example:painmeta --x pet --x-collection UniqueTracers \\
        --parcellation Schaefer200 --n-perm 100 --seed 42 --out results/pain

Here the same command runs through :mod:`subprocess`, with 100 permutations so that
it finishes quickly (use 10,000 for a real analysis).

``example:NAME`` with ``--parcellation`` reads the example's table for that
parcellation when the data repository has one (here: the pain map parcellated
by the repository, recorded as "parcellated table" in ``results.json``); the
Python example :ref:`sphx_glr_auto_examples_plot_colocalization_nifti.py`
parcellates the NIfTI image itself, where parcels outside the image's coverage
become NaN. The two give close but not identical rho (e.g. 0.343 and 0.365 for
mGluR5). Pass the image file (``--y pain.nii.gz``) to get the Python result.
"""

# %%
# Run the command
# ---------------
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

# the ``nispace`` script installed beside this Python (else the one on PATH)
exe = Path(sys.executable).with_name("nispace")
nispace_cmd = str(exe) if exe.exists() else shutil.which("nispace")

out = Path(tempfile.mkdtemp()) / "pain"
cmd = [nispace_cmd, "--quiet", "colocalize", "--y", "example:painmeta",
       "--x", "pet", "--x-collection", "UniqueTracers", "--parcellation", "Schaefer200",
       "--n-perm", "100", "--seed", "42", "--out", str(out)]
done = subprocess.run(cmd, capture_output=True, text=True)
print("exit code:", done.returncode)  # 0 done, 2 usage error, 1 analysis failed

# %%
# What it wrote
# -------------
for path in sorted(out.iterdir()):
    print(path.name + ("/" if path.is_dir() else ""))

# %%
# ``results.csv`` is the table of :meth:`nispace.api.NiSpace.to_frame`: one row per
# statistic, Y map and X map with the value, p, corrected p (``q``) and z.
results = pd.read_csv(out / "results.csv")
print(results[["x", "value", "p", "q", "z"]].round(3).head().to_string(index=False))

# %%
# The analysis folder reloads without running any code, e.g. to plot again:
from nispace.api import NiSpace

nsp = NiSpace.load(out / "nispace")
fig, ax = nsp.plot()

# %%
# The temporary folder is removed at the end.
shutil.rmtree(out.parent)
