"""What one pushed change does to the records (SYNC.md decisions; SYNC reference §2.4, §2.6, §2.7).

`decide` reads the push's state and returns a `Decision`: the outcome for the device and every
row it implies, without writing anything; the caller writes it (apply.py). In order:
case and scope (out of scope: stored, not applied), validation, the signed-off lock, the base
revision, then apply or conflict:
- prose and one-person records (entries, scores, ...) changed on two devices from one base
  are a hard conflict: both versions kept, the current one stays;
- small headers merge per field against the base revision: disjoint fields apply and leave a
  soft note (a conflict row stored already `resolved`, kind `soft`, so it is in the history
  and in the stream but never blocks a sign-off); the same field changed twice is hard;
- delete against a concurrent edit, either way round, is hard, and the record stays alive.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sofs_tui.domain.child_voice import CONSENT_FIELDS, recorded_by_sign_off
from sofs_tui.server.failpoints import failpoint
from sofs_tui.server.principal import Principal
from sofs_tui.server.push_state import ConflictState, PriorChange, PushState, RecordState, parent_id
from sofs_tui.server.scope import scope_for_new_case
from sofs_tui.server.sync_log import CONFLICT, GAIN, RECORD, LogRow
from sofs_tui.sync.entities import ENTITIES, field_problems
from sofs_tui.sync.protocol import SCHEMA_CURRENT, SCHEMA_MIN, Change, ChangeStatus, upcast

#: Records one person writes as a whole: never merged field by field.
PROSE = frozenset({"entry", "score", "child_voice", "report_share", "family_plan_item"})
#: Records frozen while their assessment is signed off (with the assessment itself).
UNDER_ASSESSMENT = frozenset({"entry", "score"})


@dataclass
class Work:
    """One change to decide: new from this batch, or held earlier and retried (`prior`)."""

    change: Change
    schema_version: int
    digest: str
    payload: str
    prior: PriorChange | None = None
    position: int = -1  # where it stands in the batch (-1: a held change retried)

    @property
    def change_id(self) -> str:
        return str(self.change.change_id)


@dataclass
class Decision:
    status: ChangeStatus
    reason: str = ""
    case_id: str | None = None
    rev: int | None = None
    current_rev: int | None = None
    conflict_id: str | None = None
    record: RecordState | None = None  # the record's new state, to write
    revision: dict[str, Any] | None = None  # the record_revision row, to insert
    new_scope: dict[str, Any] | None = None  # a case created by this change
    conflicts: list[ConflictState] = field(default_factory=list)  # new or resolved, to write
    logs: list[LogRow] = field(default_factory=list)
    record_log: int | None = None  # which of `logs` gives the result its seq

    def log(self, row: LogRow, *, is_record: bool = False) -> None:
        if is_record:
            self.record_log = len(self.logs)
        self.logs.append(row)


def held(reason: str, case_id: str | None = None) -> Decision:
    return Decision("held", reason, case_id)


def rejected(reason: str, case_id: str | None = None) -> Decision:
    return Decision("rejected", reason, case_id)


class Decider:
    def __init__(self, state: PushState, principal: Principal, now: datetime) -> None:
        self.state = state
        self.principal = principal
        self.now = now

    def decide(self, work: Work) -> Decision:
        change = work.change
        if change.id in self.state.blocked:
            return held("dependency", self.case_hint(change))
        if not SCHEMA_MIN <= work.schema_version <= SCHEMA_CURRENT:
            return held("schema", self.case_hint(change))
        failpoint("push.decide", change_id=work.change_id, record_id=change.id)
        fields = upcast(change, work.schema_version)
        current = self.state.record(change.id)
        if current is not None and current.entity != change.entity:
            return rejected("invalid", current.case_id)
        where = self._case(change, fields, current)
        if isinstance(where, Decision):
            return where
        case_id, new_case = where
        # A new case is its creator's (admins see no case data); any other must be in scope.
        allowed = not self.principal.is_admin if new_case else self.state.case_visible(case_id)
        if not allowed:
            return rejected("out_of_scope", case_id)
        if field_problems(change.entity, fields):
            return rejected("invalid", case_id)
        if current is None and change.op != "create":
            return held("dependency", case_id)  # its create is held or still to come
        refusal = self._refusal(change, fields, current, case_id)
        if refusal:
            return rejected(refusal, case_id)
        base = self._base(change)
        if isinstance(base, Decision):
            base.case_id = case_id
            return base
        decision = self._apply(work, fields, current, case_id, base)
        if new_case and decision.status == "applied":
            team_id, lead = scope_for_new_case(self.principal)
            reference = fields.get("reference")
            decision.new_scope = {
                "case_id": case_id,
                "reference": reference[:40] if isinstance(reference, str) else "",
                "team_id": team_id,
                "lead_user_id": lead,
            }
            decision.log(LogRow(GAIN, case_id, principal_user_id=self.principal.user_id))
        return decision

    # -- where the change belongs --------------------------------------------------------------

    def case_hint(self, change: Change) -> str | None:
        """The case a change is for, as far as the service can tell without deciding it: so a
        held change, even the create of a new record, is in its case's managers' queue. The
        record's case; else its parent's, or the case its create named; None when nothing says."""
        current = self.state.records.get(change.id)
        if current is not None:
            return current.case_id
        if change.entity == "case":
            return change.id if self.state.case_known(change.id) else None
        parent = parent_id(change.entity, dict(change.fields), None)
        if parent is None:  # an update or delete: its create says
            return self.state.case_of_unknown_record(change.id)
        spec = ENTITIES[change.entity].parent
        assert spec is not None
        if spec[1] == "case":
            return parent if self.state.case_known(parent) else None
        found = self.state.record(parent)
        return found.case_id if found is not None else self.state.case_of_unknown_record(parent)

    def _case(
        self, change: Change, fields: dict[str, Any], current: RecordState | None
    ) -> tuple[str, bool] | Decision:
        """(case id, whether this change creates the case), or the decision that ends here."""
        if change.entity == "case":
            known = self.state.case_known(change.id)
            if not known and change.op != "create":
                return rejected("unknown_record")
            return change.id, not known
        # A change may move a record between parents, never between cases: only a create's
        # parent, or a parent the change sets, needs looking up.
        parent = parent_id(change.entity, fields, None)
        parent_case = self._parent_case(change.entity, parent) if parent else None
        if current is not None:
            if isinstance(parent_case, Decision):
                return parent_case
            if parent and parent_case is None:
                return held("dependency", current.case_id)
            if parent and parent_case != current.case_id:
                return rejected("invalid", current.case_id)
            return current.case_id, False
        if change.op != "create":
            case_id = self.state.case_of_unknown_record(change.id)
            if case_id is None:
                return rejected("unknown_record")
            return case_id, False
        if parent is None:
            return rejected("invalid")  # a create must say where it hangs
        if isinstance(parent_case, Decision):
            return parent_case
        if parent_case is None:  # its parent is held or still to come
            return held("dependency", self.state.case_of_unknown_record(parent))
        return parent_case, False

    def _parent_case(self, entity: str, parent: str) -> str | Decision | None:
        spec = ENTITIES[entity]
        assert spec.parent is not None
        parent_entity = spec.parent[1]
        if parent_entity == "case":
            return parent if self.state.case_known(parent) else None
        found = self.state.record(parent)
        if found is None:
            return None
        if found.entity != parent_entity:
            return rejected("invalid", found.case_id)
        return found.case_id

    # -- refusals ------------------------------------------------------------------------------

    def _refusal(
        self, change: Change, fields: dict[str, Any], current: RecordState | None, case_id: str
    ) -> str | None:
        """`record_locked` for records of a signed-off assessment (unless a manager reopens
        it) and for the child's words it holds; `open_conflicts` for a sign-off while the
        assessment has unresolved conflicts."""
        if change.entity == "child_voice" and self._signed_off_words(change, fields, current):
            return "record_locked"
        assessment = self._assessment(change, fields, current)
        if assessment is not None and not assessment.deleted:
            final = assessment.data.get("status") == "final"
            reopening = (
                change.entity == "assessment"
                and fields.get("status") == "draft"
                and self.principal.is_manager
            )
            if final and not reopening:
                return "record_locked"
        signing_off = (
            change.entity == "assessment"
            and fields.get("status") == "final"
            and (current is None or current.data.get("status") != "final")
        )
        if signing_off and self._blocking_conflicts(change, case_id):
            return "open_conflicts"
        return None

    def _signed_off_words(
        self, change: Change, fields: dict[str, Any], current: RecordState | None
    ) -> bool:
        """The child's words are case records that a signed-off mapping holds (those first
        stored by its sign-off): changing or deleting them is refused, as the app refuses it
        (`store.mapping`), so a device that had not yet heard of the sign-off cannot change
        what was signed off. Consent may still change; words stored later stay editable; a
        manager's reopening lifts the lock."""
        if current is None or current.deleted:
            return False  # a new record: words recorded now are not part of any sign-off
        deleting = change.op == "delete" or fields.get("deleted") is True
        changed = {name for name, value in fields.items() if current.data.get(name) != value}
        if not deleting and changed <= CONSENT_FIELDS:
            return False
        signed = [
            _moment(assessment.data.get("signed_off_at"))
            for assessment in self.state.signed_off_assessments(current.case_id)
        ]
        if not signed:
            return False
        if None in signed:
            return True  # a sign-off with no time said: held as part of it, to be safe
        # When the words were first stored, as the app dates its own (by the author's clock);
        # else the day they were recorded on, as the app dates words from another device.
        made = self.state.made_at(current.id)
        recorded_on = _day(current.data.get("recorded_on"))
        return any(
            made <= moment if made is not None else recorded_by_sign_off(recorded_on, moment)
            for moment in signed
            if moment is not None
        )

    def _assessment(
        self, change: Change, fields: dict[str, Any], current: RecordState | None
    ) -> RecordState | None:
        if change.entity == "assessment":
            return current
        if change.entity not in UNDER_ASSESSMENT:
            return None
        assessment_id = parent_id(change.entity, fields, current)
        return self.state.record(assessment_id) if assessment_id else None

    def _blocking_conflicts(self, change: Change, case_id: str) -> bool:
        resolving = {str(c) for c in change.resolves}
        for conflict in self.state.open_conflicts(case_id):
            if conflict.kind != "hard" or conflict.id in resolving:
                continue
            if conflict.record_id == change.id:
                return True
            record = self.state.record(conflict.record_id)
            if record is not None and record.data.get("assessment_id") == change.id:
                return True
        return False

    # -- base revision ---------------------------------------------------------------------------

    def _base(self, change: Change) -> int | Decision | None:
        """The rev the change was made from: `base_rev`, or the rev its predecessor produced."""
        if change.base_change_id is None:
            return change.base_rev
        before = self.state.prior(str(change.base_change_id))
        if before is None or before.status != "applied":
            return held("dependency")
        if before.record_id != change.id:
            return rejected("invalid")
        rev = before.result.get("rev")
        return rev if isinstance(rev, int) else held("dependency")

    # -- apply or conflict -----------------------------------------------------------------------

    def _apply(
        self,
        work: Work,
        fields: dict[str, Any],
        current: RecordState | None,
        case_id: str,
        base: int | None,
    ) -> Decision:
        change = work.change
        deleting = change.op == "delete" or fields.get("deleted") is True
        values = {k: v for k, v in fields.items() if k != "deleted"}
        if current is None:
            created = RecordState(
                change.id, change.entity, case_id, 1, bool(fields.get("deleted")), values
            )
            return self._applied(work, created, "create", case_id)
        wanted_deleted = True if deleting else bool(fields.get("deleted", current.deleted))
        from_rev = base if base is not None else 0
        if from_rev == current.rev:
            kind = "resolve" if change.resolves else ("delete" if deleting else "update")
            return self._applied(
                work, _updated(current, values, wanted_deleted), kind, case_id, base=from_rev
            )
        unchanged = wanted_deleted == current.deleted and all(
            current.data.get(k) == v for k, v in values.items()
        )
        if unchanged and not change.resolves:
            # Both sides made the same change: nothing to keep apart, nothing to write.
            return Decision("applied", case_id=case_id, rev=current.rev)
        if change.entity in PROSE or deleting or current.deleted:
            return self._conflict(work, fields, current, case_id, base)
        base_fields = self.state.revision(current.id, from_rev)
        if base_fields is None:
            return self._conflict(work, fields, current, case_id, base)
        clashes = [
            name
            for name, value in values.items()
            if current.data.get(name) != base_fields.get(name) and current.data.get(name) != value
        ]
        if clashes:
            return self._conflict(work, fields, current, case_id, base)
        merged = self._applied(
            work, _updated(current, values, wanted_deleted), "merge", case_id, base=from_rev
        )
        note = self._new_conflict(work, fields, current, case_id, base, kind="soft")
        self._keep_conflict(merged, note.resolved("", self.now, work.change_id), work)
        return merged

    def _applied(
        self,
        work: Work,
        record: RecordState,
        kind: str,
        case_id: str,
        base: int | None = None,
    ) -> Decision:
        change = work.change
        decision = Decision("applied", case_id=case_id, rev=record.rev, record=record)
        decision.revision = self._revision(work, record, kind)
        decision.log(
            LogRow(RECORD, case_id, change.entity, change.id, change_id=work.change_id),
            is_record=True,
        )
        for conflict_id in change.resolves:
            conflict = self.state.conflict(str(conflict_id))
            if conflict is None or conflict.status != "open" or conflict.case_id != case_id:
                continue  # already resolved, or not this case's: nothing to do
            done = conflict.resolved(self.principal.username, self.now, work.change_id)
            self._keep_conflict(decision, done, work)
        return decision

    def _conflict(
        self,
        work: Work,
        fields: dict[str, Any],
        current: RecordState,
        case_id: str,
        base: int | None,
    ) -> Decision:
        conflict = self._new_conflict(work, fields, current, case_id, base, kind="hard")
        decision = Decision("conflict", case_id=case_id, current_rev=current.rev)
        decision.conflict_id = conflict.id
        deleting = work.change.op == "delete" or fields.get("deleted") is True
        if current.deleted and not deleting:
            # An edit met a delete: the record comes back so people can see and decide.
            alive = _updated(current, {}, False)
            decision.record = alive
            decision.revision = self._revision(work, alive, "revive")
            decision.current_rev = alive.rev
            decision.log(
                LogRow(RECORD, case_id, current.entity, current.id, change_id=work.change_id)
            )
        self._keep_conflict(decision, conflict, work)
        return decision

    def _new_conflict(
        self,
        work: Work,
        fields: dict[str, Any],
        current: RecordState,
        case_id: str,
        base: int | None,
        kind: str,
    ) -> ConflictState:
        change = work.change
        incoming = dict(fields)
        if change.op == "delete":
            incoming["deleted"] = True
        return ConflictState(
            id=str(uuid.uuid4()),
            entity=change.entity,
            record_id=change.id,
            case_id=case_id,
            kind=kind,
            status="open",
            base_rev=base,
            rev_at_detection=current.rev,
            incoming_change_id=work.change_id,
            incoming_op=change.op,
            incoming_fields=incoming,
            theirs=current.with_fields(),
            author=self.principal.username,
            device_id=self.state.device_id,
            client_time=change.client_time,
            detected_at=self.now,
        )

    def _keep_conflict(self, decision: Decision, conflict: ConflictState, work: Work) -> None:
        decision.conflicts.append(conflict)
        decision.log(
            LogRow(
                CONFLICT,
                conflict.case_id,
                conflict.entity,
                conflict.record_id,
                change_id=work.change_id,
                conflict_id=conflict.id,
            )
        )

    def _revision(self, work: Work, record: RecordState, kind: str) -> dict[str, Any]:
        return {
            "record_id": record.id,
            "rev": record.rev,
            "entity": record.entity,
            "data": record.data,
            "deleted": record.deleted,
            "change_id": work.change_id,
            "author": self.principal.username,
            "device_id": self.state.device_id,
            "client_time": work.change.client_time,
            "received_at": self.now,
            "kind": kind,
        }


def _updated(current: RecordState, values: dict[str, Any], deleted: bool) -> RecordState:
    return RecordState(
        current.id,
        current.entity,
        current.case_id,
        current.rev + 1,
        deleted,
        {**current.data, **values},
    )


def _day(value: Any) -> date | None:
    """A date as a record's JSON holds it ("2026-11-27"), else None."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _moment(value: Any) -> datetime | None:
    """A time as a record's JSON holds it (ISO 8601, UTC when no offset is said), else None."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
