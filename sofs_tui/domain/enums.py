"""The practice model's vocabularies, as closed sets of values.

Values are stable identifiers stored in the database and sent over sync; the words people
read come from `label` (and, for section labels, from the council's settings).
"""

from __future__ import annotations

from enum import StrEnum


class Column(StrEnum):
    """The three columns of a Signs of Safety mapping."""

    WORRIES = "worries"
    WORKING_WELL = "working_well"
    NEEDS_TO_HAPPEN = "needs_to_happen"

    @property
    def label(self) -> str:
        return _COLUMN_LABELS[self]


_COLUMN_LABELS = {
    Column.WORRIES: "What are we worried about?",
    Column.WORKING_WELL: "What's working well?",
    Column.NEEDS_TO_HAPPEN: "What needs to happen?",
}


class Section(StrEnum):
    """A section of the mapping; every entry is in exactly one."""

    HARM = "harm"
    DANGER_STATEMENT = "danger_statement"
    COMPLICATING_FACTORS = "complicating_factors"
    GREY_AREAS = "grey_areas"
    EXISTING_STRENGTHS = "existing_strengths"
    EXISTING_SAFETY = "existing_safety"
    SAFETY_GOAL = "safety_goal"
    NEXT_STEPS = "next_steps"

    @property
    def column(self) -> Column:
        return _SECTION_COLUMN[self]

    @property
    def label(self) -> str:
        return _SECTION_LABELS[self]


_SECTION_COLUMN = {
    Section.HARM: Column.WORRIES,
    Section.DANGER_STATEMENT: Column.WORRIES,
    Section.COMPLICATING_FACTORS: Column.WORRIES,
    Section.GREY_AREAS: Column.WORRIES,
    Section.EXISTING_STRENGTHS: Column.WORKING_WELL,
    Section.EXISTING_SAFETY: Column.WORKING_WELL,
    Section.SAFETY_GOAL: Column.NEEDS_TO_HAPPEN,
    Section.NEXT_STEPS: Column.NEEDS_TO_HAPPEN,
}

_SECTION_LABELS = {
    Section.HARM: "Harm",
    Section.DANGER_STATEMENT: "Danger statements",
    Section.COMPLICATING_FACTORS: "Complicating factors",
    Section.GREY_AREAS: "Grey areas",
    Section.EXISTING_STRENGTHS: "Existing strengths",
    Section.EXISTING_SAFETY: "Existing safety",
    Section.SAFETY_GOAL: "Safety goals",
    Section.NEXT_STEPS: "Next steps",
}


def sections_in(column: Column) -> tuple[Section, ...]:
    """The sections of one column, in the order the mapping shows them."""
    return tuple(s for s in Section if s.column is column)


class Agreement(StrEnum):
    """Whether the family and professionals agree with an entry."""

    NOT_ASKED = "not_asked"
    AGREED = "agreed"
    DISPUTED = "disputed"


class Audience(StrEnum):
    """Who may read an entry in exported documents (third-party information stays out)."""

    UNDECIDED = "undecided"
    FAMILY = "family"
    NOT_FOR_FAMILY = "not_for_family"


class AssessmentStatus(StrEnum):
    DRAFT = "draft"
    FINAL = "final"


class PlanCategory(StrEnum):
    """Child protection plan categories (the census codes)."""

    NEG = "NEG"
    PHY = "PHY"
    EMO = "EMO"
    SAB = "SAB"
    MUL = "MUL"

    @property
    def label(self) -> str:
        return _PLAN_LABELS[self]


_PLAN_LABELS = {
    PlanCategory.NEG: "Neglect",
    PlanCategory.PHY: "Physical abuse",
    PlanCategory.EMO: "Emotional abuse",
    PlanCategory.SAB: "Sexual abuse",
    PlanCategory.MUL: "Multiple categories",
}


class PersonKind(StrEnum):
    """The people on a case."""

    CHILD = "child"
    ADULT = "adult"
    NETWORK = "network"
    PROFESSIONAL = "professional"


