"""A model-based test (reference §5.1, layer C): three laptops on one service edit, sync, fail,
crash and resolve in any order Hypothesis picks, and after every step the system is held to
the journal of every save, kept outside it.

After every step: no unsent outbox row ever disappears (I2), every laptop's last save of each
field is on that laptop or on the service (I2, I11), no change has two revisions (I3). At the
end, with the faults cleared, everyone syncs twice and the laptops hold what the service holds
for their scope, with the same open conflicts (I10, I13).

SQLite only, for speed (the database-level invariants run on both in the other e2e tests);
bounded and derandomised so that a run is reproducible. Marked slow.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from sofs_tui.server import failpoints
from sofs_tui.store.errors import StoreError
from sofs_tui.store.tables import Assessment, Entry, Outbox
from tests.e2e import oracle
from tests.e2e.faults import (
    CLIENT_FAILPOINTS,
    PULL,
    PUSH,
    SERVER_FAILPOINTS,
    ServerCrash,
    kill_at,
)
from tests.e2e.harness import Laptop, World

pytestmark = pytest.mark.slow

_T = TypeVar("_T")
NAMES = ("alice", "bob", "carol")
TRANSPORT_FAULTS = (
    "refuse", "timeout_before", "timeout_after", "status", "html", "truncate", "read_error_after",
)  # fmt: skip
SKEWS_HOURS = (-87660.0, -72.0, -1.0, 1.0, 72.0, 87660.0)  # up to ten years either way
RESOLUTIONS = ("keep_theirs", "keep_mine", "keep_both", "edit_merged")


class SyncModel(RuleBasedStateMachine):
    """Alice and Bob in team A, Carol in team B; one case that may change teams."""

    folder: Path
    examples = 0

    def __init__(self) -> None:
        super().__init__()
        SyncModel.examples += 1
        self.loop = asyncio.new_event_loop()
        self.world = World(f"sqlite:///{self.folder}/server-{self.examples}.db", self.folder)
        self.words = 0
        self.case_team = "team-a"
        self.unsent: dict[str, set[str]] = {}

    def run(self, work: Coroutine[Any, Any, _T]) -> _T:
        return self.loop.run_until_complete(work)

    def laptop(self, index: int) -> Laptop:
        return self.world.laptops[NAMES[index % len(NAMES)]]

    def text(self, laptop: Laptop, what: str) -> str:
        self.words += 1
        return f"{laptop.name} {what} {self.words}"

    # -- the world ---------------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        alice = self.world.laptop("alice")
        self.world.laptop("bob")
        self.world.laptop("carol", team="team-b")
        self.case_id = alice.create_case("C-900", "Testfamily")
        assessment_id = alice.create_assessment(self.case_id)
        alice.add_entry(assessment_id, "Dad shouts at night.")
        self.run(self.world.sync_all(rounds=1))

    def teardown(self) -> None:
        try:
            if hasattr(self, "case_id"):
                for laptop in self.world.laptops.values():
                    laptop.transport.faults.clear()
                self.run(self.world.sync_all(rounds=2))
                oracle.check_all(self.world)
        finally:
            failpoints.FAILPOINTS.clear()
            self.run(self.world.close())
            self.loop.close()

    # -- edits -------------------------------------------------------------------------------------

    def _assessment(self, laptop: Laptop) -> str | None:
        live = [a.id for a in laptop.rows(Assessment) if not a.deleted]
        return live[0] if live else None

    def _entries(self, laptop: Laptop) -> list[str]:
        return sorted(e.id for e in laptop.rows(Entry) if not e.deleted)

    @rule(who=st.integers(0, 2))
    def add_entry(self, who: int) -> None:
        laptop = self.laptop(who)
        assessment_id = self._assessment(laptop)
        if assessment_id is not None:
            laptop.add_entry(assessment_id, self.text(laptop, "adds"))

    @rule(who=st.integers(0, 2), pick=st.integers(0, 99))
    def edit_entry(self, who: int, pick: int) -> None:
        laptop = self.laptop(who)
        entries = self._entries(laptop)
        if entries:
            # A refused save (e.g. the row went with its case) saves and journals nothing.
            with contextlib.suppress(StoreError):
                laptop.edit_entry(entries[pick % len(entries)], self.text(laptop, "edits"))

    @rule(pick=st.integers(0, 99), others=st.integers(1, 2), then_sync=st.booleans())
    def two_edit_one_entry(self, pick: int, others: int, then_sync: bool) -> None:
        """Two laptops change the same entry before either syncs (the conflict case), and
        perhaps sync one after the other straight away."""
        first, second = self.laptop(0), self.laptop(others)
        shared = sorted(set(self._entries(first)) & set(self._entries(second)))
        if not shared:
            return
        entry_id = shared[pick % len(shared)]
        for laptop in (first, second):
            with contextlib.suppress(StoreError):
                laptop.edit_entry(entry_id, self.text(laptop, "rewrites"))
        if then_sync:
            self._sync(first)
            self._sync(second)

    @rule(who=st.integers(0, 2), pick=st.integers(0, 99))
    def delete_entry(self, who: int, pick: int) -> None:
        laptop = self.laptop(who)
        entries = self._entries(laptop)
        if entries:
            with contextlib.suppress(StoreError):
                laptop.delete_entry(entries[pick % len(entries)])

    @rule(who=st.integers(0, 2), field=st.sampled_from(["title", "zero_wording"]))
    def edit_header(self, who: int, field: str) -> None:
        laptop = self.laptop(who)
        assessment_id = self._assessment(laptop)
        if assessment_id is not None:
            with contextlib.suppress(StoreError):
                laptop.edit_header(assessment_id, **{field: self.text(laptop, field)})

    @rule(who=st.integers(0, 2), pick=st.integers(0, 99), how=st.sampled_from(RESOLUTIONS))
    def resolve(self, who: int, pick: int, how: str) -> None:
        laptop = self.laptop(who)
        open_here = laptop.open_conflicts()
        if open_here:
            conflict = open_here[pick % len(open_here)]
            # Refused e.g. for keep both where one side deletes: the person must choose.
            with contextlib.suppress(StoreError):
                laptop.resolve(conflict.conflict_id, how, self.text(laptop, "merges"))

    # -- sync, faults, crashes --------------------------------------------------------------------

    def _sync(self, laptop: Laptop) -> None:
        self.run(laptop.sync())
        laptop.transport.faults.clear()  # a fault the sync never reached is not kept for later

    @rule(who=st.integers(0, 2), push_only=st.booleans())
    def sync(self, who: int, push_only: bool) -> None:
        laptop = self.laptop(who)
        if push_only:  # the pull fails: a sync that only got its push through
            laptop.transport.inject("status", method="GET", path=PULL, status=503)
        self._sync(laptop)

    @rule()
    def everyone_syncs(self) -> None:
        for laptop in self.world.laptops.values():
            self._sync(laptop)

    @rule(
        who=st.integers(0, 2),
        kind=st.sampled_from(TRANSPORT_FAULTS),
        on_push=st.booleans(),
    )
    def sync_through_a_network_fault(self, who: int, kind: str, on_push: bool) -> None:
        laptop = self.laptop(who)
        path, method = (PUSH, "POST") if on_push else (PULL, "GET")
        laptop.transport.inject(kind, method=method, path=path)  # type: ignore[arg-type]
        self._sync(laptop)

    @rule(who=st.integers(0, 2), point=st.sampled_from(CLIENT_FAILPOINTS))
    def laptop_killed_during_sync(self, who: int, point: str) -> None:
        """Killed at a failpoint of this sync (if it gets there), then started again."""
        laptop = self.laptop(who)
        with pytest.MonkeyPatch.context() as patches:
            kill_at(patches, laptop, point)
            self._sync(laptop)

    @rule(who=st.integers(0, 2), point=st.sampled_from(SERVER_FAILPOINTS))
    def service_killed_during_push(self, who: int, point: str) -> None:
        """The service worker handling this laptop's push dies at `point` (if it pushes)."""

        def die(**_context: Any) -> None:
            raise ServerCrash(point)

        failpoints.FAILPOINTS[point] = die
        try:
            self._sync(self.laptop(who))
        finally:
            failpoints.FAILPOINTS.pop(point, None)

    @rule(who=st.integers(0, 2), hours=st.sampled_from(SKEWS_HOURS))
    def skew_clock(self, who: int, hours: float) -> None:
        self.laptop(who).clock.skew(hours=hours)

    @rule()
    def reassign_case(self) -> None:
        moving_to_b = self.case_team == "team-a"
        self.case_team = "team-b" if moving_to_b else "team-a"
        lead = "carol" if moving_to_b else "alice"
        self.world.service.reassign(self.case_id, team=self.case_team, lead=lead)

    @rule()
    def time_passes(self) -> None:
        for laptop in self.world.laptops.values():
            laptop.clock.advance(minutes=30)

    # -- invariants -------------------------------------------------------------------------------

    @invariant()
    def no_unsent_change_disappears(self) -> None:
        for name, laptop in self.world.laptops.items():
            present = {r.change_id for r in laptop.rows(Outbox)}
            lost = self.unsent.get(name, set()) - present
            assert not lost, f"{name} lost unsent changes {lost}"
            self.unsent[name] = oracle.unsent(laptop)

    @invariant()
    def no_save_is_lost(self) -> None:
        oracle.check_nothing_lost(self.world)

    @invariant()
    def no_change_has_two_effects(self) -> None:
        oracle.check_no_duplicates(self.world.service)


def test_model_three_laptops_against_the_journal_of_saves(tmp_path: Path) -> None:
    SyncModel.folder = tmp_path
    run_state_machine_as_test(
        SyncModel,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
