"""Opening a 10,000-case store and listing its first page of case summaries.

(a) `unlock` from the key file (Argon2id at the default cost, engine, migrations check) against
    the key derivation alone; (b) `case_summaries` pages against a raw SELECT of the same page;
    (c) a whole new process that unlocks and lists, against `python -c "import sqlmodel"`.
The store is built once per session (conftest.py) through `enrol` + `fill_demo_caseload`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS
from sofs_tui.store.keys import unlock_keyfile
from sofs_tui.store.queries import CasePage, case_summaries
from sofs_tui.store.store import KEYFILE_NAME, Store, unlock
from tests.bench import _measure as m
from tests.bench.conftest import CASES, Caseload

UNLOCKS = 7
LISTINGS = 15
PROCESSES = 5
PAGE = 200
NAME_FILTER = "wright"  # part of one demo surname: a few hundred cases
REFERENCE_FILTER = "DEMO-0999"  # DEMO-09990 … DEMO-09999
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Peak RSS of this process only (Linux VmHWM): ru_maxrss would include the forked parent's.
PEAK_SNIPPET = """
def peak_mib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
"""
CHILD_SCRIPT = (
    PEAK_SNIPPET
    + """
import json, os, sys, time
started = time.perf_counter()
from pathlib import Path
from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS
from sofs_tui.store.queries import case_summaries
from sofs_tui.store.store import unlock
imported = time.perf_counter()
store = unlock(Path(sys.argv[1]), os.environ["SOFS_BENCH_PASSPHRASE"])
unlocked = time.perf_counter()
page = case_summaries(store, rules=LONDON_BOROUGH_DEFAULTS, calendar=default_calendar(), limit=200)
listed = time.perf_counter()
store.lock()
print(json.dumps({"import": imported - started, "unlock": unlocked - imported,
                  "list": listed - unlocked, "total": page.total, "rows": len(page.rows),
                  "peak_mib": peak_mib()}))
