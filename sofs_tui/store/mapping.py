"""Units of work for an assessment: entries, pairing, scores, the child's words, sign-off."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.child_voice import CONSENT_FIELDS, check_part
from sofs_tui.domain.enums import (
    Agreement,
    AssessmentStatus,
    Audience,
    ChildVoiceTool,
    Section,
    SyncState,
)
from sofs_tui.domain.mapping import PairingError, check_pairing, completeness
from sofs_tui.domain.positions import position_between, sort_key
from sofs_tui.domain.scaling import DEFAULT_SCALE_WORDING, ScaleWording, check_score
from sofs_tui.domain.text import clean_text
from sofs_tui.domain.when import describe_day
from sofs_tui.store import changes
from sofs_tui.store.errors import StoreError
from sofs_tui.store.mapping_views import (
    created_here,
    part_of_sign_off,
    signed_off_mappings,
)
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Assessment, Case, ChildVoice, Entry, Person, Score


class AssessmentSignedOff(StoreError):
    def __init__(self) -> None:
        super().__init__(
            "This assessment is signed off and read-only. Ask a manager to reopen it, or "
            "start a new version."
        )


class MappingRuleError(StoreError):
    """A practice rule refused the change; the message says which and what to do."""


class VoiceSignedOff(MappingRuleError):
    """The child's words are part of a signed-off mapping: they stay as they were signed off."""

    def __init__(self, signed_off_at: datetime) -> None:
        day = describe_day(signed_off_at.astimezone(COUNCIL_TZ).date())
        super().__init__(
            f"This was part of the mapping signed off on {day}; add a new entry instead, "
            "or reopen that mapping."
        )


def _editable(session: Session, assessment_id: str) -> Assessment:
    assessment = changes.get(session, Assessment, assessment_id, "assessment")
    if assessment.status is AssessmentStatus.FINAL:
        raise AssessmentSignedOff()
    return assessment


def _section_entries(session: Session, assessment_id: str, section: Section) -> list[Entry]:
    rows = session.exec(
        select(Entry).where(
            Entry.assessment_id == assessment_id,
            Entry.section == section,
            col(Entry.deleted).is_(False),
        )
    ).all()
    return sorted(rows, key=lambda e: sort_key(e.position, e.id))


def create_assessment(
    store: Store, case_id: str, *, title: str, wording: ScaleWording = DEFAULT_SCALE_WORDING
) -> Assessment:
    with store.write() as session:
        changes.get(session, Case, case_id, "case")
        assessment = Assessment(
            id="",
            case_id=case_id,
            title=title.strip() or "Mapping",
            zero_wording=wording.zero,
            ten_wording=wording.ten,
        )
        return changes.create(session, store, assessment)


def save_entry(
    store: Store,
    assessment_id: str,
    *,
    text: str,
    section: Section | None = None,
    entry_id: str | None = None,
    source: str | None = None,
    agreement: Agreement | None = None,
    disputed_by: str | None = None,
    audience: Audience | None = None,
    expected_text: str | None = None,
) -> Entry:
    """Add an entry at the end of its section, or save changes to an existing one.

    `expected_text` is the text the editor started from. If the stored text has changed since
    (a sync brought another worker's version), the new words are NOT written over it: they are
    saved as a new entry just after it, and that entry is returned (its id differs from
    `entry_id`), so both versions stay for a person to compare. Returns after the commit: only
    then may the screen say "Saved".
    """
    with store.write() as session:
        _editable(session, assessment_id)
        if entry_id is None:
            if section is None:
                raise MappingRuleError("Choose the section this entry belongs in.")
            siblings = _section_entries(session, assessment_id, section)
            entry = Entry(
                id="",
                assessment_id=assessment_id,
                section=section,
                text=text,
                source=source or "",
                agreement=agreement or Agreement.NOT_ASKED,
                disputed_by=disputed_by or "",
                audience=audience or Audience.UNDECIDED,
                position=position_between(siblings[-1].position if siblings else None, None),
            )
            return changes.create(session, store, entry)
        entry = changes.get(session, Entry, entry_id, "entry")
        if entry.assessment_id != assessment_id:
            raise MappingRuleError("That entry belongs to another assessment.")
        if (
            expected_text is not None
            and entry.text != expected_text
            and entry.text != clean_text(text)
        ):
            return _save_beside(
                session, store, entry, text, source, agreement, disputed_by, audience
            )
        edits: dict[str, Any] = {"text": text}
        for name, value in (
            ("section", section),
            ("source", source),
            ("agreement", agreement),
            ("disputed_by", disputed_by),
            ("audience", audience),
        ):
            if value is not None:
                edits[name] = value
        if section is not None and section is not entry.section:
            siblings = _section_entries(session, assessment_id, section)
            edits["position"] = position_between(siblings[-1].position if siblings else None, None)
            if entry.section is Section.SAFETY_GOAL:
                edits["goal_for_id"] = None
            if entry.section is Section.DANGER_STATEMENT:
                _unpair_goals_of(session, store, entry.id)
        changes.update(session, store, entry, **edits)
        return entry


