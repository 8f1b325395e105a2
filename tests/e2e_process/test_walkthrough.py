"""Issue 4, "Done when", as the README walkthrough has it, command for command: the service on
PostgreSQL with four workers, set up with `sofs admin`; two workers and a manager on three data
dirs; both workers edit the same case offline (the same entry, and an entry each); one
conflict; Bob keeps both; everyone syncs twice and holds the service's records exactly.

Where the README says "in the app" the test runs `tests/e2e_process/laptop.py`, which calls
the store functions the screens call. Secrets go through standard input
(`--passphrase-stdin`, `--password-stdin`) where the README's reader types them at a prompt.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sofs_tui.store import sync_local
from tests.e2e_process.harness import PASSWORD, TEAM, Laptop, Run, Service, child_env
from tests.e2e_process.state import client_state, server_state

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

#: The README's scripted "Keep both" (the app's Conflicts screen does the same).
KEEP_BOTH = (
    "import sys; from pathlib import Path; from sofs_tui.store.store import unlock; "
    "from sofs_tui.store import sync_local; "
    'store = unlock(Path(sys.argv[1]), sys.stdin.readline().rstrip("\\n")); '
    '[print("Kept both; the other text is now entry", sync_local.keep_both(store, c.conflict_id)) '
    "for c in sync_local.list_conflicts(store)]; store.lock()"
)


class Terminal:
    """The README's commands, typed in order. `sofs …` runs through the same entry point as
    the installed command (`sofs_tui.cli.main`, in this process, to keep the test quick); the
    service is a real `sofs serve` process; the scripted Keep both is a real `python -c`."""

    def __init__(self, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SOFS_DATABASE_URL", database_url)  # export SOFS_DATABASE_URL=…
        self.database_url = database_url

    def sofs(self, *argv: str, stdin: str = "") -> Run:
        from sofs_tui.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(list(argv), stdin=io.StringIO(stdin), out=out)
        run = Run(["sofs", "", "", *argv], code, out.getvalue(), err.getvalue())
        assert code == 0, str(run)
        return run

    def laptop_sofs(self, laptop: Laptop, *argv: str) -> Run:
        """`sofs --data-dir ./NAME …` with the secrets typed at the prompts."""
        return self.sofs(
            "--data-dir", str(laptop.data_dir), "--passphrase-stdin", *argv, stdin=laptop.secrets()
        )

    def in_the_app(self, laptop: Laptop, *argv: str) -> dict[str, str]:
        """What the worker does in the app's screens (tests/e2e_process/laptop.py)."""
        from tests.e2e_process import laptop as screens

        out = io.StringIO()
        data_dir = ["--data-dir", str(laptop.data_dir)]
        screens.main([*data_dir, *argv], stdin=io.StringIO(f"{laptop.passphrase}\n"), out=out)
        made: dict[str, str] = json.loads(out.getvalue())
        return made

    def python_c(self, code: str, *argv: str, stdin: str) -> Run:
        done = subprocess.run(
            [sys.executable, "-c", code, *argv],
            input=stdin,
            capture_output=True,
            text=True,
            env=child_env(SOFS_DATABASE_URL=self.database_url),
            timeout=120,
        )
        run = Run(["python", "-c", "…", *argv], done.returncode, done.stdout, done.stderr)
        assert run.returncode == 0, str(run)
        return run


