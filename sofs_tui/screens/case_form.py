"""New case: reference, family name and team; the case opens once it is saved."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar

from textual.widget import Widget

from sofs_tui.screens.forms import FormScreen

if TYPE_CHECKING:
    from sofs_tui.store.store import Store


class CaseFormScreen(FormScreen[str]):
    """Creates a case through `store.cases.create_case`; dismisses with the new case's id."""

    FORM_TITLE = "New case"
    HELP: ClassVar[str] = (
        "**New case.** The reference is the council's case number; the family name is how "
        "the family is known on the caseload. Enter saves and opens the case; Escape closes."
    )

    def fields(self) -> Iterable[Widget]:
        yield self.text_field(
            "Reference", "case-reference", max_length=40, required="Give the case reference."
        )
        yield self.text_field(
            "Family name",
            "case-family",
            max_length=200,
            placeholder="e.g. Brackwell family",
            required="Give the family name.",
        )
        yield self.text_field("Team", "case-team", max_length=120)

    def on_mount(self) -> None:
        self.query_one("#case-reference").focus()

    def work(self) -> Callable[[Store], str]:
        reference = self.text("case-reference")
        family = self.text("case-family")
        team = self.text("case-team")

        def create(store: Store) -> str:
            from sofs_tui.store.cases import create_case

            return create_case(store, reference=reference, family_name=family, team=team).id

        return create
