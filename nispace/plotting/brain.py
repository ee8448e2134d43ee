"""Parcel values projected back onto the brain: surfaces for the cortex, slices otherwise.

Each map is one row of the figure:

* cortical parcels on the template surface of the parcellation (``fsLR``
  preferred, then ``fsaverage``; the cortex component of a combined
  parcellation): left lateral, left medial, right lateral, right medial views,
  drawn as flat-coloured triangles in an orthographic projection (the faces
  turned towards the viewer, back to front), rasterized, in one renderer call
  per view;
* volumetric parcellations (and the subcortex of combined ones): axial slices
  through the parcels (:func:`nilearn.plotting.plot_stat_map`) on the MNI T1w
  template, when it can be fetched;
* one colour scale shared by all panels of the map, with a colorbar.

Every vertex / voxel gets the value of its parcel; unlabelled vertices (medial
wall) and voxels stay empty.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from .._errors import check_option
from ..errors import InputError
from .labels import _column_labels

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..parcellation import Parcellation

__all__ = ["plot_brain", "plot_parcellation"]

logger = logging.getLogger("nispace.plotting")

#: surface spaces in order of preference
_SURFACE_PREFERENCE = ["fsLR", "fsaverage"]
#: views of the surface panels of one map, left to right
SURFACE_VIEWS = [("left", "lateral"), ("left", "medial"), ("right", "lateral"),
                 ("right", "medial")]
#: camera azimuth of each view (nilearn's matplotlib views, elevation 0)
_CAMERA_AZIM = {("left", "lateral"): 180.0, ("left", "medial"): 0.0,
                ("right", "lateral"): 0.0, ("right", "medial"): 180.0}
#: number of axial slices through the parcels of a volumetric part
N_CUTS = 5
#: fallback background template
_DEFAULT_MNI = "MNI152NLin6Asym"

_ROW_HEIGHT = 1.9  # inches per map
_TITLE_HEIGHT = 0.35  # inches above each map for its title
_CUT_WIDTH = 0.8  # width of one axial slice relative to a surface panel
_CBAR_WIDTH = 0.07


class _Part(NamedTuple):
    """Which parcels are drawn how: ``values[:, index]`` on ``parc`` in ``space``."""

    parc: Parcellation
    space: str
    index: np.ndarray


# ---------------------------------------------------------------------------------------
# values -> vertices / voxels


def _project_labels(values: np.ndarray, label_data: np.ndarray,
                    label_values: np.ndarray) -> np.ndarray:
    """Give every element of a label array the value of its parcel.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_maps, n_parcels)
        Parcel values in the order of ``label_values``.
    label_data : numpy.ndarray of int, any shape S
        Label array (0 = background).
    label_values : numpy.ndarray of int, shape (n_parcels,)
        Label value of each parcel.

    Returns
    -------
    numpy.ndarray, shape (n_maps, *S)
        NaN where the label is 0 or not one of ``label_values``.
    """
    label_values = np.asarray(label_values)
    flat = np.asarray(label_data).ravel()
    order = np.argsort(label_values, kind="stable")
    sorted_values = label_values[order]
    pos = np.clip(np.searchsorted(sorted_values, flat), 0, len(sorted_values) - 1)
    valid = (sorted_values[pos] == flat) & (flat != 0)
    out = np.full((values.shape[0], flat.size), np.nan)
    out[:, valid] = values[:, order[pos[valid]]]
    return out.reshape((values.shape[0], *np.shape(label_data)))


def _vertex_values(values, parc: Parcellation, space: str) -> np.ndarray:
    """Per-vertex values of a surface space (left then right hemisphere).

    Parameters
    ----------
    values : array_like, shape (n_parcels,) or (n_maps, n_parcels)
        Parcel values in the parcellation's label order.
    parc : Parcellation
        A parcellation with the surface space ``space``.
    space : str
        ``"fsLR"`` or ``"fsaverage"``.

    Returns
    -------
    numpy.ndarray, shape (n_maps, n_vertices_L + n_vertices_R)
        The value of each vertex's parcel; NaN on unlabelled vertices (medial wall).
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    label_values = parc.get_label_values(space)
    if values.shape[-1] != len(label_values):
        raise ValueError(f"values: expected {len(label_values)} parcels of {parc.name!r} in "
                         f"space {space!r}; got {values.shape[-1]}.")
    return _project_labels(values, parc.get_data(space), label_values)


