"""R30: object-level authorisation, as a matrix built from the service's own OpenAPI schema.

Two teams push real cases through /sync/v1/push. Then every operation whose path takes an id
is called by a team-B worker with team A's ids (404 or 403, and none of A's words in the body),
and by A's own worker (2xx, so the ids are real and the 404 means "not yours", not "no such
thing"). The operations come from `app.openapi()`, so an endpoint added later with an id in its
path joins the matrix by itself, and a path parameter the matrix cannot fill fails the test
until someone says which team-A value it takes.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from sqlmodel import select

from sofs_tui.server import admin
from sofs_tui.server.db import Record
from tests.conftest import FakeClock
from tests.server.test_auth import (
    ADMIN,
    _close_apps,  # noqa: F401 (autouse: closes the pools)
    add_team,
    add_user,
    bearer,
    db,
    make_app,
    tokens,
)

SENTINEL = {"A": "SENTINEL-TEAM-A-words", "B": "SENTINEL-TEAM-B-words"}
METHODS = ("get", "put", "post", "patch", "delete")


@dataclass
class Member:
    username: str
    token: str = ""
    device_id: str = ""
    next_seq: int = 1

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@dataclass
class World:
    app: FastAPI
    client: TestClient
    people: dict[str, Member]
    case: dict[str, str] = field(default_factory=dict)  # team -> case id
    entry: dict[str, str] = field(default_factory=dict)  # team -> an entry's id
    change: dict[str, str] = field(default_factory=dict)  # team -> a change id its worker sent

    def team_a_value(self, parameter: str) -> str:
        """Team A's id for a path parameter, by its name."""
        values = {
            "device_id": self.people["wa"].device_id,
            "change_id": self.change["A"],
            "entity": "entry",
            "record_id": self.entry["A"],
            "id": self.entry["A"],
            "case_id": self.case["A"],
        }
        if parameter not in values:
            pytest.fail(
                f"The authorisation matrix has no team-A value for the path parameter "
                f"{parameter!r}: add one to World.team_a_value so the new endpoint is checked."
            )
        return values[parameter]


ChangeSpec = tuple[str, str, str, int | None, dict[str, Any]]


