"""PDF with fpdf2: A4, the bundled DejaVu Sans (so Latin, Greek, Cyrillic, Arabic and Hebrew
letters print), page numbers, and no metadata that says who or what made it.

No /Author, /Creator, /Producer, /Title, /Subject, /Keywords or XMP is written. fpdf2 always
writes /CreationDate; it is set to the moment printed on the document itself, in UTC, so it
tells nobody anything the page does not. Characters the font lacks print as empty boxes, and
the document says so at the top (the HTML and text versions show them); fpdf2's own warning
about them is dropped, because it would copy case text into a log.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sofs_tui.exports.document import Document, Heading, Items, Paragraph, Table, clean

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIR = Path(__file__).resolve().parent / "fonts"
_FAMILY = "DejaVuSans"
_MARGIN = 18.0
_MISSING_GLYPHS_NOTE = (
    "Some characters in this document cannot be shown in this PDF and print as empty boxes. "
    "The HTML and plain text versions show every character."
)


class _NoCaseTextInLogs(logging.Filter):
    """fpdf2 logs the characters a font lacks, i.e. fragments of case text: never let it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "missing the following glyphs" not in str(record.msg)


_LOG_FILTER = _NoCaseTextInLogs()


def _new_pdf(made_at: datetime) -> FPDF:
    from fpdf import FPDF

    class _Pages(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(_FAMILY, size=8)
            self.cell(0, 6, f"Page {self.page_no()} of {{nb}}", align="C")

    logger = logging.getLogger("fpdf.output")
    if _LOG_FILTER not in logger.filters:
        logger.addFilter(_LOG_FILTER)
    pdf = _Pages(orientation="portrait", unit="mm", format="A4")
    pdf.set_producer("")  # an empty producer is not written at all
    pdf.set_creation_date(made_at.astimezone(UTC))
    pdf.set_compression(True)
    pdf.add_font(_FAMILY, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(_FAMILY, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, margin=_MARGIN)
    return pdf


def _missing_characters(pdf: FPDF, document: Document) -> set[str]:
    from fpdf.fonts import TTFFont

    covered: set[int] | None = None
    for key in (_FAMILY.lower(), _FAMILY.lower() + "B"):
        font = pdf.fonts[key]
        assert isinstance(font, TTFFont)
        covered = set(font.cmap) if covered is None else covered & set(font.cmap)
    have = covered or set()
    text = "".join(clean(s) for s in document.strings())
    return {c for c in text if c not in "\n\t" and ord(c) not in have}


def _write(pdf: FPDF, text: str, size: float, *, bold: bool = False, indent: float = 0) -> None:
    from fpdf.enums import XPos, YPos

    pdf.set_font(_FAMILY, "B" if bold else "", size)
    pdf.set_x(_MARGIN + indent)
    pdf.multi_cell(
        pdf.epw - indent,
        size * 0.5,
        clean(text).replace("\t", "    "),
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


def _table(pdf: FPDF, table: Table) -> None:
    shown = [table.headers, *table.rows] if table.headers else list(table.rows)
    if not shown:
        return
    widths = [min(40, max(6, *(len(row[i]) for row in shown))) for i in range(len(shown[0]))]
    align = tuple("RIGHT" if i in table.numeric else "LEFT" for i in range(len(widths)))
    pdf.set_font(_FAMILY, "", 9.5)
    with pdf.table(
        col_widths=widths,
        text_align=align,
        line_height=5,
        padding=1.2,
        markdown=False,
        first_row_as_headings=bool(table.headers),
    ) as grid:
        for cells in shown:
            row = grid.row()
            for cell in cells:
                row.cell(clean(cell).replace("\t", "    "))
    pdf.ln(3)


def render_pdf(document: Document, made_at: datetime) -> bytes:
    """The document as PDF bytes; `made_at` is the moment printed on it."""
    pdf = _new_pdf(made_at)
    pdf.add_page()
    _write(pdf, document.title, 18, bold=True)
    pdf.ln(1)
    for line in document.lines:
        _write(pdf, line, 10.5)
    if _missing_characters(pdf, document):
        pdf.ln(2)
        _write(pdf, _MISSING_GLYPHS_NOTE, 9.5)
    for block in document.blocks:
        if isinstance(block, Heading):
            pdf.ln(5 if block.level <= 1 else 3)
            _write(pdf, block.text, 15 if block.level <= 1 else 12.5, bold=True)
            pdf.ln(1)
        elif isinstance(block, Paragraph):
            pdf.ln(1.5)
            _write(pdf, block.text, 9.5 if block.quiet else 11)
        elif isinstance(block, Items):
            for item in block.items:
                pdf.ln(1.5)
                if pdf.will_page_break(6):
                    pdf.add_page()
                pdf.set_font(_FAMILY, "", 11)
                pdf.set_x(_MARGIN + 1)
                pdf.cell(4, 5.5, "•")  # the bullet beside the item's first line
                _write(pdf, item.text, 11, indent=5)
                for note in item.notes:
                    _write(pdf, note, 9.5, indent=8)
        else:
            pdf.ln(1.5)
            _table(pdf, block)
    return bytes(pdf.output())
