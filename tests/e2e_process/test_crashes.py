"""F8 and F9 with real processes: `sofs sync` or `sofs serve` dies at a named failpoint (as if
killed with SIGKILL), is started again, and the day ends exactly as a run nobody killed (I12),
with no change left in flight and none applied twice (I2, I3, I13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sofs_tui.sync.failpoints import (
    AFTER_CHECKPOINT,
    AFTER_INFLIGHT,
    AFTER_SEND_BEFORE_ACK,
    CLIENT_FAILPOINTS,
    PULL_MID_APPLY,
)
from tests.e2e_process.conftest import ServiceFactory
from tests.e2e_process.harness import Service, engine_sync, provision
from tests.e2e_process.state import client_state
from tests.e2e_process.story import Outcome, Templates, play, write_templates

pytestmark = pytest.mark.slow

#: The service's failpoints (sofs_tui/server/failpoints.py), in the order a push meets them:
#: deciding a change, before the sequence clock, before the commit, after the commit.
SERVICE_FAILPOINTS = ("push.decide", "push.before_clock", "push.before_commit", "push.after_commit")
_CONTROL: dict[str, Outcome] = {}


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return write_templates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def control(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """The same day with nothing killed (played once per test process)."""
    if "run" not in _CONTROL:
        folder = tmp_path_factory.mktemp("control")
        url = f"sqlite:///{folder / 'service' / 'sofs-server.db'}"
        (folder / "service").mkdir()
        provision(url)
        service = Service(folder / "service", url)
        try:
            _CONTROL["run"] = play(templates, service, folder)
        finally:
            service.kill()
        outcome = _CONTROL["run"]
        assert outcome.first.returncode == 0, str(outcome.first)
        assert outcome.after_first.inflight == 0
    return _CONTROL["run"]


def _same_end(outcome: Outcome, control: Outcome) -> None:
    assert outcome.alice.comparable() == control.alice.comparable()
    assert outcome.bob.comparable() == control.bob.comparable()
    assert outcome.server.comparable() == control.server.comparable()
    # I3: one revision per change, whatever was resent; I13: both laptops hold the service's set.
    assert set(outcome.server.revisions_per_change.values()) == {1}
    assert outcome.alice.records == outcome.server.records == outcome.bob.records


def _alice_changes(outcome: Outcome) -> set[str]:
    return {change_id for _, change_id, _ in outcome.after_first.outbox}


@pytest.mark.parametrize("point", CLIENT_FAILPOINTS)
def test_F8_client_killed_at_a_failpoint_ends_like_an_uninterrupted_run(
    point: str,
    templates: Templates,
    control: Outcome,
    service_factory: ServiceFactory,
    tmp_path: Path,
) -> None:
    outcome = play(templates, service_factory(), tmp_path, crash_at=point)

    assert outcome.first.returncode == 137, f"never reached {point}: {outcome.first}"
    crashed, received = outcome.after_first, outcome.server_after_first.received
    if point == AFTER_INFLIGHT:  # marked inflight, never sent
        assert crashed.inflight == len(crashed.outbox) > 0
        assert not received
    elif point == AFTER_SEND_BEFORE_ACK:  # the service has it all, the laptop does not know
        assert crashed.inflight == len(crashed.outbox) > 0
        assert set(received) == _alice_changes(outcome)
    elif point == PULL_MID_APPLY:  # pushed and acknowledged; the page rolled back whole
        assert crashed.inflight == 0 and crashed.cursor == ""
    else:
        assert point == AFTER_CHECKPOINT
        assert crashed.inflight == 0 and crashed.cursor != ""

    assert outcome.restart.returncode == 0
    assert outcome.after_restart.inflight == 0  # start-up put them back, the sync sent them
    replayed = {c for c, r in outcome.after_restart.results.items() if r.get("replayed")}
    expected_replays = _alice_changes(outcome) if point == AFTER_SEND_BEFORE_ACK else set()
    assert replayed == expected_replays
    _same_end(outcome, control)


@pytest.mark.parametrize("point", SERVICE_FAILPOINTS)
def test_F9_service_killed_at_a_failpoint_ends_like_an_uninterrupted_run(
    point: str,
    templates: Templates,
    control: Outcome,
    service_factory: ServiceFactory,
    tmp_path: Path,
) -> None:
    outcome = play(templates, service_factory(), tmp_path, service_failpoint=point)

    assert outcome.service_exit == 137, f"the service never reached {point}"
    assert outcome.first.returncode == 1, str(outcome.first)
    assert "Offline" in outcome.first.stderr, outcome.first.stderr
    crashed = outcome.after_first
    assert crashed.inflight == 0  # an unknown outcome goes back to pending at once
    assert {state for _, _, state in crashed.outbox} == {"pending"}
    committed = point == "push.after_commit"
    stored: Any = set(outcome.server_after_first.received)
    assert stored == (_alice_changes(outcome) if committed else set())

    assert outcome.restart.returncode == 0, str(outcome.restart)
    assert outcome.after_restart.inflight == 0
    replayed = {c for c, r in outcome.after_restart.results.items() if r.get("replayed")}
    assert replayed == (_alice_changes(outcome) if committed else set())
    _same_end(outcome, control)


def test_F8_sync_straight_after_a_killed_sync_is_not_locked_out(
    templates: Templates, service_factory: ServiceFactory, tmp_path: Path
) -> None:
    service = service_factory().start()
    alice = templates.alice.copy_to(tmp_path / "alice")
    alice.login(service.url, here=True)
    assert alice.sync(crash_at=AFTER_INFLIGHT, expect=None).returncode == 137

    summary = engine_sync(alice, service.url, lock_wait=2.0)  # the next sync, seconds later

    assert summary.ok, summary.errors
    assert client_state(alice).inflight == 0
