"""The app's benchmarks (issue 3, bullet 10), each against a yardstick measured in the same run.

1. First frame: `sofs --data-dir …` on an enrolled store, through the real start path, until
   the unlock screen is painted (the app's first frame; `--demo` opens a store before its
   first useful frame, so the enrolled path is the one measured), against a bare Textual app
   (Header + Static + Footer) exiting on its first paint. Goal ≤ 1.2×. The goal's figure
   counts from the moment this process starts the child (interpreter start included) to the
   paint; the whole child process (its exit too) is printed as well.
2. Caseload visible: the same start on the 10,000-case encrypted store, the passphrase typed
   into the unlock screen as soon as it is painted (default Argon2id cost, so the unlock is
   included), until the caseload's first page is painted (its sync column still "…": that
   column is read once the store has opened behind the page), against the bare app's paint.
   Goal ≤ 2.5×. Also: until the store itself is open (every action ready), and the whole
   process. 2b: the passphrase submitted 2 s after the paint, as a person types it: Enter →
   page painted, and start → page painted less those 2 s (what the worker waits for).
3. Filter keystroke over 10,000 cases: the last key typed into the caseload filter, the 150 ms
   debounce firing, and the result painted; fire → painted is the figure (goal ≤ 100 ms
   median), the last key and Enter → painted too. Yardstick: the same rows put back into the
   same table with no query, until painted.
4. Peak memory (Linux VmHWM) of the app process with the caseload on screen vs the bare app.

Whole-process figures (1, 2, 4) run `_app_probe.py` in subprocesses: one warm-up, then the
sides alternated round by round (perf-baseline.md conventions). Only correctness is asserted,
never a time. Run: `python -m pytest tests/bench -s -n 0 -k app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.worker import WorkerCancelled

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

from sofs_tui.app import SofsApp
from sofs_tui.config import Settings
from sofs_tui.screens import case_list
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.store.store import Store, unlock
from tests.bench import _measure as m
from tests.bench.conftest import CASES, Caseload

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("_app_probe.py")
# A process start varies by ±20 % on a shared two-core machine, and with 7 rounds the medians
# of the same code moved by up to 20 % from run to run: more rounds, steadier medians.
PROCESS_ROUNDS = 15
PROBE_ROWS = 24  # the probes' terminal is 80x24 (_app_probe.SIZE)
FILTER_ROUNDS = 5
# What a worker types: parts of family names and references, broad and narrow, none, cleared.
FILTERS = ("fen", "Marchbank", "DEMO-0999", "DEMO-05", "oak", "Kestrel family", "zzz", "")
MODES = ("bare", "unlock", "caseload", "caseload-ready", "caseload-typed")


@dataclass(frozen=True)
class ProcessRun:
    wall: float  # seconds, the whole child process, measured by this process
    cpu: float  # the child's user + system seconds
    marks: dict[str, float]  # seconds from the probe's first line (see _app_probe.py)
    since_spawn: dict[str, float]  # seconds from this process starting the child to each mark
    heavy: list[str]  # heavy modules already imported at the first frame
    peak_mib: float | None


def _probe_env(caseload: Caseload) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env["SOFS_BENCH_PASSPHRASE"] = caseload.passphrase
    # An installed app runs from compiled bytecode (pip compiles on install); this machine's
    # environment forbids writing it, which would put compiling our modules in every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run_probe(mode: str, caseload: Caseload, env: dict[str, str]) -> ProcessRun:
    argv = [sys.executable, str(PROBE), mode, str(caseload.data_dir)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawned = time.time()
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, check=False, timeout=120)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise AssertionError(f"{mode} probe failed: {done.stderr.decode(errors='replace')}")
    report = json.loads(done.stdout.decode().strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    since_spawn = {name: moment - spawned for name, moment in report["epochs"].items()}
    return ProcessRun(wall, cpu, report["marks"], since_spawn, report["heavy"], report["peak_mib"])


@pytest.fixture(scope="module")
def process_runs(caseload_10k: Caseload) -> dict[str, list[ProcessRun]]:
    """Every mode once as a warm-up (OS file cache, .pyc files), then PROCESS_ROUNDS rounds,
    the order reversed on odd rounds."""
    if resource is None:
        pytest.skip("needs the POSIX resource module")
    env = _probe_env(caseload_10k)
    for mode in MODES:
        _run_probe(mode, caseload_10k, env)
    runs: dict[str, list[ProcessRun]] = {mode: [] for mode in MODES}
    for index in range(PROCESS_ROUNDS):
        for mode in MODES if index % 2 == 0 else MODES[::-1]:
            runs[mode].append(_run_probe(mode, caseload_10k, env))
    for run in runs["caseload"] + runs["caseload-ready"] + runs["caseload-typed"]:
        assert run.marks["rows"] == case_list.first_page_rows(PROBE_ROWS)  # of 10,000
    for run in runs["caseload-ready"]:
        assert run.marks["store_open"] >= run.marks["caseload_painted"]
    return runs


def _of(runs: list[ProcessRun], what: str) -> list[float]:
    return [getattr(run, what) for run in runs]


def _mark(runs: list[ProcessRun], name: str, since: str | None = None) -> list[float]:
    return [run.marks[name] - (run.marks[since] if since else 0.0) for run in runs]


def _seen(runs: list[ProcessRun], name: str) -> list[float]:
    return [run.since_spawn[name] for run in runs]


def _whole_process(label: str, runs: list[ProcessRun], bare: list[ProcessRun]) -> None:
    m.figure(f"{label}: process wall", _of(runs, "wall"), unit="s")
    m.figure(f"{label}: process cpu (user+sys)", _of(runs, "cpu"), unit="s")
    m.figure("bare app: process wall", _of(bare, "wall"), unit="s")
    m.figure("bare app: process cpu (user+sys)", _of(bare, "cpu"), unit="s")
    m.ratio(f"{label}/bare, wall", _of(runs, "wall"), _of(bare, "wall"))
    m.ratio(f"{label}/bare, cpu", _of(runs, "cpu"), _of(bare, "cpu"))


@pytest.mark.bench
def test_bench_app_first_frame(process_runs: dict[str, list[ProcessRun]]) -> None:
    unlock_runs, bare = process_runs["unlock"], process_runs["bare"]
    for run in unlock_runs:
        assert "first_frame" in run.marks

    m.header("1. first frame: unlock screen painted vs bare app (Header + Static + Footer)")
    m.note(f"n={len(bare)} each after one warm-up, alternated; goal <= 1.2x")
    m.figure("sofs: process started -> unlock screen painted", _seen(unlock_runs, "first_frame"))
    m.figure("bare: process started -> painted", _seen(bare, "first_frame"))
    m.ratio(
        "first frame, sofs/bare (goal <= 1.2)",
        _seen(unlock_runs, "first_frame"),
        _seen(bare, "first_frame"),
    )
    _whole_process("sofs unlock screen", unlock_runs, bare)
    m.figure("in-process: start -> unlock screen painted", _mark(unlock_runs, "first_frame"))
    m.figure("in-process: start -> bare app painted", _mark(bare, "first_frame"))
    m.ratio(
        "in-process first paint, sofs/bare",
        _mark(unlock_runs, "first_frame"),
        _mark(bare, "first_frame"),
    )
    heavy = sorted({name for run in unlock_runs for name in run.heavy})
    m.note(f"heavy modules imported before the unlock screen's first paint: {heavy or 'none'}")


@pytest.mark.bench
def test_bench_app_caseload_visible(process_runs: dict[str, list[ProcessRun]]) -> None:
    runs, bare = process_runs["caseload"], process_runs["bare"]

    m.header(f"2. caseload visible: start -> first page of {CASES:,} cases painted vs bare app")
    m.note(
        "includes: interpreter start, imports, unlock screen, the passphrase typed at its "
        "first paint, Argon2id (default cost), the first page read from the encrypted file, "
        "the caseload screen and its paint; the store then opens behind the page (the sync "
        "column waits for it). Goal <= 2.5x"
    )
    m.figure("caseload: process started -> page painted", _seen(runs, "caseload_painted"))
    m.figure("bare: process started -> painted", _seen(bare, "first_frame"))
    m.ratio(
        "caseload visible, sofs/bare (goal <= 2.5)",
        _seen(runs, "caseload_painted"),
        _seen(bare, "first_frame"),
    )
    m.figure("  start -> unlock screen painted", _mark(runs, "first_frame"))
    m.figure(
        "  Enter -> key and first page read (Argon2id + SQL)",
        _mark(runs, "unlocked", "passphrase_entered"),
    )
    m.figure("    of which the first page's read", _mark(runs, "query_done", "query_started"))
    m.figure("  first page read -> page painted", _mark(runs, "caseload_painted", "unlocked"))
    m.figure("  start -> page painted (in-process)", _mark(runs, "caseload_painted"))
    _whole_process("caseload visible", runs, bare)

    ready = process_runs["caseload-ready"]
    m.header("2a. the same, until the store itself is open behind the page (every action ready)")
    m.figure("ready: process started -> store open", _seen(ready, "store_open"))
    m.ratio("store open, sofs/bare paint", _seen(ready, "store_open"), _seen(bare, "first_frame"))
    m.figure("  page painted -> store open", _mark(ready, "store_open", "caseload_painted"))
    _whole_process("store open", ready, bare)

    typed = process_runs["caseload-typed"]
    m.header("2b. caseload visible, the passphrase typed as a person does (after 2 s)")
    m.note(
        "the store's imports are warmed while the worker types, as in real use; the figure "
        "that person waits for is Enter -> page painted"
    )
    m.figure("  Enter -> key and first page read", _mark(typed, "unlocked", "passphrase_entered"))
    m.figure("  first page read -> page painted", _mark(typed, "caseload_painted", "unlocked"))
    m.figure("  Enter -> page painted", _mark(typed, "caseload_painted", "passphrase_entered"))
    m.ratio(
        "Enter -> page painted / bare app's whole start",
        _mark(typed, "caseload_painted", "passphrase_entered"),
        _of(bare, "wall"),
    )
    # What the worker waits for in all: process started -> page painted, less the seconds in
    # which they were typing.
    waited = [
        run.since_spawn["caseload_painted"]
        - (run.marks["passphrase_entered"] - run.marks["first_frame"])
        for run in typed
    ]
    m.figure("  started -> page painted, less the typing", waited)
    m.ratio("worker waits (typing excluded) / bare paint", waited, _seen(bare, "first_frame"))


@pytest.mark.bench
def test_bench_app_peak_memory(process_runs: dict[str, list[ProcessRun]]) -> None:
    peaks = {mode: _of(runs, "peak_mib") for mode, runs in process_runs.items()}
    if any(value is None for values in peaks.values() for value in values):
        pytest.skip("VmHWM needs Linux /proc")

    m.header(f"4. peak memory (VmHWM) with {CASES:,} cases vs the bare app")
    for mode, label in (
        ("caseload", "caseload painted"),
        ("unlock", "unlock screen"),
        ("bare", "bare app"),
    ):
        m.note(f"{label:<46} {m.spread(peaks[mode], scale=1.0)} MiB")
    m.ratio("caseload/bare", peaks["caseload"], peaks["bare"])
    m.ratio("unlock screen/bare", peaks["unlock"], peaks["bare"])
    resident = [run.marks["rss_mib"] for run in process_runs["caseload"] if "rss_mib" in run.marks]
    if resident:
        m.note(
            f"{'resident (VmRSS) as the page was painted':<46} {m.spread(resident, scale=1.0)} MiB"
        )
    m.note("the unlock's Argon2id takes 64 MiB (its memory cost) for a moment: the peak keeps it")


# --- 3. the filter, in process ---------------------------------------------------------------


@pytest.fixture
def unlocked_10k(caseload_10k: Caseload) -> Iterator[Store]:
    store = unlock(caseload_10k.data_dir, caseload_10k.passphrase)
    try:
        yield store
    finally:
        store.lock()


class FilterClock:
    """Times one filter on the caseload screen: the last key, the debounce firing, the rows
    arriving, the page painted and the sync column painted."""

    def __init__(self, app: SofsApp, screen: CaseListScreen) -> None:
        self.app = app
        self.at: dict[str, float] = {}
        self.painted = asyncio.Event()
        self.synced = asyncio.Event()
        real_apply, real_show = screen._apply_filter, screen._show
        real_show_sync = screen._show_sync

        def apply_filter() -> None:
            self.at.setdefault("fired", time.perf_counter())
            real_apply()

        def show(*args: Any) -> None:
            self.at["arrived"] = time.perf_counter()
            real_show(*args)
            app.call_after_refresh(self._stamp, "painted", self.painted)

        def show_sync(*args: Any) -> None:
            real_show_sync(*args)
            app.call_after_refresh(self._stamp, "synced", self.synced)

        screen._apply_filter = apply_filter  # type: ignore[method-assign]
        screen._show = show  # type: ignore[method-assign]
        screen._show_sync = show_sync  # type: ignore[method-assign]

    def _stamp(self, name: str, event: asyncio.Event) -> None:
        self.at[name] = time.perf_counter()
        event.set()

    def start(self) -> None:
        self.at = {"key": time.perf_counter()}
        self.painted.clear()
        self.synced.clear()

    async def finish(self, pilot: Any) -> None:
        """Wait for the paint, then for the sync column's read (if one was started)."""
        await asyncio.wait_for(self.painted.wait(), 60)
        await _settle(self.app, pilot)

    def since(self, end: str, start: str) -> float:
        return self.at[end] - self.at[start]


