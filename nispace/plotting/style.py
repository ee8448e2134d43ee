"""One look for every nispace figure: colours, sizes, resolution, label wrapping.

Figures are drawn inside :func:`figure_style` (a :func:`matplotlib.rc_context`,
so the user's own rcParams are untouched outside it) and written with
:func:`save_figure` (PNG at :data:`DPI`, vector files with brain surfaces
rasterized at the same resolution).
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["DPI", "MEDIAL_WALL_COLOR", "NO_DATA_COLOR", "NULL_COLOR", "OBSERVED_COLOR",
           "PNG_OPTIONS",
           "figure_style", "is_fixed_layout", "mark_fixed_layout", "save_figure", "wrap_label"]

#: resolution of PNGs and of the rasterized parts (brain surfaces) of SVG/PDF files
DPI = 300
#: PNG encoder options: fastest zlib level (300 dpi pages are large; files ~3% larger
#: than level 3, level 6 is ~3x slower); PNGs are written by :func:`png_bytes`
PNG_OPTIONS = {"compress_level": 1}
#: surface faces outside the parcellation (medial wall)
MEDIAL_WALL_COLOR = "#9a9a9a"
#: parcels without a value (NaN): a light warm colour, distinct from the medial wall
NO_DATA_COLOR = "#f3e3b5"
#: histograms of null distributions
NULL_COLOR = "#b5b5b5"
#: observed values
OBSERVED_COLOR = "#c0392b"
#: characters per line of wrapped map labels
LABEL_WIDTH = 28

_RC = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "figure.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text in SVG (searchable, small)
    "pdf.fonttype": 42,
    "savefig.dpi": DPI,
}


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """Draw inside this block for the nispace look; rcParams are restored after."""
    import matplotlib as mpl

    with mpl.rc_context(_RC):
        yield


def wrap_label(text: str, width: int = LABEL_WIDTH) -> str:
    """Wrap a map label on word, ``_``, ``-`` and ``·`` boundaries; never cut it.

    Parameters
    ----------
    text : str
        The full label.
    width : int
        Characters per line.

    Returns
    -------
    str
        ``text`` with line breaks; every character of ``text`` is kept.

    Examples
    --------
    >>> wrap_label("target-5HT1a_tracer-cumi101_n-8_dx-hc_pub-beliveau2017", 24)
    'target-5HT1a_tracer-\\ncumi101_n-8_dx-hc_pub-\\nbeliveau2017'
    >>> wrap_label("Serotonin · 5HT1a · [11C]WAY-100635 (savli2012, n=35)", 24)
    'Serotonin · 5HT1a ·\\n[11C]WAY-100635\\n(savli2012, n=35)'
    """
    text = str(text)
    if len(text) <= width:
        return text
    if " " in text:  # words first; a word longer than a line is split on separators
        lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
        return "\n".join(_wrap_word(line, width) for line in lines)
    return _wrap_word(text, width)


def _wrap_word(text: str, width: int) -> str:
    """Wrap a label without spaces after ``_``, ``-`` and ``·``."""
    if len(text) <= width:
        return text
    # break after separators: insert zero-width split points textwrap understands
    spaced = text.replace("_", "_\0").replace("-", "-\0").replace(" · ", " · \0")
    pieces = spaced.split("\0")
    lines, line = [], ""
    for piece in pieces:
        if line and len(line) + len(piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        if len(piece) > width:  # a long piece without separators: hard wrap, keep all
            chunks = textwrap.wrap(piece, width, break_long_words=True, drop_whitespace=False)
            lines.extend(c for c in chunks[:-1])
            piece = chunks[-1]
        line += piece
    if line:
        lines.append(line.rstrip())
    return "\n".join(lines)


def save_figure(fig: Figure, path, formats=("png", "svg")) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix in ``formats``.

    PNGs at :data:`DPI` dpi; in SVG/PDF the brain surfaces (already marked
    rasterized) are embedded as images at the same resolution, all else stays vector.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        File path without (or with, replaced) suffix.
    formats : sequence of str
        "png", "svg", "pdf".

    Returns
    -------
    list of Path
        The files written.
    """
    path = Path(path)
    out = [path.with_suffix(f".{fmt}") for fmt in formats]
    write_formats(fig, [(target, target.suffix[1:]) for target in out])
    return out


