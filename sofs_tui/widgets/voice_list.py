"""The child's voice: each child's words per tool and part, with who wrote them, when, and
whether consent to share is recorded (never shared without it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from textual.content import Content
from textual.widgets.option_list import Option

from sofs_tui.domain.child_voice import PART_LABELS
from sofs_tui.domain.enums import ChildVoiceTool
from sofs_tui.domain.text import clean_text
from sofs_tui.widgets.entry_list import shorten
from sofs_tui.widgets.keyed_options import KeyedOptionList

TOOL_LABELS = {
    ChildVoiceTool.THREE_HOUSES: "Three Houses",
    ChildVoiceTool.SAFETY_HOUSE: "Safety House",
    ChildVoiceTool.WORDS_AND_PICTURES: "Words and Pictures",
}
CHILD_PREFIX = "child:"
VOICE_PREFIX = "voice:"


class ShownVoice(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def tool(self) -> ChildVoiceTool: ...
    @property
    def part(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def written_by(self) -> str: ...
    @property
    def recorded_on(self) -> date | None: ...
    @property
    def consent_to_share(self) -> bool: ...


@dataclass(frozen=True)
class ChildVoices:
    child_id: str
    name: str
    voices: tuple[ShownVoice, ...]


def part_label(part: str) -> str:
    return PART_LABELS.get(part, part.replace("_", " ").capitalize())


def consent_words(consent: bool) -> str:
    return "✓ Consent to share recorded" if consent else "✗ No consent to share: stays private"


def voice_prompt(voice: ShownVoice) -> Content:
    when = voice.recorded_on.strftime("%d %b %Y") if voice.recorded_on else "date not recorded"
    who = clean_text(voice.written_by, multiline=False).strip() or "not recorded"
    return Content("\n").join(
        [
            Content.from_markup(
                "[b]$tool · $part[/b]", tool=TOOL_LABELS[voice.tool], part=part_label(voice.part)
            ),
            Content.from_markup('   "$words"', words=shorten(voice.text, 600)),
            Content.from_markup(
                "   [dim]Written by $who · $when · $consent[/dim]",
                who=who,
                when=when,
                consent=consent_words(voice.consent_to_share),
            ),
        ]
    )


class VoiceList(KeyedOptionList):
    """Each child, then their words; a child's header adds words for them."""

    def show(self, children: Sequence[ChildVoices], *, read_only: bool) -> None:
        options: list[Option] = []
        for child in children:
            count = len(child.voices)
            tail = "" if read_only else "  (a: add their words)"
            options.append(
                Option(
                    Content.from_markup(
                        "[b reverse] $name [/b reverse] $count$tail",
                        name=clean_text(child.name, multiline=False),
                        count=f"({count} recorded)",
                        tail=tail,
                    ),
                    id=CHILD_PREFIX + child.child_id,
                )
            )
            options.extend(Option(voice_prompt(v), id=VOICE_PREFIX + v.id) for v in child.voices)
        self.replace_options(options)

    @property
    def highlighted_voice_id(self) -> str | None:
        return self.highlighted_key(VOICE_PREFIX)

    @property
    def highlighted_child_id(self) -> str | None:
        """The child of the highlighted row (their header, or one of their entries)."""
        return self.nearest_key_above(CHILD_PREFIX)
