"""Convert Textual's SVG screenshots to PNG with rsvg-convert, every cell in its place.

Rich writes each run of same-styled cells as one ``<text>`` with a ``textLength``. rsvg
ignores ``textLength``, so a run only lines up when every glyph is exactly one cell wide in
the font rsvg picks. Plain text is (a monospace font); braille (the graphs), check marks
and some symbols come from a proportional fallback font, and the rest of their run drifts
right, over the next column. So runs with such characters are split into one ``<text``
per character, each at its own cell.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

from rich.cells import cell_len

TEXT_RUN = re.compile(
    r'<text (?P<cls>class="[^"]*") x="(?P<x>[\d.]+)" (?P<y>y="[\d.]+") '
    r'textLength="(?P<length>[\d.]+)" (?P<clip>clip-path="[^"]*")>(?P<body>[^<]*)</text>'
)
NO_BREAK_SPACE = "\xa0"


def _safe(char: str) -> bool:
    """Whether the monospace font draws ``char`` one cell wide (ASCII and Latin-1 do)."""
    return ord(char) < 0x250


def _split(match: re.Match[str]) -> str:
    body = html.unescape(match["body"])
    if all(_safe(char) for char in body):
        return match[0]
    cells = cell_len(body.replace(NO_BREAK_SPACE, " "))
    if not cells:
        return match[0]
    width = float(match["length"]) / cells
    x = float(match["x"])
    parts = []
    for char in body:
        span = cell_len(char) * width
        if char not in (" ", NO_BREAK_SPACE) and span:
            parts.append(
                f'<text {match["cls"]} x="{x:.2f}" {match["y"]} textLength="{span:.2f}"'
                f' {match["clip"]}>{html.escape(char, quote=False)}</text>'
            )
        x += span
    return "".join(parts)


def for_rsvg(svg: str) -> str:
    """Rich's SVG, made to render with every cell in place in rsvg-convert.

    Runs holding wide-in-the-font characters are split per character (see the module
    doc). Rich also writes spaces as no-break spaces, which rsvg draws zero-width with
    the usual fallback monospace fonts, so text would drift left ("Entercreate"); plain
    spaces with ``xml:space="preserve"`` keep them.
    """
    svg = TEXT_RUN.sub(_split, svg)
    svg = svg.replace("&#160;", " ")
    root = '<svg class="rich-terminal"'
    return svg.replace(root, '<svg xml:space="preserve" class="rich-terminal"', 1)


def find_converter() -> str | None:
    """The rsvg-convert binary, or None."""
    return shutil.which("rsvg-convert")


def convert(converter: str, svg: Path, out: Path, keep_svg: bool = False) -> Path:
    """``svg`` -> ``out/<name>.png`` (and the SVG beside it with ``keep_svg``)."""
    flat = svg.with_suffix(".flat.svg")
    flat.write_text(for_rsvg(svg.read_text()))
    png = out / f"{svg.stem}.png"
    subprocess.run([converter, str(flat), "-o", str(png)], check=True)
    if keep_svg:
        shutil.copy(svg, out / svg.name)
    return png
