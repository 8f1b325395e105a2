"""The child's own words (Three Houses, Safety House, Words and Pictures) and consent."""

from __future__ import annotations

from sofs_tui.domain.enums import ChildVoiceTool

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
