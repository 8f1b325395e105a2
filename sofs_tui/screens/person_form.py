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
from sofs_tui.domain.enums import PersonKind, PlanCategory
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
#: "No category" in the plan category choices (a Select needs a value for it).
NO_PLAN = "none"
# The plan fields of a child, as the store names them.
_PLAN_FIELD_IDS = {
    "plan_category_initial": "person-plan-initial",
    "plan_category_latest": "person-plan-latest",
    "plan_start": "person-plan-start",
    "plan_end": "person-plan-end",
}
_PLAN_SELECTS = ("person-plan-initial", "person-plan-latest")
# The fields each kind of person has (besides the name).
_FIELDS = {
    PersonKind.CHILD: ("person-dob", "person-expected", *_PLAN_FIELD_IDS.values()),
    PersonKind.ADULT: ("person-relationship",),
    PersonKind.NETWORK: ("person-relationship",),
    PersonKind.PROFESSIONAL: ("person-role", "person-agency", "person-practice"),
}


class PersonFormScreen(FormScreen[str]):
    """Dismisses with the person's id once saved (`add_person` or `update_person`)."""

    HELP: ClassVar[str] = (
        "**Person.** Choose who they are first: a child (date of birth, or the expected date "
        "for an unborn baby), an adult (relationship, parental responsibility), someone in "
        "the safety network, or a professional (tick GP and give the practice). For a child "
        "already on a child protection plan, or to correct one, give the category it started "
        "with, the latest category and the dates (conference outcomes update them too). "
        "Enter saves; Escape closes without saving."
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
        yield from self._plan_fields()
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

    def _plan_fields(self) -> Iterable[Widget]:
        """A child's protection plan: categories (census codes) and dates."""
        p = self.person
        for label, field_id, none_words, value in (
            (
                "Plan category at start",
                "person-plan-initial",
                "None: not on a plan",
                p.plan_category_initial if p else None,
            ),
            (
                "Latest plan category",
                "person-plan-latest",
                "None: same as at start",
                p.plan_category_latest if p else None,
            ),
        ):
            choices: list[tuple[str, str]] = [(none_words, NO_PLAN)]
            choices += [(f"{c.value} · {c.label}", c) for c in PlanCategory]
            select = Select(
                choices, value=value or NO_PLAN, allow_blank=False, id=field_id, compact=True
            )
            yield self.row(label, select, classes="for-child")
        yield self.date_field(
            "Plan started", "person-plan-start", p.plan_start if p else None, classes="for-child"
        )
        yield self.date_field(
            "Plan ended", "person-plan-end", p.plan_end if p else None, classes="for-child"
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

    def field_problem(self, field_id: str) -> str | None:
        if field_id in _PLAN_SELECTS:
            return None  # a choice from the list is always one the store takes
        return super().field_problem(field_id)

    def _category(self, field_id: str) -> PlanCategory | None:
        chosen = self.chosen(field_id)
        return chosen if isinstance(chosen, PlanCategory) else None

    def plan_values(self) -> dict[str, Any]:
        """The child's plan as chosen, named as the store names it (dates must parse)."""
        return {
            "plan_category_initial": self._category("person-plan-initial"),
            "plan_category_latest": self._category("person-plan-latest"),
            "plan_start": self.date_value("person-plan-start"),
            "plan_end": self.date_value("person-plan-end"),
        }

    def _plan_problems(self) -> dict[str, str]:
        """The store's plan rules, said under the fields, when the plan was changed here."""
        from sofs_tui.store.cases import plan_problems

        plan = self.plan_values()
        p = self.person
        before = {name: getattr(p, name) if p else None for name in _PLAN_FIELD_IDS}
        if plan == before:
            return {}
        found = plan_problems(
            initial=plan["plan_category_initial"],
            latest=plan["plan_category_latest"],
            start=plan["plan_start"],
            end=plan["plan_end"],
            today=self._today(),
        )
        return {_PLAN_FIELD_IDS[name]: message for name, message in found.items()}

    def problems(self) -> dict[str, str]:
        found = super().problems()
        child = self.kind is PersonKind.CHILD
        if child and not {"person-dob", "person-expected"} & found.keys():
            born, expected = self.date_value("person-dob"), self.date_value("person-expected")
            if born and expected:
                found["person-expected"] = "Give the date of birth or the expected date, not both."
            elif born and born > self._today():
                found["person-dob"] = (
                    "A date of birth cannot be in the future; for an unborn baby use the "
                    "expected date."
                )
        if child and not {"person-plan-start", "person-plan-end"} & found.keys():
            found |= self._plan_problems()
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
            values |= self.plan_values()
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