class ConferenceKind(StrEnum):
    INITIAL = "initial"
    REVIEW = "review"
    TRANSFER_IN = "transfer_in"
    PRE_BIRTH = "pre_birth"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    ConferenceKind.INITIAL: "Initial (ICPC)",
    ConferenceKind.REVIEW: "Review (RCPC)",
    ConferenceKind.TRANSFER_IN: "Transfer-in",
    ConferenceKind.PRE_BIRTH: "Pre-birth",
}


class ConferenceModel(StrEnum):
    STANDARD = "standard"
    FAMILIES_FIRST = "families_first"

    @property
    def label(self) -> str:
        return "Families First" if self is ConferenceModel.FAMILIES_FIRST else "Standard"


class ConferenceStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class Attendance(StrEnum):
    NOT_RECORDED = "not_recorded"
    ATTENDED = "attended"
    APOLOGIES = "apologies"
    ABSENT = "absent"


class GPInvited(StrEnum):
    """Was the GP invited? The QA Unit's exact categories."""

    YES = "yes"
    BY_SW = "by_sw"
    NO = "no"

    @property
    def label(self) -> str:
        return _GP_INVITED_LABELS[self]


_GP_INVITED_LABELS = {
    GPInvited.YES: "Yes",
    GPInvited.BY_SW: "By SW (GP may not have been contacted)",
    GPInvited.NO: "No",
}


class GPOutcome(StrEnum):
    """What the GP did for the conference. The QA Unit's exact categories."""

    ABSENT = "absent"
    ATTENDED = "attended"
    PROVIDED_REPORT = "provided_report"
    SENT_APOLOGY = "sent_apology"
    LOG_NOT_COMPLETED = "log_not_completed"

    @property
    def label(self) -> str:
        return _GP_OUTCOME_LABELS[self]

    @property
    def involved(self) -> bool:
        """Attended and/or provided a report: the seed's measure of GP involvement."""
        return self in (GPOutcome.ATTENDED, GPOutcome.PROVIDED_REPORT)


_GP_OUTCOME_LABELS = {
    GPOutcome.ABSENT: "Absent",
    GPOutcome.ATTENDED: "Attended (& provided report)",
    GPOutcome.PROVIDED_REPORT: "Provided report",
    GPOutcome.SENT_APOLOGY: "Sent apology (no report)",
    GPOutcome.LOG_NOT_COMPLETED: "Log not completed",
}


class ShareMethod(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"
    PHONE = "phone"
    EMAIL = "email"
    POST = "post"


class QauReason(StrEnum):
    """Recorded reasons a report may go to the QA Unit without a parent-sharing record."""

    REDACTION_AGREED_WITH_CHAIR = "redaction_agreed_with_chair"
    PARENT_NOT_CONTACTABLE = "parent_not_contactable"
    PARENT_EXCLUDED = "parent_excluded"

    @property
    def label(self) -> str:
        return _QAU_REASON_LABELS[self]


_QAU_REASON_LABELS = {
    QauReason.REDACTION_AGREED_WITH_CHAIR: "Redaction agreed with the chair",
    QauReason.PARENT_NOT_CONTACTABLE: "Parent not contactable",
    QauReason.PARENT_EXCLUDED: "Parent excluded from the conference",
}


class ChildVoiceTool(StrEnum):
    THREE_HOUSES = "three_houses"
    SAFETY_HOUSE = "safety_house"
    WORDS_AND_PICTURES = "words_and_pictures"

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts a child fills in, in the order the tool presents them."""
        return _TOOL_PARTS[self]


_TOOL_PARTS: dict[ChildVoiceTool, tuple[str, ...]] = {
    ChildVoiceTool.THREE_HOUSES: ("worries", "good_things", "dreams"),
    ChildVoiceTool.SAFETY_HOUSE: ("inside", "outside", "roof", "path", "safety_rules"),
    ChildVoiceTool.WORDS_AND_PICTURES: ("story",),
}


class SyncState(StrEnum):
    """Where a local record stands against the service."""

    CLEAN = "clean"
    DIRTY = "dirty"
    CONFLICT = "conflict"
    HELD = "held"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
