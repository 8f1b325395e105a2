"""F1, F2, F3 and F7 over real TCP: `sofs serve` on 127.0.0.1, the fault proxy between it and
the client, the client as `sofs sync` in a child process (or, where a client timeout of a
second is needed, the same engine in this process)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e_process.faultproxy import Fault, FaultProxy, Mode
from tests.e2e_process.harness import Laptop, Service, engine_sync, wait_until
from tests.e2e_process.state import ClientState, ServerState, client_state, local_dump, server_state
from tests.e2e_process.story import write_family

pytestmark = pytest.mark.slow

Laptops = Callable[..., Laptop]
Proxies = Callable[[Service], FaultProxy]
PUSH = "POST /sync/v1/push"
PULL = "GET /sync/v1/changes"


def _states(laptop: Laptop) -> set[str]:
    return {state for _, _, state in client_state(laptop).outbox}


def _sent_once(client: ClientState, server: ServerState) -> None:
    """I2 and I3: every change is done and stored, each made exactly one revision, and the
    laptop holds the service's revisions."""
    changes = {change_id for _, change_id, _ in client.outbox}
    assert {state for _, _, state in client.outbox} == {"done"}
    assert set(server.received) == changes
    assert set(server.received.values()) == {"applied"}
    assert dict(server.revisions_per_change) == dict.fromkeys(changes, 1)
    assert client.records == server.records


def test_F1_service_down_sync_says_offline_keeps_everything_then_sends_it_all(
    service: Service, laptops: Laptops
) -> None:
    alice = laptops("alice")
    alice.login(service.url, here=True)
    write_family(alice, "CP-0101")
    service.stop()  # nothing listens on the port now
    before = local_dump(alice)

    offline = alice.sync(expect=1)

    assert "Offline: the service could not be reached" in offline.stderr, offline
    assert "Try again in about" in offline.stderr
    assert local_dump(alice) == before  # outbox, records, shadows and cursor untouched

    service.start()
    back = alice.sync()

    assert "Sent 5 changes" in back.stdout, back
    _sent_once(client_state(alice), server_state(service.database_url))


def test_F1_connection_refused_on_the_way_is_offline_and_sends_nothing_twice(
    service: Service, proxy_factory: Proxies, laptops: Laptops
) -> None:
    proxy = proxy_factory(service)
    alice = laptops("alice")
    alice.login(proxy.url, here=True)
    write_family(alice, "CP-0102")
    before = local_dump(alice)
    proxy.set(Fault("refuse"))  # nothing listens where the laptop connects

    refused = engine_sync(alice, proxy.url)

    assert type(refused.error).__name__ == "Offline" and refused.retry_in is not None
    assert local_dump(alice) == before

    proxy.clear()
    back = engine_sync(alice, proxy.url)

    assert back.ok and back.sent == 5, back.errors
    _sent_once(client_state(alice), server_state(service.database_url))


def test_F2_push_that_never_reaches_the_service_is_sent_again_and_applied_once(
    service: Service, proxy_factory: Proxies, laptops: Laptops
) -> None:
    proxy = proxy_factory(service)
    alice = laptops("alice")
    alice.login(proxy.url, here=True)
    write_family(alice, "CP-0201")
    proxy.set(Fault("hang", match=PUSH))

    stalled = engine_sync(alice, proxy.url, read_timeout=1.0)

    assert type(stalled.error).__name__ == "Timeout", stalled.errors
    assert _states(alice) == {"pending"}  # unknown outcome: back to pending, nothing lost
    assert server_state(service.database_url).received == {}

    again = engine_sync(alice, proxy.url)

    assert again.ok and again.sent == 5, again.errors
    _sent_once(client_state(alice), server_state(service.database_url))


def test_F2_push_delayed_past_the_client_timeout_counts_once_when_both_copies_arrive(
    service: Service, proxy_factory: Proxies, laptops: Laptops
) -> None:
    proxy = proxy_factory(service)
    alice = laptops("alice")
    alice.login(proxy.url, here=True)
    write_family(alice, "CP-0202")
    proxy.set(Fault("delay", match=PUSH, seconds=4.0))

    stalled = engine_sync(alice, proxy.url, read_timeout=1.0)
    assert type(stalled.error).__name__ == "Timeout", stalled.errors
    assert _states(alice) == {"pending"}
    assert server_state(service.database_url).received == {}  # not read by the service yet
    resent = engine_sync(alice, proxy.url)  # while the first copy is still on its way
    assert resent.ok and resent.sent == 5, resent.errors

    # The first copy reaches the service late, after the resend: a replay, no new effect.
    wait_until(lambda: proxy.delivered_late == 1, what="the delayed push")
    wait_until(
        lambda: service.log_tail(200).count(f'"{PUSH} HTTP/1.1" 200') == 2,
        what="the service's answer to the late copy",
    )
    _sent_once(client_state(alice), server_state(service.database_url))


@pytest.mark.parametrize("mode", ["reset_after_bytes", "truncate"])
def test_F3_answer_lost_after_the_commit_is_replayed_on_the_next_sync(
    mode: Mode, service: Service, proxy_factory: Proxies, laptops: Laptops
) -> None:
    proxy = proxy_factory(service)
    alice = laptops("alice")
    alice.login(proxy.url, here=True)
    write_family(alice, "CP-0301")
    proxy.set(Fault(mode, match=PUSH, after_bytes=40))

    cut = alice.sync(expect=1)

    assert proxy.fired == [f"{mode} /sync/v1/push"]
    assert "Offline" in cut.stderr, cut
    changes = {change_id for _, change_id, _ in client_state(alice).outbox}
    assert _states(alice) == {"pending"}
    assert set(server_state(service.database_url).received) == changes  # it did commit

    retry = alice.sync()

    assert "Sent 5 changes" in retry.stdout, retry
    client = client_state(alice)
    assert {change_id for change_id, r in client.results.items() if r["replayed"]} == changes
    _sent_once(client, server_state(service.database_url))


@pytest.mark.parametrize("mode", ["truncate", "reset_after_bytes"])
def test_F7_pull_page_cut_mid_body_leaves_the_local_database_as_it_was(
    mode: Mode, service: Service, proxy_factory: Proxies, laptops: Laptops
) -> None:
    proxy = proxy_factory(service)
    alice, bob = laptops("alice"), laptops("bob")
    alice.login(proxy.url, here=True)
    bob.login(service.url, here=True)
    write_family(alice, "CP-0701")
    alice.sync(here=True)
    bobs = write_family(bob, "CP-0702", entries=6, words=40)
    bob.sync(here=True)  # now alice's next page holds Bob's family: several KB
    before = local_dump(alice)
    proxy.set(Fault(mode, match=PULL, after_bytes=400))

    cut = alice.sync(expect=1)

    assert proxy.fired == [f"{mode} /sync/v1/changes"], cut
    assert local_dump(alice) == before  # no row, shadow, conflict, outbox row or cursor moved

    alice.sync()
    assert set(bobs) <= set(client_state(alice).records)  # the whole page, once it came whole
