"""Several uvicorn workers over one PostgreSQL database stay correct (issue 4, "Stateless"):
three laptops push at once through `sofs serve --workers 4`, two of them lose the answer to a
committed batch on the way and resend it (most likely to another worker), and every change
is applied exactly once (I3) and reaches every laptop (I13)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e_process.conftest import ServiceFactory
from tests.e2e_process.faultproxy import Fault, FaultProxy
from tests.e2e_process.harness import Laptop, Service, finish
from tests.e2e_process.state import client_state, server_state
from tests.e2e_process.story import write_family

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ENTRIES = 110  # with the case and its assessment, 112 changes: two batches each


def _sync_all(trio: list[Laptop]) -> list[int]:
    started = [laptop.start("sync", "--password-stdin") for laptop in trio]
    runs = [finish(process) for process in started]
    return [run.returncode for run in runs]


def test_three_laptops_pushing_at_once_through_four_workers_apply_each_change_once(
    pg_url: Callable[[], str],
    service_factory: ServiceFactory,
    proxy_factory: Callable[[Service], FaultProxy],
    laptops: Callable[..., Laptop],
) -> None:
    service = service_factory("pg-service", pg_url(), workers=4).start()
    proxy = proxy_factory(service)
    trio = [laptops(name) for name in ("alice", "bob", "carol")]
    for n, laptop in enumerate(trio):
        laptop.login(proxy.url, here=True)
        write_family(laptop, f"CP-090{n}", entries=ENTRIES, words=4)
    # The first two batches to arrive are committed, and their answers lost on the way back.
    proxy.set(Fault("reset_after_bytes", match="POST /sync/v1/push", after_bytes=0, times=2))

    assert sorted(_sync_all(trio)) == [0, 1, 1]
    for _ in range(2):  # the two resend their batch (replayed); everyone fetches everything
        for laptop in trio:
            laptop.sync(here=True)

    states = [client_state(laptop) for laptop in trio]
    server = server_state(service.database_url)
    changes = {change_id for state in states for _, change_id, _ in state.outbox}
    assert len(changes) == 3 * (ENTRIES + 2)
    assert {s for state in states for _, _, s in state.outbox} == {"done"}
    assert set(server.received) == changes
    assert set(server.received.values()) == {"applied"}
    assert dict(server.revisions_per_change) == dict.fromkeys(changes, 1)
    replayed = [c for state in states for c, r in state.results.items() if r["replayed"]]
    assert len(replayed) == 2 * 100  # exactly the two lost batches, answered from storage
    for state in states:
        assert state.records == server.records
