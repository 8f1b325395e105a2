"""The 10,000-case enrolled store, built once per benchmark session (it takes ~40 s).

Built through the real first-run path: `enrol` with the default Argon2id cost (so unlocking
costs what it will on a laptop), then `fill_demo_caseload`. The save and open benchmarks share
it; each prints what it measured on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from sofs_tui.store.demo import fill_demo_caseload
from sofs_tui.store.store import Actor, enrol

CASES = 10_000
PASSPHRASE = "bench passphrase, not a secret"


@dataclass(frozen=True)
class Caseload:
    data_dir: Path
    passphrase: str
    rows_per_table: dict[str, int]
    enrol_seconds: float
    fill_seconds: float


@pytest.fixture(scope="session")
def caseload_10k(tmp_path_factory: pytest.TempPathFactory) -> Caseload:
    data_dir = tmp_path_factory.mktemp("bench") / "data"
    start = time.perf_counter()
    store = enrol(data_dir, PASSPHRASE, Actor("bench.worker", "worker"))
    enrolled = time.perf_counter()
    try:
        counts = fill_demo_caseload(store, CASES)
    finally:
        store.lock()
    filled = time.perf_counter()
    caseload = Caseload(data_dir, PASSPHRASE, counts, enrolled - start, filled - enrolled)
    total = sum(counts.values())
    print(
        f"\n[built {CASES:,}-case store once: enrol (default Argon2id) "
        f"{caseload.enrol_seconds:.2f} s, fill_demo_caseload {caseload.fill_seconds:.1f} s "
        f"for {total:,} rows; entries {counts['entry']:,}]"
    )
    return caseload
