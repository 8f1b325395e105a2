"""`sofs demo-data` run again adds more cases; its --cases limits; `sofs passwd` at a prompt."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from sofs_tui import cli
from sofs_tui.cli import _parser, main
from sofs_tui.store import cases, demo
from sofs_tui.store.demo import fill_demo_caseload
from sofs_tui.store.store import DB_NAME, KEYFILE_NAME, Store, unlock
from sofs_tui.store.tables import Case
from tests.test_cli import PASS, _fast_kdf  # noqa: F401  (an autouse fixture)
from tests.test_cli import run as run_cli


def run(data_dir: Path, *args: str, stdin: str = PASS + "\n") -> tuple[int, str]:
    """`tests.test_cli.run`, the passphrase on stdin unless told otherwise."""
    return run_cli(data_dir, *args, stdin=stdin)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    assert run(tmp_path, "init", "--user", "a.worker")[0] == 0
    return tmp_path


@pytest.fixture
def opened(data_dir: Path) -> Iterator[Store]:
    store = unlock(data_dir, PASS)
    yield store
    store.lock()


def references(data_dir: Path) -> list[str]:
    store = unlock(data_dir, PASS)
    try:
        with store.read() as session:
            return sorted(session.exec(select(Case.reference)).all())
    finally:
        store.lock()


def demo_numbers(count: int, first: int = 1) -> list[str]:
    return [f"DEMO-{n:05d}" for n in range(first, first + count)]


# --- a second run adds more ------------------------------------------------------------------


@pytest.mark.parametrize("second_seed", ["7", "8"], ids=["same-seed", "other-seed"])
def test_demo_data_twice_adds_more_cases_numbered_after_the_first(
    data_dir: Path, second_seed: str
) -> None:
    code, said = run(data_dir, "demo-data", "--cases", "5")
    assert code == 0 and "Added 5 invented cases" in said
    code, said = run(data_dir, "demo-data", "--cases", "3", "--seed", second_seed)
    assert code == 0 and "Added 3 invented cases" in said
    assert references(data_dir) == demo_numbers(8)


def test_numbering_follows_the_highest_demo_reference_not_the_count(opened: Store) -> None:
    for reference in ("DEMO-00050", "DEMO-7", "DEMO-notanumber", "demo-00900", "C-123"):
        cases.create_case(opened, reference=reference, family_name="Handmade family")
    fill_demo_caseload(opened, 2)
    with opened.read() as session:
        made = set(session.exec(select(Case.reference)).all())
    assert {"DEMO-00051", "DEMO-00052"} <= made
    assert len(made) == 7


def test_a_fill_that_fails_part_way_adds_nothing(
    opened: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_demo_caseload(opened, 3)
    real = demo._one_case
    built = 0

    def fails_late(*args: object, **kwargs: object) -> None:
        nonlocal built
        built += 1
        if built > 600:  # after the first 500-case batch has gone to the database
            raise RuntimeError("power cut")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(demo, "_one_case", fails_late)
    with pytest.raises(RuntimeError):
        fill_demo_caseload(opened, 700)
    with opened.read() as session:
        assert sorted(session.exec(select(Case.reference)).all()) == demo_numbers(3)


# --- the limits of --cases -------------------------------------------------------------------


@pytest.mark.parametrize("count", ["0", "10001", "-3", "many"])
def test_a_case_count_out_of_range_is_a_usage_error_before_any_passphrase(
    data_dir: Path, count: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    stdin = io.StringIO(PASS + "\n")
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", str(data_dir), "--passphrase-stdin", "demo-data", "--cases", count],
             stdin=stdin, out=io.StringIO())  # fmt: skip
    assert exited.value.code == 2  # argparse's usage error
    err = capsys.readouterr().err
    assert "--cases" in err and "Traceback" not in err
    if count.lstrip("-").isdigit():
        assert f"choose from 1 to 10000 cases, not {int(count)}" in err
    else:
        assert "'many' is not a whole number" in err
    assert stdin.tell() == 0  # the passphrase was never read
    assert {p.name: p.read_bytes() for p in data_dir.iterdir()} == files


@pytest.mark.parametrize("count", [1, 10_000])
def test_the_case_count_limits_themselves_are_accepted(count: int) -> None:
    # Through the parser, not by filling 10,000 cases (which the benchmarks do).
    assert _parser().parse_args(["demo-data", "--cases", str(count)]).cases == count


def test_the_cli_and_the_filler_agree_on_the_limit(opened: Store) -> None:
    assert cli.MAX_DEMO_CASES == demo.MAX_DEMO_CASES == 10_000
    for count in (0, demo.MAX_DEMO_CASES + 1):
        with pytest.raises(ValueError, match="choose from 1 to 10,000"):
            fill_demo_caseload(opened, count)


# --- passwd at a prompt ----------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _prompted(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, answers: list[str]
) -> tuple[int, list[str]]:
    """`sofs passwd` with a terminal: getpass answers in turn; returns the exit status and
    the prompts shown."""
    asked: list[str] = []
    replies = iter(answers)

    def getpass(prompt: str = "Password: ", stream: object = None) -> str:
        asked.append(prompt)
        return next(replies)

    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("getpass.getpass", getpass)
    code = main(["--data-dir", str(data_dir), "passwd"], out=io.StringIO())
    return code, asked


def test_passwd_at_a_prompt_refuses_two_different_new_passphrases(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keyfile = data_dir / KEYFILE_NAME
    before = keyfile.read_bytes()
    code, asked = _prompted(
        monkeypatch, data_dir, [PASS, "a new passphrase", "a new passphrase, typo"]
    )
    assert asked == ["Current passphrase: ", "New passphrase: ", "New passphrase again: "]
    assert code == 1
    err = capsys.readouterr().err
    assert "two passphrases differ" in err and "Nothing was changed" in err
    assert keyfile.read_bytes() == before
    unlock(data_dir, PASS).lock()  # the old passphrase still opens the store


def test_passwd_at_a_prompt_changes_it_when_both_entries_match(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The control for the test above: the faked prompt does reach change_passphrase.
    code, _ = _prompted(monkeypatch, data_dir, [PASS, "a new passphrase", "a new passphrase"])
    assert code == 0
    unlock(data_dir, "a new passphrase").lock()
    assert (data_dir / DB_NAME).is_file()
