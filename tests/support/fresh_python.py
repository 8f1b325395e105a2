"""Run a few lines in a fresh interpreter: the way to ask what a start-up imports, with no
module already loaded by the test run, or to crash a process on purpose."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def fresh_python(
    code: str, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -c code args…` (the code dedented) with this project on the path and `env`
    added to this environment; both streams captured, whatever the exit status."""
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
    )
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        input=stdin,
        env=child_env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_fresh_python(code: str) -> str:
    """`python -c code` with this project on the path; its standard output (fails the test,
    with its standard error, if it exits non-zero)."""
    result = fresh_python(code)
    assert result.returncode == 0, result.stderr
    return result.stdout
