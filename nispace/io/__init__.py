"""Loading images and turning them into parcellated data.

:func:`load_img` reads NIfTI volumes and (L, R) GIfTI pairs;
:func:`parcellate_array` is the pure array core (maps x points -> maps x parcels);
:func:`parcellate_images` parcellates volumes and surface maps with a
:class:`~nispace.parcellation.Parcellation`; :func:`read_input` turns any supported
input (images, tables, arrays, dicts) into a maps x parcels DataFrame;
:func:`parcellate` (also ``nispace.parcellate``) is region extraction in one call;
:func:`parcellate_reference` gives a reference dataset on any parcellation.

``from nispace.io import parcellate`` gives the function, as in NiSpace; the module of
the same name is ``importlib.import_module("nispace.io.parcellate")``.
"""

from .images import load_img
from .inputs import read_input
from .parcellate import parcellate_array, parcellate_images
from .references import parcellate_reference
# imported last: binding the function after the submodule ``parcellate`` was loaded
# keeps ``nispace.io.parcellate`` the function (NiSpace's ``from nispace.io import
# parcellate``)
from .extract import parcellate  # noqa: E402

__all__ = ["load_img", "parcellate", "parcellate_array", "parcellate_images",
           "parcellate_reference", "read_input"]
