"""Add or edit a person on a case: a child, an adult, someone in the safety network, or a
professional (the GP with their practice). Only the fields for that kind of person show."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.widget import Widget
from textual.widgets import Checkbox, Select

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.enums import PersonKind
from sofs_tui.screens.forms import FormScreen

if TYPE_CHECKING:
    from sofs_tui.store.case_views import PersonView
    from sofs_tui.store.store import Store

KIND_WORDS = {
    PersonKind.CHILD: "Child",
    PersonKind.ADULT: "Adult (parent or carer)",
    PersonKind.NETWORK: "Safety network",
    PersonKind.PROFESSIONAL: "Professional",
}
# The fields each kind of person has (besides the name).
_FIELDS = {
    PersonKind.CHILD: ("person-dob", "person-expected"),
    PersonKind.ADULT: ("person-relationship",),
    PersonKind.NETWORK: ("person-relationship",),
    PersonKind.PROFESSIONAL: ("person-role", "person-agency", "person-practice"),
}


class PersonFormScreen(FormScreen[str]):
    """Dismisses with the person's id once saved (`add_person` or `update_person`)."""

    HELP: ClassVar[str] = (
        "**Person.** Choose who they are first: a child (date of birth, or the expected date "
        "for an unborn baby), an adult (relationship, parental responsibility), someone in "
        "the safety network, or a professional (tick GP and give the practice). Enter saves; "
        "Escape closes without saving. Plan categories follow conference decisions."
    )

    def __init__(
        self,
        case_id: str,
        *,
        person: PersonView | None = None,
        kind: PersonKind = PersonKind.CHILD,
    ) -> None:
        super().__init__()
        self.case_id = case_id
        self.person = person
        self.kind = person.kind if person else kind

    def title_text(self) -> str:
        if self.person is None:
            return "Add a person to the case"
        return f"Edit {KIND_WORDS[self.person.kind].lower()}: {self.person.name}"

    def fields(self) -> Iterable[Widget]:
        p = self.person
        kinds = Select(
            [(words, kind) for kind, words in KIND_WORDS.items()],
            value=self.kind,
            allow_blank=False,
            id="person-kind",
            compact=True,
        )
        kinds.disabled = p is not None  # a person's kind does not change once recorded
        yield self.row("Who", kinds)
        yield self.text_field(
            "Name", "person-name", p.name if p else "", required="Give the person's name."
        )
        yield self.date_field(
            "Date of birth", "person-dob", p.date_of_birth if p else None, classes="for-child"
        )
        yield self.date_field(
            "Or expected on", "person-expected", p.expected_on if p else None, classes="for-child"
        )
        yield self.text_field(
            "Relationship",
            "person-relationship",
            p.relationship if p else "",
            max_length=120,
            placeholder="e.g. Mother, Aunt, Neighbour",
            classes="for-adult for-network",
        )
        yield self.row(
            "",
            Checkbox(
                "Has parental responsibility",
                p.parental_responsibility if p else False,
                id="person-pr",
                compact=True,
            ),
            classes="for-adult",
        )
        yield self.text_field(
            "Role",
            "person-role",
            p.role if p else "",
            max_length=120,
            placeholder="e.g. GP, Health visitor",
            classes="for-professional",
        )
        yield self.text_field(
            "Agency", "person-agency", p.agency if p else "", classes="for-professional"
        )
        yield self.row(
            "",
            Checkbox(
                "This is the child's GP", p.is_gp if p else False, id="person-gp", compact=True
            ),
            classes="for-professional",
        )
        yield self.text_field(
            "GP practice", "person-practice", p.gp_practice if p else "", classes="for-professional"
        )

    def on_mount(self) -> None:
        self._show_kind()
        self.query_one("#person-name").focus()

    @on(Select.Changed, "#person-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, PersonKind):
            self.kind = event.value
            self._show_kind()

    def _show_kind(self) -> None:
        for kind in PersonKind:
            self.set_class(kind is self.kind, f"-{kind.value}")

    def active_fields(self) -> list[str]:
        return ["person-name", *_FIELDS[self.kind]]

    def _today(self) -> date:
        return self.now().astimezone(COUNCIL_TZ).date()

    def problems(self) -> dict[str, str]:
        found = super().problems()
        if self.kind is PersonKind.CHILD and not found:
            born, expected = self.date_value("person-dob"), self.date_value("person-expected")
            if born and expected:
                found["person-expected"] = "Give the date of birth or the expected date, not both."
            elif born and born > self._today():
                found["person-dob"] = (
                    "A date of birth cannot be in the future; for an unborn baby use the "
                    "expected date."
                )
        if (
            self.kind is PersonKind.PROFESSIONAL
            and self.checked("person-gp")
            and not self.text("person-practice")
            and "person-practice" not in found
        ):
            found["person-practice"] = "Give the GP's practice."
        return found

    def values(self) -> dict[str, Any]:
        """The fields this kind of person has, as the store takes them."""
        kind = self.kind
        values: dict[str, Any] = {"name": self.text("person-name")}
        if kind is PersonKind.CHILD:
            values |= {
                "date_of_birth": self.date_value("person-dob"),
                "expected_on": self.date_value("person-expected"),
            }
        elif kind in (PersonKind.ADULT, PersonKind.NETWORK):
            values["relationship"] = self.text("person-relationship")
            if kind is PersonKind.ADULT:
                values["parental_responsibility"] = self.checked("person-pr")
        else:
            values |= {
                "role": self.text("person-role"),
                "agency": self.text("person-agency"),
                "is_gp": self.checked("person-gp"),
                "gp_practice": self.text("person-practice"),
            }
        return values

    def work(self) -> Callable[[Store], str]:
        values = self.values()
        kind, case_id = self.kind, self.case_id
        person_id = self.person.id if self.person else None

        def save(store: Store) -> str:
            from sofs_tui.store.cases import add_person, update_person

            if person_id is None:
                name = values.pop("name")
                return add_person(store, case_id, kind=kind, name=name, **values).id
            return update_person(store, person_id, **values).id

        return save
