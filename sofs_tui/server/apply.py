"""POST /sync/v1/push: store every change a device sends, apply what can be applied, and answer
for each one (SYNC.md "push"; SYNC reference §2.4).

One database transaction per batch, committed once. Inside it:
1. the device row is locked FOR UPDATE, so one device's pushes run one at a time on any worker;
2. a few batched reads: the changes already received (replays), the device's held changes (they
   are retried in device order with the batch), the records to change (locked, in id order),
   their parents, the case scopes and the conflicts named by `resolves`;
3. each change in `device_seq` order: a replay answers its stored result; the same change id
   with other content is refused (`idempotency_mismatch`) and the first payload is kept; a gap
   in `device_seq` holds the change (`gap`) until the missing one arrives, or until the device
   declares it will never send it (`skipped_seqs`: a change it keeps back, F22; a change that
   did arrive under that number always wins); otherwise `decide.py` says what it does. An
   exception while deciding holds that change (`processing`, payload kept), holds later
   changes to the same record (`dependency`), and the rest go on (F25);
4. the effects are written in bulk; then, last, the clock is bumped once for the whole batch and
   the change_log rows, the received changes with their results and the device's
   `last_device_seq` are written, and the transaction commits.

If a bulk write fails (a value the database refuses, a record created by another device at the
same moment) the transaction is rolled back and the batch runs again with a SAVEPOINT per
change, so only the offending change is held and its neighbours apply. The fast path writes a
100-change batch in about a dozen statements instead of several per change.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from sofs_tui.server import push_write, sync_log
from sofs_tui.server.decide import Decider, Decision, Work, held, rejected
from sofs_tui.server.failpoints import failpoint
from sofs_tui.server.principal import Principal
from sofs_tui.server.push_state import (
    DEVICE,
    PriorChange,
    PushState,
    dumps,
    parent_id,
)
from sofs_tui.server.sync_log import OUTCOME, LogRow
from sofs_tui.sync.entities import ENTITIES
from sofs_tui.sync.protocol import Change, ChangeResult, PushRequest, PushResponse

log = logging.getLogger(__name__)


class DeviceRefused(Exception):
    """The push names a device the caller may not push as (404 unknown, 403 revoked)."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class _WritesFailed(Exception):
    """The batch's bulk writes failed: run it again, a savepoint per change."""


def change_payload(change: Change) -> tuple[str, str]:
    """The change as stored (JSON, fields in name order) and its SHA-256: the idempotency
    fingerprint. `same_change` decides when fingerprints differ."""
    ordered = change.model_copy(update={"fields": dict(sorted(change.fields.items()))})
    payload = ordered.model_dump_json()
    return payload, hashlib.sha256(payload.encode()).hexdigest()


def same_change(stored: PriorChange, change: Change, digest: str) -> bool:
    """Whether a change resent under a known id is the one stored. Equal fingerprints say yes;
    otherwise the stored payload is compared as values, so a server upgrade that writes JSON a
    little differently never turns an honest retry into a refusal."""
    if stored.digest == digest:
        return True
    try:
        return Change.model_validate_json(stored.payload) == change
    except ValidationError:
        return False


def push(
    session: Session, principal: Principal, request: PushRequest, now: datetime
) -> PushResponse:
    """Store and apply one batch; commits. Raises DeviceRefused before touching anything."""
    try:
        response = _Push(session.connection(), principal, request, now, careful=False).run()
    except _WritesFailed:
        session.rollback()
        log.warning("push: bulk write failed; retrying batch %s change by change", request.batch_id)
        response = _Push(session.connection(), principal, request, now, careful=True).run()
    failpoint(
        "push.before_commit", connection=session.connection(), device_id=str(request.device_id)
    )
    session.commit()
    failpoint("push.after_commit", device_id=str(request.device_id))
    return response


