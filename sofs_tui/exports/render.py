"""One entry point for turning a document into the bytes of a file, by format name."""

from __future__ import annotations

from datetime import datetime

from sofs_tui.exports.document import Document, ExportError

DOCUMENT_FORMATS = ("text", "html", "pdf")


def render(document: Document, fmt: str, made_at: datetime) -> bytes:
    """The document as `text` (UTF-8), `html` (UTF-8) or `pdf`."""
    if fmt == "text":
        from sofs_tui.exports.render_text import render_text

        return render_text(document).encode("utf-8")
    if fmt == "html":
        from sofs_tui.exports.render_html import render_html

        return render_html(document).encode("utf-8")
    if fmt == "pdf":
        from sofs_tui.exports.render_pdf import render_pdf

        return render_pdf(document, made_at)
    raise ExportError(f"Unknown format {fmt!r}; choose one of {', '.join(DOCUMENT_FORMATS)}.")
