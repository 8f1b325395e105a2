"""Self-contained HTML: one file with its styles inline, no scripts, fonts, images or links to
anything, that reads on a phone and prints cleanly (`@media print`).

Every string is escaped with `html.escape` (quotes too) after control characters are removed;
person-supplied text is never markup here. A Content-Security-Policy forbids loading anything,
so even a mistake could not make the page fetch or run something.
"""

from __future__ import annotations

from html import escape

from sofs_tui.exports.document import Document, Heading, Items, Paragraph, Table, clean

_STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
  font-size: 1.05rem; line-height: 1.5; color: #111; background: #fff;
  max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 2px solid #444; }
h3 { font-size: 1.1rem; margin-top: 1.25rem; }
.lines p { margin: 0.1rem 0; color: #333; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.quiet { font-size: 0.92rem; color: #333; }
ul { padding-left: 1.25rem; }
li { margin-bottom: 0.75rem; }
li .note { display: block; font-size: 0.92rem; color: #333; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #999; padding: 0.3rem 0.5rem; text-align: left;
  vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; }
@page { margin: 18mm; }
@media print {
  body { font-size: 11pt; margin: 0; max-width: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  li, tr { break-inside: avoid; page-break-inside: avoid; }
  th { background: none; }
}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _text(value: str) -> str:
    return escape(clean(value), quote=True)


def _table(table: Table) -> list[str]:
    out = ["<table>"]
    if table.headers:
        out.append("<thead><tr>")
        out += [f'<th scope="col">{_text(h)}</th>' for h in table.headers]
        out.append("</tr></thead>")
    out.append("<tbody>")
    for row in table.rows:
        cells = []
        for index, cell in enumerate(row):
            kind = "num" if index in table.numeric else "text"
            cells.append(f'<td class="{kind}" dir="auto">{_text(cell)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return out


def render_html(document: Document) -> str:
    """The whole document as one HTML page (UTF-8)."""
    title = _text(document.title)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f'<h1 dir="auto">{title}</h1>',
        '<div class="lines">',
        *(f'<p class="text" dir="auto">{_text(line)}</p>' for line in document.lines),
        "</div>",
    ]
    for block in document.blocks:
        if isinstance(block, Heading):
            tag = "h2" if block.level <= 1 else "h3"
            out.append(f'<{tag} dir="auto">{_text(block.text)}</{tag}>')
        elif isinstance(block, Paragraph):
            kind = "text quiet" if block.quiet else "text"
            out.append(f'<p class="{kind}" dir="auto">{_text(block.text)}</p>')
        elif isinstance(block, Items):
            out.append("<ul>")
            for item in block.items:
                notes = "".join(
                    f'<span class="note text" dir="auto">{_text(n)}</span>' for n in item.notes
                )
                out.append(
                    f'<li><span class="text" dir="auto">{_text(item.text)}</span>{notes}</li>'
                )
            out.append("</ul>")
        else:
            out += _table(block)
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