"""
)
# The yardstick: importing the ORM alone (perf-baseline.md §1), plus the same peak report.
BASELINE_SCRIPT = (
    PEAK_SNIPPET + "import json\nimport sqlmodel\nprint(json.dumps({'peak_mib': peak_mib()}))"
)


def _summaries(store: Store, text: str = "", offset: int = 0) -> CasePage:
    return case_summaries(
        store,
        rules=LONDON_BOROUGH_DEFAULTS,
        calendar=default_calendar(),
        text=text,
        offset=offset,
        limit=PAGE,
    )


def _raw_page(store: Store) -> list[tuple[object, ...]]:
    """The floor of a listing: the same page of cases, four columns, no summaries."""
    with store.read() as session:
        rows = session.connection().exec_driver_sql(
            "SELECT id, reference, family_name, lead_worker FROM family_case "
            f"WHERE deleted = 0 ORDER BY reference LIMIT {PAGE}"
        )
        return [tuple(row) for row in rows]


@pytest.mark.bench
def test_bench_unlock_from_key_file(caseload_10k: Caseload) -> None:
    keyfile = caseload_10k.data_dir / KEYFILE_NAME

    def derive_only(_: int) -> None:
        unlock_keyfile(keyfile, caseload_10k.passphrase).wipe()

    def full_unlock(_: int) -> None:
        store = unlock(caseload_10k.data_dir, caseload_10k.passphrase)
        assert store.engine is not None and store.actor.username == "bench.worker"
        store.lock()

    seconds = m.round_robin(UNLOCKS, {"unlock": full_unlock, "kdf": derive_only})

    m.header(f"unlock a {CASES:,}-case store from its key file (default Argon2id)")
    m.figure("unlock (Argon2id + engine + migrations)", seconds["unlock"])
    m.figure("unlock_keyfile only (Argon2id + AES-GCM)", seconds["kdf"])
    m.ratio("unlock/key derivation", seconds["unlock"], seconds["kdf"])
    extra = [a - b for a, b in zip(seconds["unlock"], seconds["kdf"], strict=True)]
    m.figure("difference: engine open + migrations check", extra)


@pytest.mark.bench
def test_bench_case_summaries_first_page(caseload_10k: Caseload) -> None:
    store = unlock(caseload_10k.data_dir, caseload_10k.passphrase)
    try:
        first_call, first = m.timed(lambda: _summaries(store))
        ops = {
            "page 1": lambda _: _check_first_page(_summaries(store)),
            "filter name": lambda _: _check_filtered(_summaries(store, NAME_FILTER), NAME_FILTER),
            "filter reference": lambda _: _check_filtered(
                _summaries(store, REFERENCE_FILTER), REFERENCE_FILTER, total=10
            ),
            "last page": lambda _: _check_last_page(_summaries(store, offset=CASES - PAGE)),
            "raw page": lambda _: _check_raw(_raw_page(store)),
        }
        seconds = m.round_robin(LISTINGS, ops)
    finally:
        store.lock()
    _check_first_page(first)

    m.header(f"case_summaries on {CASES:,} cases, {PAGE} per page")
    m.figure("first call after unlock (cold caches), n=1", [first_call])
    m.figure("page 1, no filter", seconds["page 1"])
    m.figure(f"filter {NAME_FILTER!r} (family name)", seconds["filter name"])
    m.figure(f"filter {REFERENCE_FILTER!r} (10 hits)", seconds["filter reference"])
    m.figure(f"last page (offset {CASES - PAGE})", seconds["last page"])
    m.figure("raw SELECT of the same page (floor)", seconds["raw page"])
    for name in ("page 1", "filter name", "filter reference", "last page"):
        m.ratio(f"{name}/raw page", seconds[name], seconds["raw page"])


def _check_first_page(page: CasePage) -> None:
    assert page.total == CASES
    references = [row.reference for row in page.rows]
    assert len(references) == PAGE
    assert references == sorted(references)
    assert references[0] == "DEMO-00001"


def _check_filtered(page: CasePage, text: str, total: int | None = None) -> None:
    assert page.rows, "the filter should match something"
    if total is not None:
        assert page.total == total
    for row in page.rows:
        assert text.lower() in (row.reference + row.family_name).lower()


def _check_last_page(page: CasePage) -> None:
    assert page.total == CASES
    assert page.rows[-1].reference == f"DEMO-{CASES:05d}"


def _check_raw(rows: list[tuple[object, ...]]) -> None:
    assert len(rows) == PAGE and rows[0][1] == "DEMO-00001"


@dataclass(frozen=True)
class ChildRun:
    wall: float
    cpu: float
    report: dict[str, Any]


def _run_child(argv: list[str], env: dict[str, str]) -> ChildRun:
    """Run a process to completion: wall time, its CPU time (user+sys), its JSON report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise AssertionError(f"{argv[:2]} failed: {done.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return ChildRun(wall, cpu, json.loads(done.stdout))


@pytest.mark.bench
@pytest.mark.skipif(resource is None, reason="needs the POSIX resource module")
def test_bench_whole_process_unlock_and_list(caseload_10k: Caseload) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env["SOFS_BENCH_PASSPHRASE"] = caseload_10k.passphrase
    app = [sys.executable, "-c", CHILD_SCRIPT, str(caseload_10k.data_dir)]
    floor = [sys.executable, "-c", BASELINE_SCRIPT]
    runs: dict[str, list[ChildRun]] = {"app": [], "floor": []}
    _run_child(app, env)  # warm-up: OS file cache, .pyc files
    _run_child(floor, env)
    for index in range(PROCESSES):
        order = ("app", "floor") if index % 2 == 0 else ("floor", "app")
        for name in order:
            runs[name].append(_run_child(app if name == "app" else floor, env))

    phases = [run.report for run in runs["app"]]
    for phase in phases:
        assert phase["total"] == CASES and phase["rows"] == PAGE

    def of(name: str, what: str) -> list[float]:
        return [getattr(run, what) for run in runs[name]]

    m.header("whole process: unlock + list first page vs `python -c 'import sqlmodel'`")
    m.note(f"{PROCESSES} runs each after one warm-up, alternated; wall/cpu of the child process")
    m.figure("app process wall", of("app", "wall"), unit="s")
    m.figure("app process cpu (user+sys)", of("app", "cpu"), unit="s")
    m.figure("  in-process: imports", [p["import"] for p in phases], unit="s")
    m.figure("  in-process: unlock", [p["unlock"] for p in phases], unit="s")
    m.figure("  in-process: case_summaries page 1", [p["list"] for p in phases], unit="s")
    m.figure("import sqlmodel wall", of("floor", "wall"), unit="s")
    m.figure("import sqlmodel cpu", of("floor", "cpu"), unit="s")
    m.ratio("app/import sqlmodel, wall", of("app", "wall"), of("floor", "wall"))
    m.ratio("app/import sqlmodel, cpu", of("app", "cpu"), of("floor", "cpu"))
    peaks = {name: [run.report["peak_mib"] for run in runs[name]] for name in runs}
    if None not in peaks["app"] + peaks["floor"]:
        m.note(
            f"peak RSS (VmHWM, max of runs): app {max(peaks['app']):.0f} MiB, "
            f"import sqlmodel {max(peaks['floor']):.0f} MiB"
        )