def push(world: World, who: str, *changes: ChangeSpec) -> list[dict[str, Any]]:
    """Push (entity, id, op, base_rev, fields) changes as `who`; the per-change results."""
    member = world.people[who]
    body_changes = []
    for entity, record_id, op, base_rev, fields in changes:
        digest = hashlib.sha256(json.dumps([entity, record_id, op, fields]).encode()).hexdigest()
        body_changes.append(
            {
                "change_id": str(uuid.uuid4()),
                "device_seq": member.next_seq,
                "entity": entity,
                "id": record_id,
                "op": op,
                "base_rev": base_rev,
                "fields": fields,
                "client_time": datetime(2026, 11, 25, 9, 0, tzinfo=UTC).isoformat(),
                "payload_sha256": digest,
            }
        )
        member.next_seq += 1
    response = world.client.post(
        "/sync/v1/push",
        json={
            "device_id": member.device_id,
            "batch_id": str(uuid.uuid4()),
            "schema_version": 2,
            "changes": body_changes,
        },
        headers=member.headers,
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    for sent, result in zip(body_changes, results, strict=True):
        result["sent_change_id"] = sent["change_id"]
    return results


def seed_case(world: World, team: str, worker: str) -> None:
    """A case with an assessment and an entry, every text carrying the team's sentinel."""
    case_id, assessment_id, entry_id = (str(uuid.uuid4()) for _ in range(3))
    words = SENTINEL[team]
    results = push(
        world,
        worker,
        ("case", case_id, "create", None, {"reference": f"CP-{team}", "family_name": words}),
        ("assessment", assessment_id, "create", None, {"case_id": case_id, "title": words}),
        (
            "entry",
            entry_id,
            "create",
            None,
            {"assessment_id": assessment_id, "section": "harm", "text": words, "position": "a0"},
        ),
    )
    assert [r["status"] for r in results] == ["applied"] * 3, results
    world.case[team], world.entry[team] = case_id, entry_id
    world.change[team] = results[2]["sent_change_id"]


@pytest.fixture
def world(database_url: str, tmp_path: Path, clock: FakeClock) -> World:
    app = make_app(database_url, tmp_path, clock)
    client = TestClient(app)
    add_team(app, "A")
    add_team(app, "B")
    add_user(app, "wa", "worker", "A")
    add_user(app, "wa2", "worker", "A")
    add_user(app, "wb", "worker", "B")
    add_user(app, "ma", "manager")
    add_user(app, "root", "admin")
    with db(app) as session:
        admin.make_manager_of(session, "ma", "A", actor=ADMIN, now=clock())
    people = {name: Member(name) for name in ("wa", "wa2", "wb", "ma", "root")}
    for member in people.values():
        member.device_id = str(uuid.uuid4())
        member.token = tokens(client, member.username, member.device_id)["access_token"]
        registered = client.put(
            f"/sync/v1/devices/{member.device_id}",
            json={"label": "laptop", "app_version": "test", "schema_version": 2},
            headers=member.headers,
        )
        assert registered.status_code == 200, registered.text
    found = World(app, client, people)
    seed_case(found, "A", "wa")
    seed_case(found, "B", "wb")
    # A conflict in team A: two workers edit the same entry from the same base.
    first = push(found, "wa", ("entry", found.entry["A"], "update", 1, {"text": "A edit one"}))
    second = push(found, "wa2", ("entry", found.entry["A"], "update", 1, {"text": "A edit two"}))
    assert (first[0]["status"], second[0]["status"]) == ("applied", "conflict")
    return found


# -- the matrix ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: tuple[str, ...]  # path parameters, in order
    body_schema: dict[str, Any] | None
    secured: bool


def operations(app: FastAPI) -> list[Operation]:
    schema = app.openapi()
    found = []
    for path, item in schema["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            found.append(
                Operation(
                    method,
                    path,
                    tuple(re.findall(r"{(\w+)}", path)),
                    body["schema"] if body else None,
                    bool(operation.get("security")),
                )
            )
    return found


def example(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """A small valid instance of a JSON schema (the subset pydantic emits)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return example(spec["components"]["schemas"][name], spec)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return example(options[0], spec)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example(properties[name], spec) for name in schema.get("required", [])}
    if kind == "array":
        return [example(schema["items"], spec) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("format") == "date-time":
        return "2026-11-25T09:00:00Z"
    return "x" * max(1, schema.get("minLength", 1))


def call(world: World, operation: Operation, who: str, values: dict[str, str]) -> Any:
    url = operation.path.format(**values)
    body = example(operation.body_schema, world.app.openapi()) if operation.body_schema else None
    return world.client.request(
        operation.method.upper(), url, json=body, headers=world.people[who].headers
    )


def leaks(text: str, team: str) -> bool:
    return SENTINEL[team] in text or f"CP-{team}" in text


def matrix_failures(world: World) -> list[str]:
    """Every id-taking operation, called by team B's worker with team A's ids."""
    failures = []
    with_ids = [op for op in operations(world.app) if op.parameters]
    for operation in with_ids:
        values = {name: world.team_a_value(name) for name in operation.parameters}
        label = f"{operation.method.upper()} {operation.path}"
        outsider = call(world, operation, "wb", values)
        if outsider.status_code not in (403, 404):
            failures.append(f"{label}: team B's worker got {outsider.status_code}, not 403/404")
        if leaks(outsider.text, "A") or set(outsider.json()) != {"detail"}:
            failures.append(f"{label}: the refusal carries data: {outsider.text[:200]}")
        owner = call(world, operation, "wa", values)
        if not 200 <= owner.status_code < 300:
            failures.append(f"{label}: team A's own worker got {owner.status_code}")
    return failures


def test_every_path_with_an_id_refuses_another_teams_ids(world: World) -> None:
    with_ids = [op for op in operations(world.app) if op.parameters]
    assert len(with_ids) >= 3  # devices, one change, a record's history (and any added later)
    assert all(op.secured for op in with_ids)
    assert matrix_failures(world) == []


def test_the_matrix_catches_an_endpoint_without_a_scope_check(world: World) -> None:
    @world.app.get("/sync/v1/records/{record_id}/careless")
    def careless(record_id: str) -> dict[str, Any]:  # a bug: no require_principal, no scope
        with db(world.app) as session:
            record = session.get(Record, record_id)
            if record is None:
                raise HTTPException(404, "not_found")
            return {"data": json.loads(record.data)}

    world.app.openapi_schema = None  # rebuild the schema with the new route
    failures = matrix_failures(world)
    assert any("/careless: team B's worker got 200" in failure for failure in failures)
    assert any("/careless: the refusal carries data" in failure for failure in failures)


def test_lists_never_carry_another_teams_records(world: World) -> None:
    lists = [op for op in operations(world.app) if op.method == "get" and not op.parameters]
    assert {"/sync/v1/changes", "/sync/v1/conflicts"} <= {op.path for op in lists}
    for operation in lists:
        for who, other in (("wb", "A"), ("wa", "B")):
            answer = call(world, operation, who, {})
            assert answer.status_code in (200, 403), (operation.path, answer.text)
            assert not leaks(answer.text, other), (who, operation.path)
    own = world.client.get("/sync/v1/changes", headers=world.people["wa"].headers)
    assert SENTINEL["A"] in own.text  # the check above is not passing on empty answers


def test_a_manager_sees_their_teams_cases_and_no_others(world: World) -> None:
    manager = world.people["ma"].headers
    pulled = world.client.get("/sync/v1/changes", headers=manager)
    assert SENTINEL["A"] in pulled.text and not leaks(pulled.text, "B")
    conflicts = world.client.get("/sync/v1/conflicts", headers=manager).json()["items"]
    assert [c["record_id"] for c in conflicts] == [world.entry["A"]]
    own = world.client.get(f"/sync/v1/records/entry/{world.entry['A']}/history", headers=manager)
    assert own.status_code == 200
    other = world.client.get(f"/sync/v1/records/entry/{world.entry['B']}/history", headers=manager)
    assert other.status_code == 404
    assert not leaks(other.text, "B")


def test_an_admin_sees_no_case_data(world: World) -> None:
    for operation in operations(world.app):
        if operation.method != "get" or not operation.secured:
            continue
        values = {name: world.team_a_value(name) for name in operation.parameters}
        answer = call(world, operation, "root", values)
        assert not leaks(answer.text, "A") and not leaks(answer.text, "B"), operation.path
        if operation.parameters:
            assert answer.status_code in (403, 404), operation.path


def test_a_reassigned_case_disappears_from_the_old_worker_at_the_next_call(world: World) -> None:
    history = f"/sync/v1/records/entry/{world.entry['A']}/history"
    wa, wb = world.people["wa"].headers, world.people["wb"].headers
    before = world.client.get("/sync/v1/changes", headers=wa).json()
    assert world.client.get(history, headers=wa).status_code == 200

    with db(world.app) as session:
        admin.reassign_case(
            session, world.case["A"], team="B", lead="wb", actor=ADMIN, now=world.app.state.clock()
        )

    gone = world.client.get(history, headers=wa)
    assert gone.status_code == 404 and not leaks(gone.text, "A")
    assert world.client.get(history, headers=wb).status_code == 200
    fresh = world.client.get("/sync/v1/changes", headers=wa)
    assert not leaks(fresh.text, "A")
    after = world.client.get(
        "/sync/v1/changes", params={"cursor": before["next_cursor"]}, headers=wa
    ).json()
    revokes = [i for i in after["items"] if i["type"] == "scope" and i["op"] == "revoke"]
    assert [i["case_id"] for i in revokes] == [world.case["A"]]
    assert not leaks(json.dumps(after), "A")


def test_a_page_limit_beyond_the_maximum_is_capped(world: World) -> None:
    # R32: ?limit=100000 answers a page of at most the protocol's maximum, not an error.
    with db(world.app) as session:
        stored = len(session.exec(select(Record)).all())
    answer = world.client.get(
        "/sync/v1/changes", params={"limit": 100_000}, headers=world.people["wa"].headers
    )
    assert answer.status_code == 200
    assert 0 < len(answer.json()["items"]) <= 500 <= 100_000
    assert stored >= 3


# -- R34: nothing personal in URLs -----------------------------------------------------------

PERSONAL = re.compile(r"name|birth|dob|token|password|secret|email|address|phone|postcode|text")


def url_parameter_problems(app: FastAPI) -> list[str]:
    """Path and query parameters that could carry a name, a date of birth or a token: only
    ids (UUIDs or pattern-bounded), enums, integers and opaque patterned cursors may pass."""
    spec = app.openapi()
    problems = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            for parameter in item.get(method, {}).get("parameters", []):
                if parameter["in"] not in ("path", "query"):
                    continue
                name, schema = parameter["name"], parameter.get("schema", {})
                options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
                label = f"{method.upper()} {path} ?{name}"
                if PERSONAL.search(name.lower()):
                    problems.append(f"{label}: the name suggests personal data or a secret")
                for option in options:
                    bounded = (
                        option.get("type") in ("integer", "boolean")
                        or "enum" in option
                        or option.get("format") == "uuid"
                        or ("pattern" in option and option.get("maxLength", 10**6) <= 200)
                    )
                    if not bounded:
                        problems.append(f"{label}: free text ({option})")
    return problems


@pytest.fixture
def bare_app(tmp_path: Path, clock: FakeClock) -> FastAPI:
    """The app alone: the schema does not depend on the database."""
    return make_app(f"sqlite:///{tmp_path / 'lint.db'}", tmp_path, clock)


def test_urls_carry_only_ids_enums_numbers_and_cursors(bare_app: FastAPI) -> None:
    assert url_parameter_problems(bare_app) == []


def test_the_url_lint_catches_a_name_in_a_query(bare_app: FastAPI) -> None:
    @bare_app.get("/sync/v1/find")
    def find(family_name: str) -> dict[str, str]:  # a bug: a name in the URL, logged everywhere
        return {}

    problems = url_parameter_problems(bare_app)
    assert any("?family_name: the name suggests" in p for p in problems)
    assert any("?family_name: free text" in p for p in problems)
