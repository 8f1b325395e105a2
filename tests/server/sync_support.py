"""Builders for the sync tests: the real app in process, people and devices inserted directly,
and changes shaped as a device's outbox sends them.

Authentication is replaced by `dependency_overrides[require_principal]`, so these tests are
about sync, not tokens: `harness.as_(actor)` decides who the next request comes from.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from sofs_tui.server.app import create_app
from sofs_tui.server.auth import require_principal
from sofs_tui.server.db import CaseScope, Device, Team, TeamManager, User
from sofs_tui.server.principal import Principal
from sofs_tui.server.settings import ServerSettings
from sofs_tui.sync.protocol import SCHEMA_CURRENT, ChangeResult, PullResponse, PushResponse

NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


@dataclass
class Actor:
    """A person on one laptop: who they are to the server and their device's counter."""

    principal: Principal
    device_id: str
    seq: int = 0

    @property
    def user_id(self) -> str:
        return self.principal.user_id


@dataclass
class Harness:
    app: Any
    client: TestClient
    current: list[Principal | None] = field(default_factory=lambda: [None])

    @property
    def engine(self) -> Any:
        return self.app.state.engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def close(self) -> None:
        """Give the database connections back (PostgreSQL allows only so many)."""
        self.client.close()
        self.engine.dispose()

    # -- people and cases -------------------------------------------------------------------

    def team(self, name: str | None = None) -> str:
        team_id = str(uuid.uuid4())
        with self.session() as session:
            session.add(Team(id=team_id, name=name or f"team-{team_id[:8]}"))
            session.commit()
        return team_id

    def user(
        self, team_id: str | None, role: str = "worker", manages: tuple[str, ...] = ()
    ) -> Principal:
        user_id = str(uuid.uuid4())
        username = f"{role}-{user_id[:8]}"
        with self.session() as session:
            session.add(
                User(
                    id=user_id,
                    username=username,
                    password_hash="-",
                    role=role,
                    team_id=team_id,
                    created_at=NOW,
                )
            )
            session.flush()
            for managed in manages:
                session.add(TeamManager(user_id=user_id, team_id=managed))
            session.commit()
        return Principal(user_id, username, role, team_id, None, frozenset(manages))

    def actor(self, team_id: str | None, role: str = "worker", **kwargs: Any) -> Actor:
        """A user with one registered device."""
        principal = self.user(team_id, role, **kwargs)
        return Actor(principal, self.device(principal))

    def device(self, principal: Principal, revoked: bool = False) -> str:
        device_id = str(uuid.uuid4())
        with self.session() as session:
            session.add(
                Device(id=device_id, user_id=principal.user_id, registered_at=NOW, revoked=revoked)
            )
            session.commit()
        return device_id

    def case(self, team_id: str | None, lead: Actor | None = None) -> str:
        """A case assigned by an admin (scope only; its records come through sync)."""
        case_id = str(uuid.uuid4())
        with self.session() as session:
            session.add(
                CaseScope(
                    case_id=case_id,
                    reference=f"C-{case_id[:6]}",
                    team_id=team_id,
                    lead_user_id=lead.user_id if lead else None,
                )
            )
            session.commit()
        return case_id

    # -- requests ---------------------------------------------------------------------------

    def as_(self, who: Actor | Principal) -> Harness:
        self.current[0] = who.principal if isinstance(who, Actor) else who
        return self

    def push_raw(
        self, actor: Actor, changes: list[dict[str, Any]], schema_version: int = SCHEMA_CURRENT
    ) -> Any:
        self.as_(actor)
        body = {
            "device_id": actor.device_id,
            "batch_id": str(uuid.uuid4()),
            "schema_version": schema_version,
            "changes": changes,
        }
        return self.client.post("/sync/v1/push", json=body)

    def push(
        self, actor: Actor, *changes: dict[str, Any], schema: int = SCHEMA_CURRENT
    ) -> PushResponse:
        response = self.push_raw(actor, list(changes), schema)
        assert response.status_code == 200, response.text
        return PushResponse.model_validate_json(response.text)

    def push_one(self, actor: Actor, change: dict[str, Any], **kwargs: Any) -> ChangeResult:
        return self.push(actor, change, **kwargs).results[0]

    def pull(
        self, actor: Actor, cursor: str | None = None, limit: int | None = None
    ) -> PullResponse:
        self.as_(actor)
        params: dict[str, Any] = {}
        if cursor is not None:
            params["cursor"] = cursor
        if limit is not None:
            params["limit"] = limit
        response = self.client.get("/sync/v1/changes", params=params)
        assert response.status_code == 200, response.text
        return PullResponse.model_validate_json(response.text)

    def pull_all(
        self, actor: Actor, cursor: str | None = None, limit: int | None = None
    ) -> tuple[list[Any], str]:
        """Every page until `has_more` is false: (items, the cursor to keep)."""
        items: list[Any] = []
        while True:
            page = self.pull(actor, cursor, limit)
            items.extend(page.items)
            cursor = page.next_cursor
            if not page.has_more:
                return items, cursor

    def count(self, table: Any, **where: Any) -> int:
        with self.session() as session:
            query = select(func.count()).select_from(table)
            for name, value in where.items():
                query = query.where(getattr(table, name) == value)
            return int(session.execute(query).scalar_one())