def _save_beside(
    session: Session,
    store: Store,
    original: Entry,
    text: str,
    source: str | None,
    agreement: Agreement | None,
    disputed_by: str | None,
    audience: Audience | None,
) -> Entry:
    """Keep both: the worker's words as a new entry right after the one changed elsewhere."""
    siblings = _section_entries(session, original.assessment_id, original.section)
    index = next(i for i, e in enumerate(siblings) if e.id == original.id)
    after = siblings[index + 1].position if index + 1 < len(siblings) else None
    beside = Entry(
        id="",
        assessment_id=original.assessment_id,
        section=original.section,
        text=text,
        source=original.source if source is None else source,
        agreement=agreement or original.agreement,
        disputed_by=original.disputed_by if disputed_by is None else disputed_by,
        audience=audience or original.audience,
        position=position_between(original.position, after),
    )
    return changes.create(session, store, beside)


def move_entry(store: Store, entry_id: str, *, offset: int) -> Entry:
    """Move an entry up (offset < 0) or down (offset > 0) within its section."""
    with store.write() as session:
        entry = changes.get(session, Entry, entry_id, "entry")
        _editable(session, entry.assessment_id)
        siblings = _section_entries(session, entry.assessment_id, entry.section)
        index = next(i for i, e in enumerate(siblings) if e.id == entry.id)
        others = [e for e in siblings if e.id != entry.id]
        target = max(0, min(len(others), index + offset))
        before = others[target - 1].position if target > 0 else None
        after = others[target].position if target < len(others) else None
        if target != index:
            changes.update(session, store, entry, position=position_between(before, after))
        return entry


def delete_entry(store: Store, entry_id: str) -> None:
    with store.write() as session:
        entry = changes.get(session, Entry, entry_id, "entry")
        _editable(session, entry.assessment_id)
        if entry.section is Section.DANGER_STATEMENT:
            _unpair_goals_of(session, store, entry.id)
        changes.tombstone(session, store, entry)


def _unpair_goals_of(session: Session, store: Store, danger_id: str) -> None:
    goals = session.exec(
        select(Entry).where(Entry.goal_for_id == danger_id, col(Entry.deleted).is_(False))
    ).all()
    for goal in goals:
        changes.update(session, store, goal, goal_for_id=None)


def pair_safety_goal(store: Store, danger_id: str, goal_id: str | None) -> None:
    """Pair a danger statement with its safety goal (one to one); `None` unpairs it."""
    with store.write() as session:
        danger = changes.get(session, Entry, danger_id, "danger statement")
        _editable(session, danger.assessment_id)
        if goal_id is None:
            _unpair_goals_of(session, store, danger_id)
            return
        goal = changes.get(session, Entry, goal_id, "safety goal")
        if goal.assessment_id != danger.assessment_id:
            raise MappingRuleError(
                "A safety goal can only answer a danger statement in its own mapping."
            )
        goals = _section_entries(session, danger.assessment_id, Section.SAFETY_GOAL)
        try:
            check_pairing(danger, goal, goals)
        except PairingError as exc:
            raise MappingRuleError(str(exc)) from exc
        changes.update(session, store, goal, goal_for_id=danger.id)


def record_score(
    store: Store,
    assessment_id: str,
    *,
    scorer_name: str,
    value: int,
    rationale: str,
    danger_statement_id: str | None = None,
    scorer_role: str = "",
    scored_on: date | None = None,
    score_id: str | None = None,
) -> Score:
    """One person's 0–10 judgement with the wording of 0 and 10 in force when they gave it."""
    try:
        check_score(value, rationale, scorer_name)
    except ValueError as exc:
        raise MappingRuleError(str(exc)) from exc
    with store.write() as session:
        assessment = _editable(session, assessment_id)
        if danger_statement_id is not None:
            danger = changes.get(session, Entry, danger_statement_id, "danger statement")
            if (
                danger.section is not Section.DANGER_STATEMENT
                or danger.assessment_id != assessment_id
            ):
                raise MappingRuleError(
                    "A score can only be for a danger statement of this mapping."
                )
        fields: dict[str, Any] = {
            "scorer_name": scorer_name.strip(),
            "scorer_role": scorer_role,
            "value": value,
            "rationale": rationale,
            "danger_statement_id": danger_statement_id,
            "scored_on": scored_on or store.now().date(),
        }
        if score_id is not None:
            score = changes.get(session, Score, score_id, "score")
            changes.update(session, store, score, **fields)
            return score
        score = Score(
            id="",
            assessment_id=assessment_id,
            zero_wording=assessment.zero_wording,
            ten_wording=assessment.ten_wording,
            **fields,
        )
        return changes.create(session, store, score)


