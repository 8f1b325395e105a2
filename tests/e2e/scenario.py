"""One realistic run, replayed with and without a fault, so a test can say "the end state
equals an uninterrupted run" (I9, I12): two workers of one team share a case, both edit it
offline (the same entry, different entries, disjoint header fields, a new entry each), Alice
syncs, then Bob syncs (the sync a fault hits), then both sync twice more.

The control run's end state is worked out once per process and reused: it does not depend on
the database, the laptops' clocks or the fault, and that is the point.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.e2e import oracle
from tests.e2e.harness import Laptop, World


@dataclass
class Run:
    alice: Laptop
    bob: Laptop
    case_id: str
    assessment_id: str
    entries: list[str]

    @property
    def cast(self) -> dict[str, str]:
        return {self.alice.name: "alice", self.bob.name: "bob"}


#: Called before Alice's offline edits, before Bob's, and around Bob's faulted sync.
Hook = Callable[[Run], Awaitable[None] | None]


async def _call(hook: Hook | None, run: Run) -> None:
    if hook is not None:
        done = hook(run)
        if done is not None:
            await done


async def setup(world: World, tag: str, skew_days: dict[str, float] | None = None) -> Run:
    """A team of two, a case with a mapping and two entries, synced to both. `skew_days`
    sets a laptop's clock wrong from the start ({"alice": 3.0}: three days ahead)."""
    team = f"team-{tag}"
    alice = world.laptop(f"alice-{tag}", team=team)
    bob = world.laptop(f"bob-{tag}", team=team)
    for role, laptop in (("alice", alice), ("bob", bob)):
        laptop.clock.skew(days=(skew_days or {}).get(role, 0.0))
    case_id = alice.create_case("C-100", "Testfamily")
    assessment_id = alice.create_assessment(case_id)
    entries = [
        alice.add_entry(assessment_id, "Dad shouts at night."),
        alice.add_entry(assessment_id, "Kai is scared of the dog."),
    ]
    await alice.sync_ok()
    await bob.sync_ok()
    return Run(alice, bob, case_id, assessment_id, entries)


async def offline_edits(run: Run, before_bob: Hook | None = None) -> None:
    alice, bob = run.alice, run.bob
    e1, e2 = run.entries
    alice.edit_entry(e1, "Dad shouts at night, Mum says.")
    alice.edit_header(run.assessment_id, title="Mapping after the visit")
    alice.add_entry(run.assessment_id, "Grandma visits on Sundays.")
    await _call(before_bob, run)
    bob.edit_entry(e1, "Dad shouted twice this week.")
    bob.edit_entry(e2, "Kai is scared of the neighbour's dog.")
    bob.edit_header(run.assessment_id, zero_wording="Kai is not safe at home")
    bob.add_entry(run.assessment_id, "School reports Kai is tired.")
    bob.edit_entry(e2, "Kai is scared of the neighbour's big dog.")


async def play(
    world: World,
    tag: str,
    *,
    before_alice: Hook | None = None,
    before_bob: Hook | None = None,
    faulted_sync: Hook | None = None,
    skew_days: dict[str, float] | None = None,
) -> Run:
    """The run; `faulted_sync` replaces Bob's first sync after the offline edits (it may
    fail, or kill his laptop) and everyone then syncs until nothing is left to do."""
    run = await setup(world, tag, skew_days)
    await _call(before_alice, run)
    await offline_edits(run, before_bob)
    await run.alice.sync_ok()
    if faulted_sync is None:
        await run.bob.sync_ok()
    else:
        await _call(faulted_sync, run)
    for _ in range(2):
        await run.alice.sync_ok()
        await run.bob.sync_ok()
    return run


_CONTROL: dict[str, dict[str, Any]] = {}


async def control_state(world: World) -> dict[str, Any]:
    """The end state of the run with no fault (computed in this world once per process)."""
    if "run" not in _CONTROL:
        run = await play(world, "control")
        _CONTROL["run"] = oracle.end_state(world, run.case_id, run.cast)
    return _CONTROL["run"]


async def assert_like_control(world: World, run: Run) -> None:
    """I12 / I9: the faulted run ends exactly as the control run, and holds the invariants."""
    expected = await control_state(world)
    got = oracle.end_state(world, run.case_id, run.cast)
    for part in expected:
        assert got[part] == expected[part], (
            f"{part} differs from the uninterrupted run: {_differences(got[part], expected[part])}"
        )
    oracle.check_all(world)


def _differences(got: Any, expected: Any) -> str:
    if isinstance(got, list) and isinstance(expected, list):
        extra = [x for x in got if x not in expected]
        lacking = [x for x in expected if x not in got]
        return f"extra {extra}, missing {lacking}"
    if isinstance(got, dict) and isinstance(expected, dict):
        return "; ".join(
            f"{key}: {_differences(got.get(key), expected.get(key))}"
            for key in expected
            if got.get(key) != expected.get(key)
        )
    return f"{got!r} != {expected!r}"