def _volume_image(values: np.ndarray, parc: Parcellation, space: str):
    """(value image, mask image) of one map on the label volume of ``space``."""
    import nibabel as nib

    img = parc.get_img(space)
    vol = _project_labels(values[None], parc.get_data(space), parc.get_label_values(space))[0]
    mask = np.isfinite(vol)
    return (nib.Nifti1Image(np.where(mask, vol, 0.0).astype(np.float32), img.affine),
            nib.Nifti1Image(mask.astype(np.float32), img.affine))


def _cut_coords(parc: Parcellation, space: str, n_cuts: int = N_CUTS) -> list[float]:
    """Axial (z, mm) coordinates spread over the labelled voxels (10th-90th percentile)."""
    import nibabel as nib

    data = parc.get_data(space)
    ijk = np.argwhere(np.isin(data, parc.get_label_values(space)))
    z = nib.affines.apply_affine(parc.get_img(space).affine, ijk)[:, 2]
    return [float(c) for c in np.unique(np.round(np.quantile(z, np.linspace(0.1, 0.9,
                                                                          n_cuts))))]


# ---------------------------------------------------------------------------------------
# inputs


def _as_parcellation(parcellation) -> Parcellation:
    from ..parcellation import Parcellation

    if isinstance(parcellation, Parcellation):
        return parcellation
    if isinstance(parcellation, (str, tuple)):
        from ..datasets import fetch_parcellation

        return fetch_parcellation(parcellation, verbose=False)
    raise TypeError(f"parcellation: expected a Parcellation or a library name; got "
                    f"{type(parcellation).__name__}.")


def _values_table(values, parc: Parcellation) -> tuple[np.ndarray, list[str] | None]:
    """Values as (n_maps, n_parcels) in the parcellation's label order, and map names.

    Tables are aligned by parcel labels (parcels missing from the table are NaN);
    tables without parcel labels (e.g. a RangeIndex) and arrays must already be in
    label order.
    """
    labels = list(parc.labels)
    names = None
    if isinstance(values, pd.Series):
        names = [str(values.name)] if values.name is not None else None
        values = values.to_frame().T
    if isinstance(values, pd.DataFrame):
        names = names or _column_labels(values.index, max_len=60)
        cols = list(values.columns)
        label_set = set(labels)
        known = [c in label_set for c in cols]
        if all(known) and cols != labels:
            if len(set(cols)) != len(cols):
                raise ValueError("values: duplicate parcel labels in the columns.")
            if len(cols) < len(labels):
                logger.info("values: %d of %d parcels missing; drawn empty.",
                            len(labels) - len(cols), len(labels))
            values = values.reindex(columns=labels)
        elif not all(known) and (any(known) or len(cols) != len(labels)):
            bad = [c for c, k in zip(cols, known) if not k][:3]
            raise ValueError(f"values: columns {bad} are not parcels of {parc.name!r}; expected "
                             f"its parcel labels (or {len(labels)} unlabelled columns in "
                             f"label order).")
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != len(labels):
        raise ValueError(f"values: expected shape (n_parcels,) or (n_maps, n_parcels) with "
                         f"n_parcels = {len(labels)} ({parc.name!r}); got {arr.shape}.")
    return arr, names


def _titles(titles, names, n_maps: int, parc: Parcellation) -> list[str]:
    if titles is None:
        if names is not None:
            return names
        return [str(parc.name)] if n_maps == 1 else [f"map {i + 1}" for i in range(n_maps)]
    titles = [titles] if isinstance(titles, str) else [str(t) for t in titles]
    if len(titles) != n_maps:
        raise ValueError(f"titles: expected {n_maps} title(s), one per map; got "
                         f"{len(titles)}.")
    return titles


def _volume_space(parc: Parcellation) -> str:
    if not parc.is_surface():
        return parc.active_space
    spaces = [s for s in parc.spaces if not parc.is_surface(s)]
    if not spaces:
        raise ValueError(f"parcellation: {parc.name!r} has no volumetric space to draw its "
                         f"non-cortical parcels in; spaces: {parc.spaces}.")
    return spaces[0]