def write_formats(fig: Figure, targets) -> None:
    """Write ``fig`` once per ``(file or path, format)`` of ``targets`` with one layout.

    The figure is drawn once with Agg at :data:`DPI`: that draw runs the layout
    engine (if any), gives the PNG pixels and the text sizes for the tight bounding
    box (skipped for figures marked with :func:`mark_fixed_layout`, which are
    written whole). The PNG is that image cropped to the bounding box (snapped to
    whole pixels), encoded in a worker thread (the encoder releases the GIL) while
    SVG/PDF files are drawn with the same layout and bounding box. PNGs are written
    at :data:`DPI` with :data:`PNG_OPTIONS`; text stays text in SVG/PDF files
    (small, searchable, faster than glyph outlines). The figure's layout engine,
    canvas and dpi are restored afterwards.
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    engine = fig.get_layout_engine()
    dpi = fig.get_dpi()
    canvas = fig.canvas
    pngs = [target for target, fmt in targets if fmt == "png"]
    vectors = [(target, fmt) for target, fmt in targets if fmt != "png"]
    try:
        fig.set_dpi(DPI)
        agg = canvas if isinstance(canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        agg.draw()  # runs the layout engine, then draws
        if engine is not None:
            fig.set_layout_engine("none")  # keep the layout just computed
        tight = None if is_fixed_layout(fig) else fig.get_tightbbox(agg.get_renderer())
        bbox = None if tight is None else _pixel_bbox(tight)
        image = _cropped(np.asarray(agg.buffer_rgba()), tight, bbox, fig)
        with ThreadPoolExecutor(max_workers=1) as pool:
            jobs = []
            if image is not None:
                jobs = [pool.submit(_write_png, image, target) for target in pngs]
            else:  # drawn outside the figure: matplotlib's own PNG writer draws again
                for target in pngs:
                    fig.savefig(target, format="png", dpi=DPI, bbox_inches=bbox,
                                pil_kwargs=PNG_OPTIONS)
            for target, fmt in vectors:
                with mpl.rc_context({key: _RC[key] for key in ("svg.fonttype",
                                                                "pdf.fonttype")}):
                    fig.savefig(target, format=fmt, dpi=DPI, bbox_inches=bbox)
            for job in jobs:
                job.result()
    finally:
        if fig.canvas is not canvas:
            fig.set_canvas(canvas)
        fig.set_dpi(dpi)
        if engine is not None:
            fig.set_layout_engine(engine)


#: attribute set on figures whose layout fits their canvas (see mark_fixed_layout)
_FIXED_LAYOUT = "_nispace_fixed_layout"


def mark_fixed_layout(fig: Figure) -> Figure:
    """Mark ``fig`` as laid out to fit its canvas (fixed margins, nothing outside).

    :func:`write_formats` then writes the whole canvas without measuring a tight
    bounding box (one text-layout pass less).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure whose artists all lie inside its canvas.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig`` (marked).
    """
    setattr(fig, _FIXED_LAYOUT, True)
    return fig


def is_fixed_layout(fig: Figure) -> bool:
    """Whether ``fig`` was marked with :func:`mark_fixed_layout`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Any figure.

    Returns
    -------
    bool
    """
    return bool(getattr(fig, _FIXED_LAYOUT, False))


def _pixel_bbox(tight):
    """The tight bounding box (inches) padded by ``savefig.pad_inches`` and widened to
    whole pixels at :data:`DPI` (so the PNG crop and the vector files agree)."""
    import matplotlib as mpl
    from matplotlib.transforms import Bbox

    box = tight.padded(mpl.rcParams["savefig.pad_inches"])
    x0, y0 = np.floor(np.array([box.x0, box.y0]) * DPI)
    x1, y1 = np.ceil(np.array([box.x1, box.y1]) * DPI)
    return Bbox.from_extents(x0 / DPI, y0 / DPI, x1 / DPI, y1 / DPI)


def _cropped(rgba: np.ndarray, tight, bbox, fig: Figure) -> np.ndarray | None:
    """The PNG pixels: the Agg image of the whole figure cut to ``bbox`` (inches, whole
    pixels), margins outside the canvas in the figure's face colour, as matplotlib
    fills them; the whole image without ``bbox``. None when something is drawn
    outside the canvas (``tight`` reaches beyond it): only a new draw shows it."""
    from matplotlib.colors import to_rgba

    height, width = rgba.shape[:2]
    if bbox is None:
        return rgba.copy()
    if (round(tight.x0 * DPI) < 0 or round(tight.y0 * DPI) < 0
            or round(tight.x1 * DPI) > width or round(tight.y1 * DPI) > height):
        return None
    x0, x1 = round(bbox.x0 * DPI), round(bbox.x1 * DPI)
    top, bottom = height - round(bbox.y1 * DPI), height - round(bbox.y0 * DPI)
    face = np.round(np.array(to_rgba(fig.get_facecolor())) * 255).astype(np.uint8)
    out = np.empty((bottom - top, x1 - x0, 4), dtype=np.uint8)
    out[:] = face
    src_rows = slice(max(top, 0), min(bottom, height))
    src_cols = slice(max(x0, 0), min(x1, width))
    out[src_rows.start - top:src_rows.stop - top,
        src_cols.start - x0:src_cols.stop - x0] = rgba[src_rows, src_cols]
    return out


def _write_png(image: np.ndarray, target) -> None:
    """Write an RGBA image (rows top first) as a PNG at :data:`DPI` (see :func:`png_bytes`)."""
    data = png_bytes(image)
    if hasattr(target, "write"):
        target.write(data)
    else:
        Path(target).write_bytes(data)


def png_bytes(image: np.ndarray, dpi: float = DPI) -> bytes:
    """Encode an 8-bit RGBA or RGB image (rows top first) as a PNG file.

    Lossless, like matplotlib's PNG writer, but faster: every row is stored
    unfiltered and compressed with zlib at :data:`PNG_OPTIONS` level (zlib releases
    the GIL, so this runs beside drawing in another thread). Pillow's adaptive row
    filters make files ~15% smaller but take ~3x as long on a 300 dpi page. A fully
    opaque image is stored as RGB (the same pixels, a quarter less data).

    Parameters
    ----------
    image : numpy.ndarray of uint8, shape (height, width, 4) or (height, width, 3)
        The pixels.
    dpi : float
        Resolution recorded in the file (``pHYs``, pixels per metre).

    Returns
    -------
    bytes
        The PNG file, with the resolution and a ``Software`` text chunk.
    """
    import struct
    import zlib

    import matplotlib as mpl

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"image: expected uint8 pixels of shape (height, width, 3 or 4); got "
                         f"{image.dtype} {image.shape}.")
    if image.shape[2] == 4 and (image[..., 3] == 255).all():
        image = image[..., :3]
    height, width, channels = image.shape
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)  # filter byte 0: none
    rows[:, 1:] = image.reshape(height, -1)
    level = PNG_OPTIONS.get("compress_level", 1)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))

    per_metre = round(dpi / 0.0254)
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6 if channels == 4 else 2,
                                   0, 0, 0)),
        chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
        chunk(b"tEXt", b"Software\0" + f"Matplotlib version{mpl.__version__}, "
                                        f"https://matplotlib.org/".encode("latin-1")),
        chunk(b"IDAT", zlib.compress(rows.tobytes(), level)),
        chunk(b"IEND", b""),
    ])
