"""The forms behind each conference action: their fields, their checks and the store unit of
work that saves them. The rules themselves stay in `domain` and `store.conferences`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text

from sofs_tui.domain.conference import FamilyPlanTask
from sofs_tui.domain.enums import (
    ConferenceKind,
    ConferenceModel,
    GPInvited,
    GPOutcome,
    PlanCategory,
)
from sofs_tui.screens.conference_edit import (
    ChoiceField,
    DayField,
    FlagField,
    FormSpec,
    TextField,
    Values,
    WhenField,
)
from sofs_tui.screens.conference_panels import (
    ATTENDANCE_LABELS,
    STATUS_LABELS,
    category_words,
)
from sofs_tui.widgets.plain import safe_text

if TYPE_CHECKING:
    from sofs_tui.store.conference_views import (
        ChildOutcomeView,
        ConferenceView,
        InviteeView,
        PlanTaskView,
    )
    from sofs_tui.store.store import Store

NOTE = 4000  # long free text (notes, contingency, dissent, redactions)


def conferences_store() -> Any:
    # Imported when a form saves (in its worker), not when the screen is drawn.
    from sofs_tui.store import conferences

    return conferences


def details_form(view: ConferenceView) -> FormSpec:
    def save(store: Store, v: Values) -> object:
        return conferences_store().update_conference(
            store,
            view.id,
            kind=v["kind"],
            model=v["model"],
            starts_at=v["starts_at"],
            chair=v["chair"],
            location=v["location"],
            status=v["status"],
            strategy_discussion_on=v["strategy_discussion_on"],
        )

    return FormSpec(
        "Conference details",
        [
            ChoiceField("kind", "Kind", [(k.label, k) for k in ConferenceKind], view.kind),
            ChoiceField("model", "Model", [(m.label, m) for m in ConferenceModel], view.model),
            WhenField("starts_at", "Date and time (London time)", view.starts_at),
            TextField("chair", "Chair", view.chair, max_length=120),
            TextField("location", "Location", view.location, max_length=200),
            ChoiceField("status", "Status", list(swap(STATUS_LABELS)), view.status),
            DayField(
                "strategy_discussion_on",
                "Strategy discussion (initial conferences)",
                view.strategy_discussion_on,
            ),
        ],
        save,
    )


def swap(labels: Mapping[Any, str]) -> list[tuple[str, Any]]:
    return [(label, value) for value, label in labels.items()]


def invite_form(view: ConferenceView) -> FormSpec:
    people = {p.id: p for p in view.not_invited}

    def save(store: Store, v: Values) -> object:
        person = people.get(v["person_id"]) if v["person_id"] else None
        return conferences_store().invite(
            store,
            view.id,
            name=v["name"] or (person.name if person else ""),
            role=v["role"] or (person.role if person else ""),
            agency=v["agency"] or (person.agency if person else ""),
            person_id=person.id if person else None,
        )

    def check(v: Values) -> dict[str, str]:
        if not v["name"] and not v["person_id"]:
            return {"name": "Choose someone from the case or give a name."}
        return {}

    options: list[tuple[str | Text, Any]] = [
        (Text.assemble(safe_text(p.name), " (", safe_text(p.role or p.kind.value), ")"), p.id)
        for p in view.not_invited
    ]
    return FormSpec(
        "Invite to the conference",
        [
            ChoiceField("person_id", "From the case", options, blank="Someone not on the case"),
            TextField("name", "Name (leave empty to use the person chosen above)"),
            TextField("role", "Role", max_length=120),
            TextField("agency", "Agency"),
        ],
        save,
        check=check,
    )


def attendance_form(invitee: InviteeView) -> FormSpec:
    def save(store: Store, v: Values) -> object:
        return conferences_store().record_attendance(store, invitee.id, v["attendance"])

    return FormSpec(
        "Attendance",
        [ChoiceField("attendance", "Attendance", swap(ATTENDANCE_LABELS), invitee.attendance)],
        save,
        intro=f"Invitee: {invitee.name}",
    )


def gp_form(view: ConferenceView, invitee: InviteeView | None = None) -> FormSpec:
    """GP involvement in the QA Unit's categories; also what `a` opens on the GP's invitee row
    (the general attendance words cannot say "provided a report")."""

    def save(store: Store, v: Values) -> object:
        return conferences_store().record_gp_involvement(
            store, view.id, invited=v["invited"], outcome=v["outcome"]
        )

    on_the_list = any(i.is_gp for i in view.invitees)
    invited = view.gp_invited
    if invited is None and on_the_list:
        invited = GPInvited.YES  # on the invitee list: invited, unless the worker says "By SW"
    intro = f"Invitee: {invitee.name} (the case's GP)." if invitee is not None else ""
    return FormSpec(
        "GP involvement (the QA Unit's categories)",
        [
            ChoiceField(
                "invited",
                "Was the GP invited?",
                [(i.label, i) for i in GPInvited],
                invited,
                blank="Not recorded",
            ),
            ChoiceField(
                "outcome",
                "What did the GP do?",
                [(o.label, o) for o in GPOutcome],
                view.gp_outcome,
                blank="Not recorded",
            ),
        ],
        save,
        intro=intro,
    )


def outcome_form(view: ConferenceView, outcome: ChildOutcomeView, lead: str) -> FormSpec:
    def save(store: Store, v: Values) -> object:
        return conferences_store().record_child_outcome(
            store,
            view.id,
            child_id=outcome.child.id,
            plan=v["plan"],
            category=v["category"] if v["plan"] else None,
            lead_worker=v["lead_worker"],
            contingency=v["contingency"],
            dissent=v["dissent"],
        )

    def check(v: Values) -> dict[str, str]:
        if v["plan"] and v["category"] is None:
            return {"category": "A child protection plan needs a category."}
        return {}

    return FormSpec(
        "Outcome for the child",
        [
            FlagField("plan", "Child protection plan", outcome.plan),
            ChoiceField(
                "category",
                "Category",
                [(category_words(c), c) for c in PlanCategory],
                outcome.category,
                blank="No category (no plan)",
            ),
            TextField("lead_worker", "Lead worker", outcome.lead_worker or lead, max_length=120),
            TextField(
                "contingency", "Contingency", outcome.contingency, max_length=NOTE, multiline=True
            ),
            TextField(
                "dissent", "Dissent recorded", outcome.dissent, max_length=NOTE, multiline=True
            ),
        ],
        save,
        intro=(
            f"Child: {outcome.child.name}. The first core group and next review dates are "
            "worked out from the conference date when you save."
        ),
        check=check,
    )


def plan_task_form(conference_id: str, task: PlanTaskView | None) -> FormSpec:
    def save(store: Store, v: Values) -> object:
        if task is None:
            return conferences_store().add_family_plan_task(store, conference_id, _task(v))
        return conferences_store().update_family_plan_task(
            store,
            task.id,
            task=v["task"],
            who=v["who"],
            by_when=v["by_when"],
            who_checks=v["who_checks"],
            done=v["done"],
        )

    def check(v: Values) -> dict[str, str]:
        problems = _task(v).problems()
        return {"task": " ".join(problems)} if problems else {}

    fields: list[Any] = [
        TextField("task", "Task", task.task if task else "", max_length=1000, required=True),
        TextField("who", "Who will do it", task.who if task else "", required=True),
        DayField("by_when", "By when", task.by_when if task else None, required=True),
        TextField("who_checks", "Who checks", task.who_checks if task else "", required=True),
    ]
    if task is not None:
        fields.append(FlagField("done", "Done", task.done))
    return FormSpec(
        "Family plan task" if task else "Add a family plan task",
        fields,
        save,
        check=check,
        extra={"done": False},
    )


def _task(v: Values) -> FamilyPlanTask:
    return FamilyPlanTask(v["task"], v["who"], v["by_when"], v["who_checks"])


def preparation_form(view: ConferenceView) -> FormSpec:
    def save(store: Store, v: Values) -> object:
        return conferences_store().record_families_first(
            store,
            view.id,
            preparation_on=v["preparation_on"],
            preparation_note=v["preparation_note"],
            private_family_time=v["private_family_time"],
        )

    return FormSpec(
        "Families First: preparation and private family time",
        [
            DayField("preparation_on", "Family preparation meeting", view.family_preparation_on),
            TextField(
                "preparation_note",
                "Preparation note",
                view.family_preparation_note,
                max_length=NOTE,
                multiline=True,
            ),
            ChoiceField(
                "private_family_time",
                "Private family time",
                [("Yes", True), ("No", False)],
                view.private_family_time,
                blank="Not recorded",
            ),
        ],
        save,
    )


def toggle_done(task: PlanTaskView) -> Any:
    """A unit of work: flip a family plan task between open and done."""

    def work(store: Store) -> object:
        return conferences_store().update_family_plan_task(store, task.id, done=not task.done)

    return work
