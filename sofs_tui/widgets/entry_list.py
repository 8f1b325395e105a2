"""One column of the mapping: its sections, and each section's entries in order, as an OptionList.

Every entry shows its words, who says it, whether it is agreed or disputed (and by whom), who
may read it, its pairing, any wording suggestions and "2 versions" while a sync conflict is
open, all in words. User text is cleaned and never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from textual.content import Content
from textual.widgets.option_list import Option

from sofs_tui.domain.enums import Agreement, Audience, Section
from sofs_tui.domain.text import clean_text
from sofs_tui.widgets.keyed_options import KeyedOptionList

#: How much of an entry the list shows; the editor shows all of it.
LIST_TEXT_LIMIT = 400
PAIR_TEXT_LIMIT = 70

SECTION_PREFIX = "section:"
ENTRY_PREFIX = "entry:"


class ShownEntry(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def section(self) -> Section: ...
    @property
    def text(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def agreement(self) -> Agreement: ...
    @property
    def disputed_by(self) -> str: ...
    @property
    def audience(self) -> Audience: ...
    @property
    def conflict(self) -> str: ...  # "", "open" or "resolving" (sync)


def shorten(text: str, limit: int) -> str:
    """Cleaned text cut at `limit` characters with an ellipsis (the editor shows it all)."""
    text = clean_text(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def agreement_words(agreement: Agreement, disputed_by: str) -> str:
    if agreement is Agreement.AGREED:
        return "Agreed"
    if agreement is Agreement.DISPUTED:
        who = clean_text(disputed_by, multiline=False).strip()
        return f"Disputed by {who}" if who else "Disputed (by whom not recorded)"
    return "Agreement not asked yet"


AUDIENCE_WORDS = {
    Audience.FAMILY: "For the family",
    Audience.NOT_FOR_FAMILY: "Not for the family",
    Audience.UNDECIDED: "Sharing with the family undecided",
}


def who_says(source: str) -> str:
    who = clean_text(source, multiline=False).strip()
    return f"Who says it: {who}" if who else "Who says it: not recorded"


@dataclass(frozen=True)
class EntryRow:
    """An entry with what the screen worked out about it."""

    entry: ShownEntry
    number: int
    #: For a danger statement: its safety goal's words, or None for "no goal yet".
    goal: str | None = None
    #: For a safety goal: the danger statement it answers, or None when unpaired.
    answers: str | None = None
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class SectionRows:
    section: Section
    label: str
    rows: tuple[EntryRow, ...]


def entry_prompt(row: EntryRow) -> Content:
    entry = row.entry
    details = " · ".join(
        (
            who_says(entry.source),
            agreement_words(entry.agreement, entry.disputed_by),
            AUDIENCE_WORDS[entry.audience],
        )
    )
    lines = [
        Content.from_markup(
            "[b]$n.[/b] $text", n=row.number, text=shorten(entry.text, LIST_TEXT_LIMIT)
        ),
        Content.from_markup("   [dim]$details[/dim]", details=details),
    ]
    if entry.conflict == "open":
        lines.append(Content("   ⚠ 2 versions: changed in two places; choose in Conflicts (f7)"))
    elif entry.conflict == "resolving":
        lines.append(Content("   … 2 versions: your choice is sent at the next sync"))
    if entry.section is Section.DANGER_STATEMENT:
        if row.goal is None:
            lines.append(Content("   ✗ No safety goal yet (press p to pair one)"))
        else:
            lines.append(
                Content.from_markup(
                    "   ✓ Safety goal: $goal", goal=shorten(row.goal, PAIR_TEXT_LIMIT)
                )
            )
    elif entry.section is Section.SAFETY_GOAL:
        if row.answers is None:
            lines.append(Content("   ✗ Not paired with a danger statement yet"))
        else:
            lines.append(
                Content.from_markup(
                    "   ✓ Answers: $danger", danger=shorten(row.answers, PAIR_TEXT_LIMIT)
                )
            )
    lines.extend(
        Content.from_markup("   [i]⚠ Suggestion: $w[/i]", w=warning) for warning in row.warnings
    )
    return Content("\n").join(lines)


def section_prompt(section: SectionRows, *, read_only: bool) -> Content:
    count = len(section.rows)
    empty = "(none)" if read_only else "(none yet: press a to add)"
    tail = f"({count})" if count else empty
    return Content.from_markup(
        "[b reverse] $label [/b reverse] $tail", label=clean_text(section.label), tail=tail
    )


class EntryList(KeyedOptionList):
    """The sections of one column and their entries; option ids say which is which."""

    KEEP_PLACE_WHEN_GONE = True  # a deleted entry leaves the highlight near where it was

    def show(self, sections: Sequence[SectionRows], *, read_only: bool) -> None:
        """Replace the options, keeping the highlight on the same section or entry."""
        options: list[Option] = []
        for section in sections:
            options.append(
                Option(
                    section_prompt(section, read_only=read_only),
                    id=SECTION_PREFIX + section.section.value,
                )
            )
            options.extend(
                Option(entry_prompt(row), id=ENTRY_PREFIX + row.entry.id) for row in section.rows
            )
        self.replace_options(options)

    @property
    def highlighted_entry_id(self) -> str | None:
        return self.highlighted_key(ENTRY_PREFIX)

    @property
    def highlighted_section(self) -> Section | None:
        """The section of the highlighted header, or None when an entry is highlighted."""
        key = self.highlighted_key(SECTION_PREFIX)
        return Section(key) if key is not None else None