def make_harness(database_url: str, tmp_path: Path) -> Harness:
    settings = ServerSettings(data_dir=tmp_path, database_url=database_url)
    app = create_app(settings)
    harness = Harness(app, TestClient(app))
    app.dependency_overrides[require_principal] = lambda: harness.current[0]
    return harness


def sha(entity: str, record_id: str, op: str, fields: dict[str, Any]) -> str:
    """The client's payload fingerprint (store/changes.py); the server only compares it."""
    canonical = json.dumps(
        {"entity": entity, "record_id": record_id, "op": op, "fields": fields},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def change(
    actor: Actor,
    entity: str,
    record_id: str,
    op: str = "update",
    fields: dict[str, Any] | None = None,
    *,
    base_rev: int | None = None,
    base_change_id: str | None = None,
    resolves: tuple[str, ...] = (),
    seq: int | None = None,
) -> dict[str, Any]:
    """One outbox row as JSON, taking the actor's next device_seq (or `seq`)."""
    if seq is None:
        actor.seq += 1
        seq = actor.seq
    body = dict(fields or {})
    return {
        "change_id": str(uuid.uuid4()),
        "device_seq": seq,
        "entity": entity,
        "id": record_id,
        "op": op,
        "base_rev": base_rev,
        "base_change_id": base_change_id,
        "fields": body,
        "resolves": list(resolves),
        "client_time": NOW.isoformat(),
        "payload_sha256": sha(entity, record_id, op, body),
    }


def new_id() -> str:
    return str(uuid.uuid4())


# -- record fields, as a laptop's create sends them ----------------------------------------


def case_fields(**extra: Any) -> dict[str, Any]:
    return {
        "reference": "C-100", "family_name": "Family", "lead_worker": "", "team": "",
        "status": "open", "opened_on": "2025-01-06", "closed_on": None, "deleted": False,
    } | extra  # fmt: skip


def assessment_fields(case_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "case_id": case_id, "title": "Assessment", "status": "draft", "zero_wording": "",
        "ten_wording": "", "signed_off_by": "", "signed_off_at": None, "reopened_by": "",
        "reopened_at": None, "reopen_reason": "", "deleted": False,
    } | extra  # fmt: skip


def entry_fields(
    assessment_id: str, text: str = "Dad shouts at night.", **extra: Any
) -> dict[str, Any]:
    return {
        "assessment_id": assessment_id, "section": "harm", "text": text, "source": "",
        "agreement": "not_asked", "disputed_by": "", "position": "a0", "goal_for_id": None,
        "audience": "undecided", "deleted": False,
    } | extra  # fmt: skip


def person_fields(case_id: str, name: str = "Sam", **extra: Any) -> dict[str, Any]:
    return {
        "case_id": case_id, "kind": "child", "name": name, "relationship": "",
        "date_of_birth": None, "expected_on": None, "parental_responsibility": False,
        "plan_category_initial": None, "plan_category_latest": None, "plan_start": None,
        "plan_end": None, "role": "", "agency": "", "is_gp": False, "gp_practice": "",
        "deleted": False,
    } | extra  # fmt: skip


@dataclass
class Workspace:
    """A team with two workers (each with a laptop), a manager, one case and its assessment."""

    team_id: str
    alice: Actor
    bob: Actor
    manager: Actor
    case_id: str
    assessment_id: str


def workspace(harness: Harness) -> Workspace:
    team_id = harness.team()
    alice = harness.actor(team_id)
    bob = harness.actor(team_id)
    manager = harness.actor(team_id, "manager", manages=(team_id,))
    case_id = harness.case(team_id, lead=alice)
    assessment_id = new_id()
    result = harness.push_one(
        alice, change(alice, "assessment", assessment_id, "create", assessment_fields(case_id))
    )
    assert result.status == "applied", result
    return Workspace(team_id, alice, bob, manager, case_id, assessment_id)