def _plan(parc: Parcellation, space: str | None) -> tuple[_Part | None, _Part | None]:
    """The surface part and the volume part of the figure (either may be None)."""
    combined = parc.level == "combined" and len(parc.components) == 2
    cortex = parc.components[0] if combined else parc
    surfaces = [s for s in _SURFACE_PREFERENCE if s in cortex.spaces]
    surfaces += [s for s in cortex.spaces if cortex.is_surface(s) and s not in surfaces]
    everything = np.arange(parc.n_parcels)
    if space is not None:
        volumes = [s for s in parc.spaces if not parc.is_surface(s)]
        check_option("space", space, volumes + surfaces)
        if space in volumes:
            return None, _Part(parc, space, everything)
        surfaces = [space]
    if not surfaces:
        return None, _Part(parc, _volume_space(parc), everything)
    if combined:
        sub = parc.components[1]
        return (_Part(cortex, surfaces[0], parc.cortex_indices),
                _Part(sub, _volume_space(sub), parc.subcortex_indices))
    return _Part(parc, surfaces[0], everything), None


def _color_scale(row: np.ndarray, vmin, vmax, symmetric: bool | None,
                 categorical: bool) -> tuple[float, float]:
    """Colour limits of one map: explicit limits win; symmetric around 0 when asked
    (or, with ``symmetric=None``, when the values have both signs)."""
    finite = row[np.isfinite(row)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if categorical:
        return (lo - 0.5 if vmin is None else vmin), (hi + 0.5 if vmax is None else vmax)
    sym = (lo < 0 < hi) if symmetric is None else bool(symmetric)
    if sym:
        if vmin is None and vmax is None:
            vmax = max(abs(lo), abs(hi))
        if vmin is None:
            vmin = -abs(vmax)
        if vmax is None:
            vmax = abs(vmin)
    vmin = lo if vmin is None else float(vmin)
    vmax = hi if vmax is None else float(vmax)
    if vmin == vmax:  # constant map: a visible, non-degenerate scale
        pad = abs(vmin) * 0.05 or 1.0
        vmin, vmax = vmin - pad, vmax + pad
    if vmin > vmax:
        raise ValueError(f"vmin, vmax: expected vmin <= vmax; got {vmin} and {vmax}.")
    return vmin, vmax


def _categorical_cmap(values: np.ndarray):
    """A qualitative colormap with one colour per integer between the smallest and
    largest value (cycling through tab20, tab20b and tab20c)."""
    import matplotlib as mpl
    from matplotlib.colors import ListedColormap

    finite = values[np.isfinite(values)]
    if finite.size and not np.allclose(finite, np.round(finite)):
        raise ValueError("values: categorical=True expects integer category codes; got "
                         "non-integer values.")
    n = int(finite.max() - finite.min() + 1) if finite.size else 1
    palette = [c for name in ("tab20", "tab20b", "tab20c") for c in mpl.colormaps[name].colors]
    return ListedColormap([palette[i % len(palette)] for i in range(n)], name="categories")


def _background(parc: Parcellation, space: str):
    """T1w template (2 mm) of ``space`` or of MNI152NLin6Asym, loaded; None if neither
    can be fetched."""
    import nibabel as nib

    for candidate in dict.fromkeys([space, _DEFAULT_MNI]):
        try:
            path = parc.get_template(candidate, desc="T1w", res="2mm")
        except (ValueError, KeyError, OSError) as exc:
            logger.info("No T1w background for %s (%s).", candidate, exc)
            continue
        if candidate != space:
            logger.info("Background: %s T1w template for data in %s.", candidate, space)
        return nib.load(path)
    logger.info("Drawing slices without a background template.")
    return None


def _surface_mesh(parc: Parcellation, space: str, surf_mesh: str):
    try:
        return parc.get_mesh(space, surf_mesh)
    except ValueError as exc:
        if surf_mesh == "midthickness":
            raise
        logger.info("No %r mesh for %s (%s); using 'midthickness'.", surf_mesh, space, exc)
        return parc.get_mesh(space, "midthickness")


# ---------------------------------------------------------------------------------------
# public


def plot_brain(values, parcellation, *, titles=None, cmap=None,
               symmetric_cmap: bool | None = None, vmin=None, vmax=None,
               space: str | None = None, surf_mesh: str = "inflated", categorical: bool = False,
               figsize=None, colorbar_label: str | None = "parcel value",
               views: str | list[str] | None = None) -> Figure:
    """Draw parcel values on the brain.

    Parameters
    ----------
    values : array_like or pandas.DataFrame, shape (n_parcels,) or (n_maps, n_parcels)
        Parcel values in the parcellation's label order (``parcellation.labels``).
        A DataFrame/Series is aligned by its parcel labels (missing parcels are
        drawn empty) and its index gives the default titles.
    parcellation : Parcellation or str
        The parcellation (or a library name, fetched).
    titles : str or list of str, optional
        One title per map (default: the table's index, the parcellation's name
        for one map, else ``"map 1"``, ...).
    cmap : str or matplotlib colormap, optional
        Default: ``"RdBu_r"`` for symmetric scales, ``"viridis"`` otherwise, a
        qualitative map for ``categorical=True``.
    symmetric_cmap : bool, optional
        Colour scale symmetric around 0 (``vmin = -vmax``). None: when a map has
        both positive and negative values.
    vmin, vmax : float, optional
        Colour limits for every map (default: per map, from its values).
    space : str, optional
        Draw in this space: a surface space (``"fsLR"``, ``"fsaverage"``) for the
        cortex, or a volumetric one to draw all parcels as slices. Default: the
        cortex on ``fsLR`` (else ``fsaverage``) when available, everything else
        as slices.
    surf_mesh : str
        Template surface (``"inflated"``, ``"midthickness"``, ``"sphere"``);
        falls back to ``"midthickness"`` if the space has no such mesh.
    categorical : bool
        Values are category codes (integers): qualitative colours, no colorbar.
    figsize : (float, float), optional
        Figure size; default grows with the number of maps and panels.
    colorbar_label : str, optional
        Label of each colorbar (e.g. ``"Hedges' g"``).
    views : {"lateral", "medial"} or list of them, optional
        Surface views drawn for each hemisphere (NiSpace's ``views``); default both.

    Returns
    -------
    matplotlib.figure.Figure
        One row per map: for the cortex, four axes labelled
        ``"surface:<hemi>:<view>"`` (left lateral, left medial, right lateral,
        right medial); for volumetric parts, axial slices labelled
        ``"volume:z=<mm>"``; and a colorbar (label ``"<colorbar>"``) unless
        ``categorical``. Surfaces are rasterized (small vector files); the medial
        wall is grey and parcels without a value (NaN) are light yellow, with a
        legend (gid ``"surface-legend"``).

    Notes
    -----
    Cortical parcels are shown on the parcellation's own surface labels (no
    volume-to-surface projection). Faces at parcel borders take the median of
    their three vertices, so every face has the colour of one parcel.
    """
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    parc = _as_parcellation(parcellation)
    table, names = _values_table(values, parc)
    n_maps = table.shape[0]
    titles = _titles(titles, names, n_maps, parc)
    surface, volume = _plan(parc, space)
    panels = _panels(views)

    views = _surface_views(_surface_mesh(surface.parc, surface.space, surf_mesh)) \
        if surface else None
    cuts = _cut_coords(volume.parc, volume.space) if volume else []
    bg = _background(volume.parc, volume.space) if volume else None

    widths = ([1.0] * len(panels) if surface else []) \
        + ([_CUT_WIDTH * len(cuts)] if volume else []) + ([] if categorical else [_CBAR_WIDTH])
    height = n_maps * (_ROW_HEIGHT + _TITLE_HEIGHT) + 0.15
    fig = plt.figure(figsize=figsize or (_ROW_HEIGHT * sum(widths) + 0.8, height))
    fig_w, fig_h = fig.get_figwidth(), fig.get_figheight()
    # right margin for the colorbar's tick labels and label (inside the canvas: the
    # PNG is then cut from the one Agg draw instead of drawn again on a larger page)
    right = 0.95 if categorical else 1 - 0.62 / fig_w
    grid = fig.add_gridspec(n_maps, len(widths), width_ratios=widths, left=0.01, right=right,
                            bottom=0.1 / fig_h, top=1 - _TITLE_HEIGHT / fig_h,
                            hspace=_TITLE_HEIGHT / _ROW_HEIGHT, wspace=0.03)
    for m in range(n_maps):
        row = table[m]
        lo, hi = _color_scale(row, vmin, vmax, symmetric_cmap, categorical)
        if cmap is not None:
            cmap_m = cmap
        elif categorical:
            cmap_m = _categorical_cmap(row)
        else:
            cmap_m = "RdBu_r" if lo == -hi else "viridis"
        col = 0
        if surface:
            _draw_surface(fig, grid, m, row[surface.index], surface, views, cmap_m, lo, hi,
                          panels)
            col += len(panels)
        if volume:
            _draw_slices(fig, fig.add_subplot(grid[m, col]), row[volume.index], volume, cuts,
                         bg, cmap_m, lo, hi)
            col += 1
        if not categorical:
            cax = fig.add_subplot(grid[m, col])
            fig.colorbar(ScalarMappable(Normalize(lo, hi), cmap_m), cax=cax)
            cax.set_label("<colorbar>")
            cax.tick_params(labelsize="small")
            if colorbar_label:
                cax.set_ylabel(colorbar_label, fontsize="small")
        box = grid[m, :].get_position(fig)
        fig.text(0.5 * (box.x0 + box.x1), box.y1 + 0.05 / fig_h, titles[m], ha="center",
                 va="bottom", fontsize="large", gid="map-title")
    if surface:
        _surface_legend(fig, bool(np.isnan(table[:, surface.index]).any()))
    return fig


def _panels(views) -> list[tuple[str, str]]:
    """The ``(hemi, view)`` surface panels for ``views`` (None: all of them)."""
    if views is None:
        return list(SURFACE_VIEWS)
    chosen = [views] if isinstance(views, str) else list(views)
    known = sorted({v for _, v in SURFACE_VIEWS})
    bad = [v for v in chosen if v not in known]
    if bad or not chosen:
        raise InputError(f"views: expected one or more of {known}; got {views!r}.")
    return [(h, v) for h, v in SURFACE_VIEWS if v in chosen]


def _surface_legend(fig, has_nan: bool) -> None:
    from matplotlib.patches import Patch

    from .style import MEDIAL_WALL_COLOR, NO_DATA_COLOR

    handles = [Patch(color=MEDIAL_WALL_COLOR, label="medial wall (no parcel)")]
    if has_nan:
        handles.append(Patch(color=NO_DATA_COLOR, label="parcel without value (NaN)"))
    legend = fig.legend(handles=handles, loc="lower left", ncols=len(handles), frameon=False,
                        fontsize="small", bbox_to_anchor=(0.01, 0.0))
    legend.set_gid("surface-legend")


def _draw_surface(fig, grid, m: int, values: np.ndarray, part: _Part, views: dict, cmap,
                  vmin, vmax, panels=SURFACE_VIEWS) -> None:
    """The ``panels`` views of one map on the cortical surface, in grid row ``m``."""
    vertex = _vertex_values(values, part.parc, part.space)[0]
    # labelled vertices: finite after projecting zeros (NaN only on the medial wall)
    labelled = np.isfinite(_vertex_values(np.zeros_like(values), part.parc, part.space)[0])
    n_left = part.parc.get_hemi_sizes(part.space)[0]
    for k, (hemi, view) in enumerate(panels):
        ax = fig.add_subplot(grid[m, k])
        cut = slice(None, n_left) if hemi == "left" else slice(n_left, None)
        _surface_view(ax, views[(hemi, view)], surf_map=vertex[cut], labelled=labelled[cut],
                      hemi=hemi, view=view, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_label(f"surface:{hemi}:{view}")


class _View(NamedTuple):
    """One hemisphere seen from one side: the faces turned towards the camera, back to
    front, and their corners projected onto the screen."""

    faces: np.ndarray  # (n_front, 3) vertex indices, farthest face first
    triangles: np.ndarray  # (n_front, 3, 2) screen coordinates of the corners
    limits: tuple[tuple[float, float], tuple[float, float]]  # x and y extent of the mesh


def _surface_views(mesh) -> dict:
    """The four :class:`_View` of a (left, right) mesh, computed once per figure."""
    coords, faces = mesh
    out = {}
    for hemi, view in SURFACE_VIEWS:
        h = 0 if hemi == "left" else 1
        out[(hemi, view)] = _project_view(np.asarray(coords[h], dtype=float),
                                          np.asarray(faces[h]), _CAMERA_AZIM[(hemi, view)])
    return out


def _project_view(coords: np.ndarray, faces: np.ndarray, azim: float) -> _View:
    """Orthographic view from azimuth ``azim`` (elevation 0; 0 = from +x, 180 = from -x).

    The screen's x axis points to the camera's right, its y axis up (+z); faces
    turned away from the camera are dropped and the others sorted by depth (painter's
    algorithm, as matplotlib's 3D axes do), so nearer faces are drawn last.
    """
    camera = np.array([np.cos(np.radians(azim)), np.sin(np.radians(azim)), 0.0])
    right = np.cross(-camera, [0.0, 0.0, 1.0])
    screen = np.column_stack([coords @ right, coords[:, 2]])
    front = faces[_front_faces(coords, faces, azim)]
    if not len(front):  # an open or odd mesh: draw everything
        front = faces
    front = front[np.argsort((coords @ camera)[front].mean(axis=1), kind="stable")]
    lo, hi = screen.min(axis=0), screen.max(axis=0)
    return _View(front, screen[front], ((lo[0], hi[0]), (lo[1], hi[1])))


def _surface_view(ax, geometry: _View, *, surf_map: np.ndarray, labelled: np.ndarray,
                  hemi: str, view: str, cmap, vmin: float, vmax: float) -> None:
    """Draw one hemisphere (``hemi``, ``view``) into the 2D axes ``ax``.

    ``surf_map`` holds the vertex values of the hemisphere (NaN off the parcels),
    ``labelled`` marks the vertices inside the parcellation. The faces become one
    image (gid ``"surface"``; their colours in its ``face_colors``).
    """
    colors = _face_colors(geometry.faces, surf_map, labelled, cmap, vmin, vmax)
    (x0, x1), (y0, y1) = geometry.limits
    pad = 0.02 * max(x1 - x0, y1 - y0)
    extent = (x0 - pad, x1 + pad, y0 - pad, y1 + pad)
    image = _surface_image(geometry.triangles, colors, extent, ax)
    image.set_gid("surface")
    ax.add_image(image)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()


def _face_colors(faces: np.ndarray, vertex: np.ndarray, labelled: np.ndarray, cmap,
                 vmin: float, vmax: float) -> np.ndarray:
    """RGBA colour of each face, opaque: the colormap for parcel values, the medial-wall
    colour off the parcellation and the no-data colour for parcels without a value.

    A face takes the median of its three vertex values (as nilearn's
    ``avg_method="median"``), so at parcel borders it has the colour of one parcel;
    it belongs to the medial wall / to a NaN parcel when at least two of its three
    vertices do.
    """
    import matplotlib as mpl
    from matplotlib.colors import Normalize, to_rgba

    from .style import MEDIAL_WALL_COLOR, NO_DATA_COLOR

    cmap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    corner = vertex[faces]
    finite = np.isfinite(corner)
    value = np.full(faces.shape[0], np.nan)
    some = finite.any(axis=1)
    value[some] = np.nanmedian(corner[some], axis=1)
    colors = cmap(Normalize(vmin, vmax)(value))
    inside = labelled[faces]
    medial = (~inside).sum(axis=1) >= 2
    no_data = ~medial & ((inside & ~finite).sum(axis=1) >= 2)
    colors[medial] = to_rgba(MEDIAL_WALL_COLOR)
    colors[no_data] = to_rgba(NO_DATA_COLOR)
    colors[~some & ~medial & ~no_data] = to_rgba(MEDIAL_WALL_COLOR)
    colors[:, 3] = 1.0
    return colors


def _surface_image(triangles: np.ndarray, colors: np.ndarray, extent: tuple, ax):
    """An image of flat-coloured triangles, rasterized at the resolution it is drawn at.

    The triangles are drawn off-screen with Agg's Gouraud-triangle primitive
    (equal corner colours: flat faces; every triangle slightly dilated, so
    neighbours leave no seams; the silhouette antialiased) and placed as one image.
    The image is made again only when the output resolution changes, so writing
    a PNG and an SVG at the same dpi draws the mesh once.
    """
    from matplotlib.image import AxesImage
    from matplotlib.transforms import Bbox

    class SurfaceImage(AxesImage):
        def __init__(self):
            super().__init__(ax, origin="upper", extent=extent, interpolation="nearest")
            self.face_colors = colors  # (n_faces, 4), for tests and users
            self._size = None
            self.set_data(np.zeros((1, 1, 4)))

        def draw(self, renderer):
            x0, x1, y0, y1 = extent
            box = Bbox.from_extents(x0, y0, x1, y1).transformed(self.axes.transData)
            mag = renderer.get_image_magnification()
            size = (max(1, round(box.width * mag)), max(1, round(box.height * mag)))
            if size != self._size:
                self.set_data(_rasterize_triangles(triangles, colors, extent, size))
                self._size = size
            super().draw(renderer)

    return SurfaceImage()


def _rasterize_triangles(triangles: np.ndarray, colors: np.ndarray, extent: tuple,
                         size: tuple[int, int]) -> np.ndarray:
    """RGBA image (height, width, 4), top row first, of triangles (n, 3, 2) with one
    colour each (n, 4), drawn in order over a transparent background."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.transforms import Affine2D

    width, height = size
    x0, x1, y0, y1 = extent
    renderer = RendererAgg(width, height, 72)
    to_pixels = Affine2D().translate(-x0, -y0).scale(width / (x1 - x0), height / (y1 - y0))
    gc = renderer.new_gc()
    corners = np.repeat(np.asarray(colors, dtype=float)[:, None, :], 3, axis=1)
    renderer.draw_gouraud_triangles(gc, np.asarray(triangles, dtype=float), corners,
                                    to_pixels)
    gc.restore()
    return np.asarray(renderer.buffer_rgba()).copy()


def _front_faces(coords: np.ndarray, faces: np.ndarray, azim: float) -> np.ndarray:
    """Faces turned towards a camera at azimuth ``azim`` (elevation 0): on a closed
    surface the others are hidden, so drawing them only costs time."""
    v0, v1, v2 = coords[faces[:, 0]], coords[faces[:, 1]], coords[faces[:, 2]]
    normal = np.cross(v1 - v0, v2 - v0)
    outward = np.sign(np.einsum("ij,ij->", v0, np.cross(v1, v2))) or 1.0  # winding
    camera = np.array([np.cos(np.radians(azim)), np.sin(np.radians(azim)), 0.0])
    return outward * (normal @ camera) > 0


def _draw_slices(fig, ax, values: np.ndarray, part: _Part, cuts: list[float], bg, cmap,
                 vmin, vmax) -> None:
    """Axial slices of one map, drawn in the area of ``ax``."""
    from nilearn.plotting import plot_stat_map

    img, mask = _volume_image(values, part.parc, part.space)
    display = plot_stat_map(img, bg_img=bg, display_mode="z", cut_coords=cuts, axes=ax,
                            figure=fig, colorbar=False, threshold=None, transparency=mask,
                            vmin=vmin, vmax=vmax, cmap=cmap, symmetric_cbar=False,
                            draw_cross=False, black_bg=False, annotate=True,
                            resampling_interpolation="nearest")
    ax.set_label("volume:frame")
    for coord, cut in display.axes.items():
        cut.ax.set_label(f"volume:z={coord:g}")


def plot_parcellation(parcellation, **kwargs) -> Figure:
    """Draw the parcels of a parcellation in qualitative colours.

    Parameters
    ----------
    parcellation : Parcellation or str
        The parcellation (or a library name).
    **kwargs
        Passed to :func:`plot_brain` (``space``, ``surf_mesh``, ``titles``,
        ``figsize``, ``cmap``).

    Returns
    -------
    matplotlib.figure.Figure
        As :func:`plot_brain` with ``categorical=True``; parcels get the codes
        ``1..n_parcels`` in a fixed random order, so neighbouring parcels
        usually differ in colour. Same parcellation → same figure.
    """
    from .._random import as_generator

    parc = _as_parcellation(parcellation)
    codes = as_generator(0).permutation(parc.n_parcels) + 1.0
    kwargs.setdefault("titles", str(parc.name))
    kwargs["categorical"] = True
    return plot_brain(codes, parc, **kwargs)