def delete_score(store: Store, score_id: str) -> None:
    with store.write() as session:
        score = changes.get(session, Score, score_id, "score")
        _editable(session, score.assessment_id)
        changes.tombstone(session, store, score)


def record_child_voice(
    store: Store,
    case_id: str,
    *,
    child_id: str,
    tool: ChildVoiceTool,
    part: str,
    text: str,
    written_by: str,
    recorded_on: date | None = None,
    consent_to_share: bool = False,
    consent_note: str = "",
    voice_id: str | None = None,
) -> ChildVoice:
    """The child's own words, verbatim, for one part of a tool, with consent to share."""
    try:
        check_part(tool, part)
    except ValueError as exc:
        raise MappingRuleError(str(exc)) from exc
    with store.write() as session:
        child = changes.get(session, Person, child_id, "child")
        if child.case_id != case_id:
            raise MappingRuleError("That child is not on this case.")
        fields: dict[str, Any] = {
            "tool": tool,
            "part": part,
            "text": text,
            "written_by": written_by,
            "recorded_on": recorded_on or store.now().date(),
            "consent_to_share": consent_to_share,
            "consent_note": consent_note,
        }
        if voice_id is not None:
            voice = changes.get(session, ChildVoice, voice_id, "child's words")
            if voice.case_id != case_id:
                raise MappingRuleError("Those words belong to another case.")
            fields["child_id"] = child_id
            _check_voice_editable(session, voice, fields)
            changes.update(session, store, voice, **fields)
            return voice
        voice = ChildVoice(id="", case_id=case_id, child_id=child_id, **fields)
        return changes.create(session, store, voice)


def delete_child_voice(store: Store, voice_id: str) -> None:
    """Remove one part of the child's words (a tombstone that sync carries)."""
    with store.write() as session:
        voice = changes.get(session, ChildVoice, voice_id, "child's words")
        _check_voice_editable(session, voice, None)
        changes.tombstone(session, store, voice)


def _check_voice_editable(
    session: Session, voice: ChildVoice, fields: dict[str, Any] | None
) -> None:
    """Refuse to delete (`fields` None) or change the child's words once a signed-off mapping
    of the case holds them; changing only the consent stays allowed."""
    here = voice.id in created_here(session, [voice.id])
    signed = part_of_sign_off(voice, signed_off_mappings(session, voice.case_id), here=here)
    if signed is None:
        return
    if fields is not None:
        changed = {
            name
            for name, value in fields.items()
            if getattr(voice, name) != _cleaned(voice, name, value)
        }
        if changed <= CONSENT_FIELDS:
            return
    raise VoiceSignedOff(signed)


def _cleaned(voice: ChildVoice, name: str, value: Any) -> Any:
    """A value as the store would keep it (text cleaned), to compare with the stored one."""
    if name == "text":
        return clean_text(value, multiline=True)
    if name in ("written_by", "part") and isinstance(value, str):
        return clean_text(value, multiline=False)
    return value


def sign_off_assessment(store: Store, assessment_id: str) -> Assessment:
    """Make the mapping final and read-only, once it is complete and has no open conflicts."""
    with store.write() as session:
        assessment = _editable(session, assessment_id)
        entries = session.exec(select(Entry).where(Entry.assessment_id == assessment_id)).all()
        scores = session.exec(select(Score).where(Score.assessment_id == assessment_id)).all()
        if any(r.sync_state is SyncState.CONFLICT for r in [assessment, *entries, *scores]):
            raise MappingRuleError(
                "This assessment has open sync conflicts. Resolve them before signing off."
            )
        status = completeness(entries, scores)
        if not status.complete:
            raise MappingRuleError("Not ready to sign off: " + " ".join(status.problems()))
        changes.update(
            session,
            store,
            assessment,
            status=AssessmentStatus.FINAL,
            signed_off_by=store.actor.username,
            signed_off_at=store.now(),
        )
        return assessment


def reopen_assessment(store: Store, assessment_id: str, *, reason: str) -> Assessment:
    """A manager reopens a signed-off mapping; who, when and why are recorded."""
    if not store.actor.is_manager:
        raise MappingRuleError("Only a manager can reopen a signed-off assessment.")
    if not reason.strip():
        raise MappingRuleError("Say why the assessment is being reopened.")
    with store.write() as session:
        assessment = changes.get(session, Assessment, assessment_id, "assessment")
        if assessment.status is not AssessmentStatus.FINAL:
            raise MappingRuleError("This assessment is not signed off.")
        changes.update(
            session,
            store,
            assessment,
            status=AssessmentStatus.DRAFT,
            reopened_by=store.actor.username,
            reopened_at=store.now(),
            reopen_reason=reason,
        )
        return assessment
