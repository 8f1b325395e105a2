"""The README's two quick-start commands stay true, and CI runs exactly the test one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_the_quick_start_is_two_commands() -> None:
    run_demo, run_tests = _quick_start_commands()
    assert run_demo.endswith("sofs --demo") and "pip install" in run_demo
    assert "pytest" in run_tests and "'.[test]'" in run_tests


def test_ci_runs_the_readme_test_command_word_for_word() -> None:
    _, run_tests = _quick_start_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f'"{run_tests}"' in ci
    assert "rm -rf .venv" in ci  # a fresh virtual environment every run
    for check in ("ruff check", "ruff format --check", "mypy sofs_tui", "SOFS_REQUIRE_POSTGRES=1"):
        assert check in ci