class _Push:
    def __init__(
        self,
        connection: Connection,
        principal: Principal,
        request: PushRequest,
        now: datetime,
        *,
        careful: bool,
    ) -> None:
        self.connection = connection
        self.principal = principal
        self.request = request
        self.now = now
        self.careful = careful
        self.device_id = str(request.device_id)
        self.state = PushState(connection, principal, self.device_id)
        self.decider = Decider(self.state, principal, now)
        self.decided: list[tuple[Work, Decision]] = []
        self.replayed: set[int] = set()  # positions in the batch answered as replays
        self.mismatched: set[int] = set()
        self.skippable: set[int] = set()  # declared never-sent seqs no received change holds
        self.passed: list[int] = []  # those this push counted as passed

    def run(self) -> PushResponse:
        last_seq = self._lock_device()
        stream = self._load()
        self._skippable(last_seq)
        expected = self._past_skipped(last_seq + 1)
        handled: set[str] = set()
        for work in stream:
            change_id = work.change_id
            if work.prior is None:
                known = self.state.received.get(change_id)
                if known is not None:
                    if not same_change(known, work.change, work.digest):
                        self.mismatched.add(work.position)
                        log.warning("push: change %s resent with other content", change_id)
                        continue
                    self.replayed.add(work.position)
                    if known.status != "held" or change_id in handled:
                        continue
                    work = Work(
                        work.change, known.schema_version, known.digest, known.payload, known
                    )
            if change_id in handled:
                continue
            handled.add(change_id)
            decision, expected = self._in_sequence(work, expected)
            if decision is not None:
                self._remember(work, decision)
        if not self.careful:
            self._write_all([decision for _, decision in self.decided])
        last_seq = max(last_seq, expected - 1)
        if self.passed:
            log.info(
                "push: device %s never sends seqs %s (declared); passed over",
                self.device_id,
                _ranges(self.passed),
            )
        self._finish(last_seq)
        return PushResponse(
            batch_id=self.request.batch_id,
            device_id=self.request.device_id,
            server_time=self.now,
            last_device_seq=last_seq,
            results=[self._answer(n, c) for n, c in enumerate(self.request.changes)],
        )

    # -- reading -----------------------------------------------------------------------------

    def _lock_device(self) -> int:
        row = self.connection.execute(
            select(DEVICE).where(DEVICE.c.id == self.device_id).with_for_update()
        ).first()
        if row is None or row.user_id != self.principal.user_id:
            raise DeviceRefused(404, "unknown_device")
        if row.revoked:
            raise DeviceRefused(403, "device_revoked")
        if self.principal.device_id is not None and self.principal.device_id != self.device_id:
            raise DeviceRefused(403, "device_mismatch")
        return int(row.last_device_seq)

    def _load(self) -> list[Work]:
        """Batched reads; the batch and the retried held changes, in device order."""
        state, changes = self.state, self.request.changes
        wanted = {str(c.change_id) for c in changes}
        wanted |= {str(c.base_change_id) for c in changes if c.base_change_id}
        state.load_received(wanted)
        state.load_seq_owners(c.device_seq for c in changes)
        works = [
            Work(c, self.request.schema_version, digest, payload, position=n)
            for n, c in enumerate(changes)
            for payload, digest in [change_payload(c)]
        ]
        retried: list[Work] = []
        for prior in state.held_changes():
            try:
                change = Change.model_validate_json(prior.payload)
            except ValidationError:
                log.error("push: held change %s no longer parses; left held", prior.change_id)
                continue
            retried.append(Work(change, prior.schema_version, prior.digest, prior.payload, prior))
        everything = [w.change for w in works + retried]
        state.lock_records(c.id for c in everything)
        parents = {p for c in everything if (p := parent_id(c.entity, dict(c.fields), None))}
        parents |= {
            p
            for r in state.records.values()
            if r is not None and r.entity in ("entry", "score")
            if (p := parent_id(r.entity, {}, r))
        }
        state.load_records(parents)
        cases = {c.id for c in everything if c.entity == "case"}
        cases |= {r.case_id for r in state.records.values() if r is not None}
        for c in everything:
            spec = ENTITIES[c.entity].parent
            named = c.fields.get(spec[0]) if spec and spec[1] == "case" else None
            if isinstance(named, str):
                cases.add(named)
        state.load_scopes(cases)
        state.load_conflicts(str(i) for c in everything for i in c.resolves)
        order = {id(w): n for n, w in enumerate(retried + works)}
        return sorted(
            retried + works, key=lambda w: (w.change.device_seq, w.prior is None, order[id(w)])
        )

    def _skippable(self, last_seq: int) -> None:
        """The declared never-sent seqs that may be passed over: above the device's last seq
        and held by no change received, now or before (a change that arrived always wins)."""
        declared = {s for s in self.request.skipped_seqs if s > last_seq}
        if not declared:
            return
        declared -= {c.device_seq for c in self.request.changes}
        self.state.load_seq_owners(declared)
        self.skippable = declared - self.state.seq_owner.keys()

    def _past_skipped(self, expected: int) -> int:
        """`expected`, moved past the declared never-sent seqs it meets (F22)."""
        while expected in self.skippable:
            self.passed.append(expected)
            expected += 1
        return expected

    # -- deciding ----------------------------------------------------------------------------

    def _in_sequence(self, work: Work, expected: int) -> tuple[Decision | None, int]:
        """Device order first: reused seqs are refused, gaps wait; then decide."""
        seq, change_id = work.change.device_seq, work.change_id
        if work.prior is None:
            owner = self.state.seq_owner.get(seq)
            if owner is not None and owner != change_id:
                return rejected("seq_reused"), expected
            self.state.seq_owner[seq] = change_id
        if seq > expected:
            if work.prior is not None and work.prior.reason == "gap":
                return None, expected  # still waiting: nothing to write
            return held("gap"), expected
        if seq < expected:
            return self._decide(work), expected
        return self._decide(work), self._past_skipped(expected + 1)

    def _decide(self, work: Work) -> Decision:
        if not self.careful:
            return self._decide_safely(work)
        savepoint = self.connection.begin_nested()
        try:
            decision = self._decide_safely(work)
            self._write([decision])
            savepoint.commit()
        except DBAPIError as exc:
            savepoint.rollback()
            return self._poisoned(work, exc)
        self._written([decision])
        return decision

    def _decide_safely(self, work: Work) -> Decision:
        try:
            return self.decider.decide(work)
        except DBAPIError:
            if self.careful:
                raise
            raise _WritesFailed from None
        except Exception as exc:
            return self._poisoned(work, exc)

    def _poisoned(self, work: Work, exc: BaseException) -> Decision:
        # Frames only: an exception's message may quote record text (never logged, R18).
        frames = traceback.extract_tb(exc.__traceback__)
        where = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[-4:])
        log.error(
            "push: change %s held (processing): %s at %s", work.change_id, type(exc).__name__, where
        )
        return held("processing", self.decider.case_hint(work.change))

    def _remember(self, work: Work, decision: Decision) -> None:
        """Make the decision visible to the changes after it in this push."""
        state, change = self.state, work.change
        if decision.record is not None:
            record = decision.record
            state.records[record.id] = record
            state.revisions[(record.id, record.rev)] = record.with_fields()
        if decision.new_scope is not None:
            state.scopes[decision.new_scope["case_id"]] = True
        for conflict in decision.conflicts:
            state.put_conflict(conflict)
        if decision.status == "held":
            state.blocked.add(change.id)
        prior = work.prior
        # A retried change still where it was keeps its stored result: `_finish` writes
        # nothing new for it, and a replay of it in this batch answers that result.
        unchanged = prior is not None and (prior.status, prior.reason) == (
            decision.status,
            decision.reason,
        )
        state.received[work.change_id] = PriorChange(
            change_id=work.change_id,
            device_id=self.device_id,
            device_seq=change.device_seq,
            user_id=prior.user_id if prior else self.principal.user_id,
            record_id=change.id,
            case_id=decision.case_id,
            payload=work.payload,
            digest=work.digest,
            schema_version=work.schema_version,
            status=decision.status,
            reason=decision.reason,
            result=prior.result if prior is not None and unchanged else {"rev": decision.rev},
        )
        self.decided.append((work, decision))

    # -- writing -----------------------------------------------------------------------------

    def _write_all(self, decisions: list[Decision]) -> None:
        try:
            self._write(decisions)
        except DBAPIError:
            raise _WritesFailed from None
        self._written(decisions)

    def _write(self, decisions: list[Decision]) -> None:
        push_write.write_effects(
            self.connection, self.state, decisions, self.now, self.principal.username
        )

    def _written(self, decisions: list[Decision]) -> None:
        """Rows now in the tables (only once their writes succeeded): later writes update."""
        self.state.in_db.update(d.record.id for d in decisions if d.record is not None)
        self.state.conflicts_in_db.update(c.id for d in decisions for c in d.conflicts)

    def _finish(self, last_seq: int) -> None:
        """The clock, the stream, the results and the device: the batch's last statements."""
        changed: list[tuple[Work, Decision]] = []
        for work, decision in self.decided:
            prior = work.prior
            if prior is not None:
                if (prior.status, prior.reason) == (decision.status, decision.reason):
                    continue  # retried and still waiting: nothing new to say
                decision.log(
                    LogRow(
                        OUTCOME,
                        decision.case_id or "",
                        work.change.entity,
                        work.change.id,
                        principal_user_id=prior.user_id,
                        change_id=work.change_id,
                    )
                )
            changed.append((work, decision))
        failpoint("push.before_clock", connection=self.connection, device_id=self.device_id)
        seqs = iter(sync_log.append(self.connection, [r for _, d in changed for r in d.logs]))
        new_rows, updated_rows = [], []
        for work, decision in changed:
            numbered = [next(seqs) for _ in decision.logs]
            seq = numbered[decision.record_log] if decision.record_log is not None else None
            result = {  # ChangeResult's fields, as stored and replayed
                "change_id": work.change_id,
                "status": decision.status,
                "rev": decision.rev,
                "seq": seq,
                "conflict_id": decision.conflict_id,
                "current_rev": decision.current_rev,
                "reason": decision.reason or None,
            }
            self.state.received[work.change_id].result = result
            if work.prior is None:
                new_rows.append(self._received_row(work, decision, result))
            else:
                updated_rows.append(
                    {"b_id": work.change_id, "b_status": decision.status,
                     "b_reason": decision.reason, "b_result": dumps(result),
                     "b_case": decision.case_id}
                )  # fmt: skip
        push_write.store_results(self.connection, new_rows, updated_rows)
        self.connection.execute(
            update(DEVICE)
            .where(DEVICE.c.id == self.device_id)
            .values(last_device_seq=last_seq, last_seen_at=self.now)
        )

    def _received_row(
        self, work: Work, decision: Decision, result: dict[str, Any]
    ) -> dict[str, Any]:
        change = work.change
        return {
            "change_id": work.change_id,
            "device_id": self.device_id,
            "device_seq": change.device_seq,
            "user_id": self.principal.user_id,
            "entity": change.entity,
            "record_id": change.id,
            "case_id": decision.case_id,
            "payload": work.payload,
            "payload_sha256": work.digest,
            "schema_version": work.schema_version,
            "received_at": self.now,
            "status": decision.status,
            "reason": decision.reason,
            "result": dumps(result),
        }

    def _answer(self, position: int, change: Change) -> ChangeResult:
        if position in self.mismatched:
            return ChangeResult(
                change_id=change.change_id, status="rejected", reason="idempotency_mismatch"
            )
        stored = self.state.received[str(change.change_id)].result
        return ChangeResult.model_validate({**stored, "replayed": position in self.replayed})


def _ranges(seqs: list[int]) -> str:
    """Sorted seqs for a log line, runs shortened: "3, 7-9"."""
    runs: list[list[int]] = []
    for seq in sorted(seqs):
        if runs and seq == runs[-1][-1] + 1:
            runs[-1].append(seq)
        else:
            runs.append([seq])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
