"""The `sofs` command without a screen: enrol, change passphrase, demo data, clear errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sofs_tui.cli import _app_options, _parser, main
from sofs_tui.store.keys import KdfParams
from sofs_tui.store.store import DB_NAME, KEYFILE_NAME, unlock
from tests.support.fresh_python import run_fresh_python

PASS = "correct horse battery"


@pytest.fixture(autouse=True)
def _fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at the OWASP minimum, so enrolment in tests takes milliseconds."""
    import sofs_tui.store.store as store_module

    monkeypatch.setattr(store_module, "KdfParams", lambda: KdfParams.FAST_FOR_TESTS)


def run(data_dir: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(
        ["--data-dir", str(data_dir), "--passphrase-stdin", *args],
        stdin=io.StringIO(stdin),
        out=out,
    )
    return code, out.getvalue()


def test_init_creates_an_encrypted_store_for_the_named_worker(tmp_path: Path) -> None:
    code, said = run(tmp_path, "init", "--user", "a.worker", stdin=PASS + "\n")
    assert code == 0 and "a.worker" in said
    assert (tmp_path / DB_NAME).is_file() and (tmp_path / KEYFILE_NAME).is_file()
    assert (tmp_path / DB_NAME).stat().st_mode & 0o077 == 0  # owner only
    store = unlock(tmp_path, PASS)
    try:
        assert store.actor.username == "a.worker"
    finally:
        store.lock()


def test_init_twice_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(tmp_path, "init", "--user", "a", stdin=PASS + "\n")
    before = (tmp_path / KEYFILE_NAME).read_bytes()
    code, _ = run(tmp_path, "init", "--user", "a", stdin="another passphrase\n")
    assert code == 1 and "already set up" in capsys.readouterr().err
    assert (tmp_path / KEYFILE_NAME).read_bytes() == before


def test_demo_data_fills_the_store(tmp_path: Path) -> None:
    run(tmp_path, "init", "--user", "a", stdin=PASS + "\n")
    code, said = run(tmp_path, "demo-data", "--cases", "12", stdin=PASS + "\n")
    assert code == 0 and "12 invented cases" in said


def test_wrong_passphrase_says_so_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(tmp_path, "init", "--user", "a", stdin=PASS + "\n")
    files = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    code, _ = run(tmp_path, "demo-data", "--cases", "3", stdin="not the passphrase\n")
    err = capsys.readouterr().err
    assert code == 1 and "does not unlock" in err and "Traceback" not in err
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == files


def test_passwd_rewraps_so_only_the_new_passphrase_opens(tmp_path: Path) -> None:
    run(tmp_path, "init", "--user", "a", stdin=PASS + "\n")
    db_before = (tmp_path / DB_NAME).read_bytes()
    code, _ = run(tmp_path, "passwd", stdin=f"{PASS}\nnew passphrase here\n")
    assert code == 0
    assert (tmp_path / DB_NAME).read_bytes() == db_before  # the data is not re-encrypted
    unlock(tmp_path, "new passphrase here").lock()
    code, _ = run(tmp_path, "demo-data", "--cases", "1", stdin=PASS + "\n")
    assert code == 1


def test_commands_on_a_folder_that_was_never_set_up_say_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(tmp_path / "empty", "demo-data", stdin=PASS + "\n")
    assert code == 1 and "sofs init" in capsys.readouterr().err
    assert not (tmp_path / "empty" / DB_NAME).exists()


def test_no_passphrase_on_stdin_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(tmp_path, "init", stdin="")
    assert code == 1 and "standard input" in capsys.readouterr().err


def test_a_passphrase_is_never_taken_from_an_argument_or_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {a for action in _parser()._actions for a in action.option_strings}
    assert not [o for o in options if "pass" in o and o != "--passphrase-stdin"]
    with pytest.raises(SystemExit):
        main(["--data-dir", str(tmp_path), "--passphrase", PASS, "init"])
    for name in ("SOFS_PASSPHRASE", "SOFS_PASSWORD", "PASSPHRASE"):
        monkeypatch.setenv(name, PASS)
    # With the secret only in the environment and no stdin, init refuses rather than using it.
    code, _ = run(tmp_path, "init", stdin="")
    assert code == 1 and not (tmp_path / KEYFILE_NAME).exists()


def test_python_m_sofs_tui_is_the_same_command(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-m", "sofs_tui", "--version"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and done.stdout.startswith("sofs ")


def test_a_corrupt_store_gives_a_message_and_no_traceback(tmp_path: Path) -> None:
    run(tmp_path, "init", "--user", "a", stdin=PASS + "\n")
    db = tmp_path / DB_NAME
    for suffix in ("-wal", "-shm"):
        (tmp_path / (DB_NAME + suffix)).unlink(missing_ok=True)
    data = bytearray(db.read_bytes())
    data[5000:5100] = bytes(100)  # damage a page
    data[20:40] = bytes(20)
    db.write_bytes(bytes(data))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-m", "sofs_tui", "--data-dir", str(tmp_path), "--passphrase-stdin",
         "demo-data", "--cases", "1"],
        input=PASS + "\n", capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 1
    assert "damaged" in done.stderr and "Traceback" not in done.stderr
    assert "hmac" not in done.stderr.lower() and "ERROR CORE" not in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--data-dir", "/tmp/x"],
        ["--data-dir=/tmp/x"],
        ["--demo"],
        ["--passphrase-stdin", "--data-dir", "relative/folder", "--demo"],
        ["--data-dir", "/a", "--data-dir", "/b"],  # the last one counts, as in argparse
        ["--demo", "--demo"],
    ],
)
def test_the_app_start_reads_its_options_as_argparse_does(argv: list[str]) -> None:
    quick = _app_options(argv)
    assert quick is not None
    assert vars(quick) == vars(_parser().parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [
        ["init"],
        ["--help"],
        ["--version"],
        ["--data", "/tmp/x"],  # an abbreviation: argparse's to accept
        ["--data-dir"],
        ["--data-dir", "--demo"],
        ["--data-dir="],
        ["--data-dir=-x"],
        ["--demo", "sync"],
        ["--", "--demo"],
        ["-h"],
    ],
)
def test_anything_but_the_app_start_goes_to_argparse(argv: list[str]) -> None:
    assert _app_options(argv) is None


def test_starting_the_app_imports_no_argument_parser() -> None:
    """`sofs --data-dir DIR` reads its options without argparse (~3 ms before the frame)."""
    code = (
        "import sys\n"
        "from sofs_tui.cli import _parse\n"
        "args = _parse(['--data-dir', 'somewhere', '--demo'])\n"
        "print(args.data_dir, args.demo, 'argparse' in sys.modules, 'getpass' in sys.modules)\n"
    )
    assert run_fresh_python(code).split() == ["somewhere", "True", "False", "False"]


def test_the_time_zone_search_path_is_read_before_any_of_the_apps_threads_start() -> None:
    """Python 3.11's `sysconfig` is not thread-safe: `zoneinfo` first imported in a thread
    could read an empty search path and never find Europe/London (the demo crashed under load).
    Importing the app settles both in the importing thread, before any thread starts."""
    code = (
        "import sys, threading\n"
        "import sofs_tui.app\n"
        "zoneinfo = sys.modules.get('zoneinfo')\n"
        "print(threading.active_count(), zoneinfo is not None and bool(zoneinfo.TZPATH))\n"
    )
    assert run_fresh_python(code).split() == ["1", "True"]
