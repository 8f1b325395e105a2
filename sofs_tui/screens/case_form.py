"""New case, or the family's own details once it exists: reference, family name and team; and,
for a case already saved, its lead worker and whether it is open or closed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar

from textual.widget import Widget
from textual.widgets import Select

from sofs_tui.domain.enums import CaseStatus
from sofs_tui.screens.forms import FormScreen

if TYPE_CHECKING:
    from sofs_tui.store.case_views import CaseDetail
    from sofs_tui.store.store import Store

STATUS_WORDS = {CaseStatus.OPEN: "Open", CaseStatus.CLOSED: "Closed"}


class CaseFormScreen(FormScreen[str]):
    """Creates a case through `store.cases.create_case`, or saves an existing one's details
    through `update_case`; dismisses with the case's id once saved."""

    FORM_TITLE = "New case"
    HELP: ClassVar[str] = (
        "**Case.** The reference is the council's case number; the family name is how "
        "the family is known on the caseload. For a saved case you can also change the lead "
        "worker and close or reopen it. Enter saves; Escape closes without saving."
    )

    def __init__(self, case: CaseDetail | None = None) -> None:
        super().__init__()
        self.case = case

    def title_text(self) -> str:
        if self.case is None:
            return self.FORM_TITLE
        return f"Case details: {self.case.reference}"

    def fields(self) -> Iterable[Widget]:
        case = self.case
        yield self.text_field(
            "Reference",
            "case-reference",
            case.reference if case else "",
            max_length=40,
            required="Give the case reference.",
        )
        yield self.text_field(
            "Family name",
            "case-family",
            case.family_name if case else "",
            max_length=200,
            placeholder="e.g. Brackwell family",
            required="Give the family name.",
        )
        yield self.text_field("Team", "case-team", case.team if case else "", max_length=120)
        if case is None:
            return
        yield self.text_field(
            "Lead worker",
            "case-lead",
            case.lead_worker,
            max_length=120,
            required="Give the lead worker (their sign-in name).",
        )
        status = Select(
            [(words, status) for status, words in STATUS_WORDS.items()],
            value=case.status,
            allow_blank=False,
            id="case-status",
            compact=True,
        )
        yield self.row("Case is", status)

    def on_mount(self) -> None:
        self.query_one("#case-reference").focus()

    def work(self) -> Callable[[Store], str]:
        reference = self.text("case-reference")
        family = self.text("case-family")
        team = self.text("case-team")
        if self.case is None:

            def create(store: Store) -> str:
                from sofs_tui.store.cases import create_case

                return create_case(store, reference=reference, family_name=family, team=team).id

            return create
        case_id = self.case.case_id
        lead = self.text("case-lead")
        chosen = self.chosen("case-status")
        status = chosen if isinstance(chosen, CaseStatus) else self.case.status

        def save(store: Store) -> str:
            from sofs_tui.store.cases import update_case

            return update_case(
                store,
                case_id,
                reference=reference,
                family_name=family,
                team=team,
                lead_worker=lead,
                status=status,
            ).id

        return save
