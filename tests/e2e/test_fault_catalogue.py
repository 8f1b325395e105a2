"""The fault catalogue (reference/sync.md §5.2, F1-F26) cannot silently lose a case: every case
has at least one test named `test_F<n>_…` somewhere under tests/ (in process, real processes,
the service's own suites), found by reading the test files' syntax trees, not by running them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
NAMED = re.compile(r"^test_F(\d+)_")

#: reference/sync.md §5.2, one line each (for the failure message).
CATALOGUE = {
    1: "service down",
    2: "timeout before the service reads the request",
    3: "timeout after the service commits",
    4: "500 after k of n changes applied",
    5: "500 / 503 + Retry-After on pull",
    6: "malformed push response",
    7: "malformed or partial pull page",
    8: "client killed at each client failpoint",
    9: "service worker killed at each service failpoint",
    10: "two clients edit the same entry offline",
    11: "two clients append entries to the same assessment",
    12: "edit versus delete of the same entry (both orders)",
    13: "header: different fields, then the same field",
    14: "offline chain of edits, push interrupted between them",
    15: "client clock skew, and a clock jumping backwards",
    16: "access token expires mid-sync",
    17: "device revoked",
    18: "case reassigned away while a worker has offline edits",
    19: "case newly assigned (scope gain)",
    20: "older client schema; a client below the minimum",
    21: "service restored from an older backup",
    22: "413 / oversized batch",
    23: "two sync loops at once in one client",
    24: "disk full during pull apply",
    25: "poison item",
    26: "PostgreSQL cursor under concurrency",
}


def fault_tests_in(source: str) -> dict[int, list[str]]:
    """Fault case number -> the test functions (and methods) named after it in `source`."""
    found: dict[int, list[str]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            match = NAMED.match(node.name)
            if match:
                found.setdefault(int(match.group(1)), []).append(node.name)
    return found


def fault_tests_under(folder: Path) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for path in sorted(folder.rglob("test_*.py")):
        for number, names in fault_tests_in(path.read_text(encoding="utf-8")).items():
            where = path.relative_to(folder).as_posix()
            found.setdefault(number, []).extend(f"{where}::{name}" for name in names)
    return found


def test_every_fault_case_F1_to_F26_has_a_test_named_after_it() -> None:
    found = fault_tests_under(TESTS)
    missing = [f"F{n} ({what})" for n, what in CATALOGUE.items() if n not in found]
    assert not missing, "fault cases without a test named test_F<n>_…: " + ", ".join(missing)
    strangers = sorted(n for n in found if n not in CATALOGUE)
    assert not strangers, f"tests named after fault cases the catalogue lacks: {strangers}"


def test_the_catalogue_reader_sees_functions_methods_and_async_tests_only() -> None:
    source = """
def test_F3_plain(): ...
async def test_F12_async(): ...
class TestGroup:
    def test_F7_method(self): ...
def test_F4(): ...             # no underscore after the number: not a case test
def helper_test_F5_x(): ...
test_F6_not_a_function = 1
"""
    assert fault_tests_in(source) == {
        3: ["test_F3_plain"],
        12: ["test_F12_async"],
        7: ["test_F7_method"],
    }
