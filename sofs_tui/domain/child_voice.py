"""The child's own words (Three Houses, Safety House, Words and Pictures) and consent."""

from __future__ import annotations

from datetime import date, datetime

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.enums import ChildVoiceTool

#: What may still change in words that are part of a signed-off mapping: consent (a child or
#: parent may withdraw it at any time, and the exports follow it).
CONSENT_FIELDS = frozenset({"consent_to_share", "consent_note"})

PART_LABELS = {
    "worries": "House of worries",
    "good_things": "House of good things",
    "dreams": "House of dreams",
    "inside": "Inside the house (who lives there, what makes it safe)",
    "outside": "Outside the house (people the child does not want near)",
    "roof": "The roof (people who check the child is safe)",
    "path": "The path (how safe the child feels, near or far from the door)",
    "safety_rules": "The safety rules",
    "story": "The story in words and pictures",
}


def check_part(tool: ChildVoiceTool, part: str) -> None:
    """Raise ValueError unless `part` belongs to `tool`."""
    if part not in tool.parts:
        raise ValueError(f"{tool.value} has no part {part!r}; choose one of {tool.parts}.")


def may_share(consent_to_share: bool) -> bool:
    """The child's words leave the app only with consent recorded."""
    return consent_to_share


def recorded_by_sign_off(recorded_on: date | None, signed_off_at: datetime) -> bool:
    """Whether words recorded on `recorded_on` (None: not said) are part of a sign-off made
    at `signed_off_at`: recorded on or before that day in the council's time zone. Used for
    words from another device, whose time of storing sync does not carry."""
    return recorded_on is None or recorded_on <= signed_off_at.astimezone(COUNCIL_TZ).date()