def test_done_when_two_workers_and_a_manager_on_postgresql_end_with_identical_records(
    pg_url: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database_url = pg_url()
    term = Terminal(database_url, monkeypatch)
    alice, bob, mo = (Laptop(name, tmp_path / name) for name in ("alice", "bob", "mo"))
    everyone = (alice, bob, mo)
    service_dir = str(tmp_path / "sofs-service")

    # 2. The service's schema, a team, two workers and a manager.
    term.sofs("admin", "--data-dir", service_dir, "migrate")
    term.sofs("admin", "--data-dir", service_dir, "team", "add", TEAM)
    for name, role in (("alice", "worker"), ("bob", "worker"), ("mo", "manager")):
        term.sofs(
            "admin", "--data-dir", service_dir, "user", "add", name, "--role", role,
            "--team", TEAM, "--password-stdin", stdin=f"{PASSWORD}\n",
        )  # fmt: skip
    term.sofs("admin", "--data-dir", service_dir, "manager", "add", "mo", TEAM)

    # 3. sofs serve --data-dir ./sofs-service --host 127.0.0.1 --port 8000 --workers 4
    service = Service(Path(service_dir), database_url, workers=4)
    try:
        service.start()
        url = service.url

        # 4. Three laptops: set up, then sign in.
        for laptop in everyone:
            as_manager = ["--role", "manager"] if laptop is mo else []
            term.sofs(
                "--data-dir", str(laptop.data_dir), "--passphrase-stdin", "init",
                "--user", laptop.name, *as_manager, stdin=f"{laptop.passphrase}\n",
            )  # fmt: skip
            assert "Signed in" in term.laptop_sofs(laptop, "login", url, "--password-stdin").stdout

        # 5. Alice opens the case in the app and syncs; Bob and Mo sync and get it.
        made = term.in_the_app(
            alice, "new-case", "CP-0042", "Okafor", "Tayo has a bruise on his arm."
        )
        assessment, shared = made["assessment"], made["entry"]
        assert "Sent 3 changes" in term.laptop_sofs(alice, "sync", "--password-stdin").stdout
        for laptop in (bob, mo):
            received = term.laptop_sofs(laptop, "sync", "--password-stdin").stdout
            assert "received 3 updates" in received, received

        # 6. Offline, both edit the same entry and each adds one of their own.
        alice_text = "Bruise on Tayo's upper left arm, seen at nursery on Monday."
        bob_text = "Bruise on Tayo's arm; Dad says he fell off his bike."
        term.in_the_app(alice, "edit-entry", assessment, shared, alice_text)
        term.in_the_app(bob, "edit-entry", assessment, shared, bob_text)
        term.in_the_app(alice, "add-entry", assessment, "Grandmother collects Tayo every day.")
        term.in_the_app(bob, "add-entry", assessment, "Dad has started a parenting course.")

        # 7. Alice syncs first; Bob's edit of the same entry is then a conflict.
        assert "0 new conflicts" in term.laptop_sofs(alice, "sync", "--password-stdin").stdout
        bob_sync = term.laptop_sofs(bob, "sync", "--password-stdin").stdout
        assert "Sent 2 changes" in bob_sync and "1 new conflict" in bob_sync, bob_sync
        assert "Conflicts screen" in bob_sync

        # 8. The manager sees it too.
        term.laptop_sofs(mo, "sync", "--password-stdin")
        with mo.store() as store:
            assert [c.record_id for c in sync_local.list_conflicts(store)] == [shared]

        # 9. Bob keeps both versions (the app: Conflicts > Keep both).
        kept = term.python_c(KEEP_BOTH, str(bob.data_dir), stdin=f"{bob.passphrase}\n")
        assert kept.stdout.count("Kept both") == 1, kept
        term.laptop_sofs(bob, "sync", "--password-stdin")

        # 10. Everyone syncs twice.
        for _ in range(2):
            for laptop in everyone:
                term.laptop_sofs(laptop, "sync", "--password-stdin")

        server = server_state(database_url)
    finally:
        service.stop()

    texts = [json.loads(fields)["text"] for kind, _, _, fields in server.records.values()
             if kind == "entry"]  # fmt: skip
    assert sorted(texts) == sorted(
        [alice_text, bob_text, "Grandmother collects Tayo every day.",
         "Dad has started a parenting course."]
    )  # fmt: skip
    assert server.conflicts == [(shared, "resolved", "hard")]
    assert set(server.revisions_per_change.values()) == {1}
    for laptop in everyone:
        state = client_state(laptop)
        assert state.records == server.records, laptop.name  # identical everywhere
        assert {status for _, status, _ in state.conflicts} <= {"resolved"}, laptop.name
        assert {s for _, _, s in state.outbox} <= {"done"}, laptop.name
