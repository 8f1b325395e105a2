"""Schemathesis over the service's own OpenAPI schema (R31), on SQLite and PostgreSQL.

Every operation gets generated valid, invalid, boundary and Unicode input with a valid worker
token, and all of Schemathesis' default checks: no 5xx, every status and body documented,
invalid input refused, valid input accepted, and auth enforced (`ignored_auth` resends each
successful call without, and with broken, credentials and expects 401/403). Derandomized, so a
failure reproduces; a bounded number of examples per operation keeps the run short.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case

from sofs_tui.server import auth
from tests.conftest import FakeClock
from tests.server.test_auth import (
    _close_apps,  # noqa: F401 (autouse: closes the pools)
    add_device,
    add_team,
    add_user,
    db,
    make_app,
)

EXAMPLES_PER_OPERATION = 15

# A cursor is opaque: a well-formed one the server never issued is "not yours, resync" (410),
# as a well-formed unknown id is 404; a Client-Schema below the served range is "upgrade the
# app" (426, SYNC reference §2.11). Every other default stays as Schemathesis ships it.
_CHANGES_ANSWERS = ("410", "426")
CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {
                "include-name": "GET /sync/v1/changes",  # one filter (several would OR)
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [
                            *("2xx", "401", "403", "404", "409", "429"),
                            *_CHANGES_ANSWERS,
                        ]
                    },
                    "negative_data_rejection": {
                        "expected-statuses": [
                            *("400", "401", "403", "404", "405", "406", "409", "415", "422"),
                            *("428", "429"),
                            *_CHANGES_ANSWERS,
                        ]
                    },
                },
            }
        ]
    }
)


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> FastAPI:
    app = make_app(database_url, tmp_path, clock)
    add_team(app, "Northside")
    app.state.worker_id = add_user(app, "jo", "worker", "Northside")
    app.state.device_id = add_device(app, app.state.worker_id)
    return app


@pytest.fixture
def api_schema(service: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", service, config=CONFIG)


def worker_token(app: FastAPI, fresh: bool) -> str:
    """The worker's access token; a fresh one (cheap: no password hash) for a call that may
    sign out, so one example's `logout` cannot sign the next one out."""
    if not fresh and getattr(app.state, "token", None):
        token: str = app.state.token
        return token
    with db(app) as session:
        issued = auth.issue_tokens(
            session, app.state.worker_id, app.state.device_id, app.state.clock(), app.state.settings
        )
        session.commit()
    app.state.token = None if fresh else issued.access_token
    return issued.access_token


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_passes_every_default_schemathesis_check(case: Case[Any], service: FastAPI) -> None:
    # A push naming a well-formed device id gets the worker's registered device instead, so
    # generated changes reach the decisions behind the device check, not only its 404.
    if isinstance(case.body, dict) and _is_uuid(case.body.get("device_id")):
        case.body["device_id"] = service.state.device_id
    token = worker_token(service, fresh=case.path == "/auth/logout")
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)
