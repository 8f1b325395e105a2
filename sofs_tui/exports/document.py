"""A document as plain blocks (headings, paragraphs, items, tables), so every export is built
once and rendered to plain text, HTML and PDF by renderers that know nothing of social work.

Every string in a document is person-supplied or built from it: renderers escape it for their
format and never interpret it (no markup, no Markdown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.text import clean_text


class ExportError(Exception):
    """An export could not be made; `user_message` says why and what to do."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1: a part of the document; 2: a section within it


@dataclass(frozen=True)
class Paragraph:
    text: str
    quiet: bool = False  # an explanation or a note, shown smaller


@dataclass(frozen=True)
class Item:
    """One entry of a list: its text and short notes under it ("Said by: …")."""

    text: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Items:
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]  # empty: no header row (a list of facts, "Author | DC Ashby")
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()  # columns aligned right


Block = Heading | Paragraph | Items | Table


@dataclass(frozen=True)
class Document:
    title: str
    lines: tuple[str, ...]  # under the title: who it is for, what it is based on, when made
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    def strings(self) -> list[str]:
        """Every string the document holds, in order (for checks such as font coverage)."""
        found = [self.title, *self.lines]
        for block in self.blocks:
            if isinstance(block, Heading | Paragraph):
                found.append(block.text)
            elif isinstance(block, Items):
                for item in block.items:
                    found += [item.text, *item.notes]
            else:
                found += [*block.headers, *(cell for row in block.rows for cell in row)]
        return found


def clean(text: str) -> str:
    """Person-supplied text made safe for any output: control and bidi characters removed."""
    return clean_text(text, multiline=True)


def first_words(text: str, words: int = 8) -> str:
    """The start of a passage, to name it without quoting all of it."""
    parts = clean(text).split()
    start = " ".join(parts[:words])
    return start + ("…" if len(parts) > words else "")


def when_text(moment: datetime | None, tz: ZoneInfo = COUNCIL_TZ) -> str:
    """ "Tue 1 Dec 2026, 10:00" in the council's time zone; "-" for nothing."""
    if moment is None:
        return "-"
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


def local_day(moment: datetime, tz: ZoneInfo = COUNCIL_TZ) -> date:
    """The council's calendar day of a moment."""
    return moment.astimezone(tz).date()


def day_text(day: date | None) -> str:
    """ "Tue 1 Dec 2026"; "-" for nothing."""
    return "-" if day is None else f"{day:%a} {day.day} {day:%b %Y}"


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet will show, not run: text starting like a formula gets a leading
    apostrophe (OWASP "CSV injection"). Numbers and dates are written by us and never start so."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value
