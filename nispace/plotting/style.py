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
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["DPI", "MEDIAL_WALL_COLOR", "NO_DATA_COLOR", "NULL_COLOR", "OBSERVED_COLOR",
           "PNG_OPTIONS",
           "figure_style", "save_figure", "wrap_label"]

#: resolution of PNGs and of the rasterized parts (brain surfaces) of SVG/PDF files
DPI = 300
#: PNG encoder options: fastest zlib level (300 dpi pages are large; files ~3% larger
#: than level 3, level 6 is ~3x slower)
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

    The layout (constrained layout, if any) and the tight bounding box are computed
    once, at :data:`DPI`, and kept for every format, instead of twice per format
    as ``savefig(bbox_inches="tight")`` does; the figure's layout engine is
    restored afterwards. PNGs are written at :data:`DPI` with :data:`PNG_OPTIONS`;
    text stays text in SVG/PDF files (small, searchable, faster than glyph outlines).
    """
    import matplotlib as mpl

    engine = fig.get_layout_engine()
    dpi = fig.get_dpi()
    try:
        fig.set_dpi(DPI)
        fig.draw_without_rendering()  # runs the layout engine
        bbox = fig.get_tightbbox(fig._get_renderer()).padded(mpl.rcParams["savefig.pad_inches"])
        if engine is not None:
            fig.set_layout_engine("none")  # keep the layout just computed
        for target, fmt in targets:
            extra = {"pil_kwargs": PNG_OPTIONS} if fmt == "png" else {}
            with mpl.rc_context({key: _RC[key] for key in ("svg.fonttype", "pdf.fonttype")}):
                fig.savefig(target, format=fmt, dpi=DPI, bbox_inches=bbox, **extra)
    finally:
        fig.set_dpi(dpi)
        if engine is not None:
            fig.set_layout_engine(engine)