async def _settle(app: SofsApp, pilot: Any) -> None:
    """Let workers finish and their results reach the screen (a newer exclusive worker may
    cancel an older one meanwhile: that one never completes)."""
    for _ in range(3):
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()


@pytest.mark.bench
async def test_bench_app_filter_keystroke(unlocked_10k: Store) -> None:
    store = unlocked_10k
    app = SofsApp(lambda: store, Settings())
    samples: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        samples.setdefault(name, []).append(seconds)

    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CaseListScreen) and screen.total == CASES
        clock = FilterClock(app, screen)
        field: Any = screen.query_one("#case-filter")
        table = screen.table
        await pilot.press("/")
        for index in range(FILTER_ROUNDS + 1):  # round 0 warms the caches: not counted
            counted = index > 0
            for text in FILTERS if index % 2 else FILTERS[::-1]:
                # The list first shows what was typed before the last key ("z" before a
                # clear); then the last key, and the debounce fires FILTER_DELAY later.
                field.value = text[:-1] if text else "z"
                field.cursor_position = len(field.value)
                screen._apply_filter()
                await _settle(app, pilot)
                clock.start()
                if text:
                    await pilot.press(text[-1])
                else:
                    field.value = ""  # clearing the field: the same path as a backspace
                await clock.finish(pilot)
                assert screen.filter_text == text, (text, field.value, screen.filter_text)
                if counted:
                    add("debounce", clock.since("fired", "key"))
                    add("fired -> painted", clock.since("painted", "fired"))
                    add("key -> painted", clock.since("painted", "key"))
                    add("fired -> rows arrived", clock.since("arrived", "fired"))
                    if clock.synced.is_set():
                        add("fired -> sync column painted", clock.since("synced", "fired"))
                rows = [table.get_row_at(row) for row in range(table.row_count)]
                keys = [str(k.value) for k in table.rows]
                # Yardstick: the same rows into the same table, no query, until painted.
                done = asyncio.Event()
                start = time.perf_counter()
                table.clear()
                for key, cells in zip(keys, rows, strict=True):
                    table.add_row(*cells, key=key)
                app.call_after_refresh(done.set)
                await done.wait()
                if counted:
                    add("yardstick: refill, no query", time.perf_counter() - start)
            # The last key, then Enter at once: Enter applies the filter without waiting for
            # the debounce and goes back to the list. (The value is not set whole and left:
            # on a slow machine the debounce could apply it before Enter, which would then
            # have nothing to paint.)
            field.focus()
            field.value = "Marchbank famil"
            field.cursor_position = len(field.value)
            screen._apply_filter()
            await _settle(app, pilot)
            clock.start()
            clock.at["fired"] = clock.at["key"]
            await pilot.press("y", "enter")
            await clock.finish(pilot)
            if counted:
                add("last key + Enter -> painted", clock.since("painted", "key"))
            assert screen.filter_text == "Marchbank family", screen.filter_text
            assert app.focused is table, app.focused
            await pilot.press("/")

    m.header(f"3. filter keystroke over {CASES:,} cases (in process, 80x24)")
    m.note(f"filters {list(FILTERS)}, {FILTER_ROUNDS} rounds after a warm-up round, alternated")
    m.note(
        f"debounce: {case_list.FILTER_DELAY * 1000:.0f} ms after the last key; "
        "goal: fired -> painted <= 100 ms median"
    )
    for name in (
        "debounce",
        "fired -> rows arrived",
        "fired -> painted",
        "key -> painted",
        "last key + Enter -> painted",
        "fired -> sync column painted",
        "yardstick: refill, no query",
    ):
        if name in samples:
            m.figure(name, samples[name])
    m.ratio(
        "fired -> painted / yardstick",
        samples["fired -> painted"],
        samples["yardstick: refill, no query"],
    )
