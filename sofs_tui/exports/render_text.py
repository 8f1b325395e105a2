"""Plain text: a document as it reads in any editor, email or terminal, wrapped at 78 columns.

Tables that fit are printed as columns; wider ones become one block per row ("Who: Mum"), so
nothing is cut off.
"""

from __future__ import annotations

import textwrap
import unicodedata

from sofs_tui.exports.document import Document, Heading, Items, Paragraph, Table, clean

WIDTH = 78


def _width(text: str) -> int:
    """Columns a string takes in a monospaced font (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _wrap(text: str, indent: str = "", later: str | None = None) -> list[str]:
    lines: list[str] = []
    first, rest = indent, indent if later is None else later
    for paragraph in clean(text).split("\n"):
        wrapped = textwrap.wrap(
            paragraph,
            WIDTH,
            initial_indent=first,
            subsequent_indent=rest,
            break_on_hyphens=False,
        )
        lines += wrapped or [first.rstrip()]
        first = rest
    return lines


def _underline(text: str, mark: str) -> list[str]:
    lines = _wrap(text)
    return [*lines, mark * min(WIDTH, max(_width(line) for line in lines))]


def _table(table: Table) -> list[str]:
    """Columns when they fit; otherwise one block per row. No headers: a list of facts."""
    headers = [clean(h) for h in table.headers]
    rows = [[clean(c).replace("\n", " ") for c in row] for row in table.rows]
    if not rows:
        return []
    shown = [headers, *rows] if headers else rows
    widths = [max(_width(r[i]) for r in shown) for i in range(len(shown[0]))]
    if sum(widths) + 2 * (len(widths) - 1) <= WIDTH:

        def line(cells: list[str]) -> str:
            padded = []
            for i, cell in enumerate(cells):
                gap = " " * (widths[i] - _width(cell))
                padded.append(gap + cell if i in table.numeric else cell + gap)
            return "  ".join(padded).rstrip()

        top = [line(headers), "  ".join("-" * w for w in widths)] if headers else []
        return [*top, *(line(r) for r in rows)]
    out: list[str] = []
    for row in rows:
        if not headers:
            out += _wrap(": ".join(c or "-" for c in row), "", "    ")
            continue
        for header, cell in zip(headers, row, strict=True):
            out += _wrap(f"{header}: {cell or '-'}", "", "    ")
        out.append("")
    return out[:-1] if headers else out


def render_text(document: Document) -> str:
    """The whole document as text, ending in a newline."""
    out = _underline(document.title, "=")
    for line in document.lines:
        out += _wrap(line)
    for block in document.blocks:
        out.append("")
        if isinstance(block, Heading):
            out += _underline(block.text, "-" if block.level > 1 else "=")
        elif isinstance(block, Paragraph):
            out += _wrap(block.text)
        elif isinstance(block, Items):
            for index, item in enumerate(block.items):
                if index:
                    out.append("")
                out += _wrap(item.text, "* ", "  ")
                for note in item.notes:
                    out += _wrap(note, "  ", "    ")
        else:
            out += _table(block)
    return "\n".join(out) + "\n"
