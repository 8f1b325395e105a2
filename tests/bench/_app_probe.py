"""_app_probe.py MODE [DATA_DIR]: one headless run (80×24) of an app, exiting on a chosen paint.

MODE
  bare      Header + Static + Footer, exits on its first paint (perf-baseline.md §2 `min`).
  unlock    `sofs --data-dir DATA_DIR` through the real start path (`cli.main` → `run_app` →
            `run_guarded`), exits on the first paint of the unlock screen: the app's first
            frame on an enrolled store.
  caseload  the same start; when the unlock screen is painted, puts the passphrase (from
            SOFS_BENCH_PASSPHRASE) in its field and submits it, as Enter would, then exits on
            the first paint of the caseload's first page.
  caseload-typed  the same, with the passphrase submitted TYPING_SECONDS after the unlock
            screen's paint, as a person typing it would.
  caseload-ready  as `caseload`, but exits once the store itself has opened behind the first
            page (every action ready), not at the page's paint.

What the probe changes in the app: `App.run(headless=True, size=(80, 24))`, a hook on the
unlock screen's mount, and (caseload) hooks on `first_page.read_first_page`,
`SofsApp.store_unlocked`, that caseload screen's `_show` and `SofsApp.store_opened`, which only
record times. The first is installed by the app's preparation thread once it has imported
`first_page` (see `watch_first_page`), the others once the app reaches them.

Prints one JSON line: seconds from the start of this script to each mark (and each mark's
wall-clock time, so the parent can count from the moment it started this process), the heavy
modules already imported at the first frame, this process's peak resident set (Linux VmHWM,
MiB) and, for `caseload`, its resident set when the page was painted (VmRSS, MiB).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

HEAVY = ("sqlmodel", "sqlalchemy", "httpx", "keyring", "holidays", "sqlcipher3", "argon2")
SIZE = (80, 24)
TYPING_SECONDS = 2.0
marks: dict[str, float] = {}
epochs: dict[str, float] = {}  # the same moments on the wall clock, for the parent process
heavy_at_first_frame: list[str] = []


def mark(name: str) -> None:
    if name not in marks:
        marks[name] = time.perf_counter() - STARTED
        epochs[name] = time.time()


def first_frame() -> None:
    mark("first_frame")
    heavy_at_first_frame.extend(name for name in HEAVY if name in sys.modules)


def memory_mib(field: str) -> float | None:
    """From /proc/self/status (Linux): "VmHWM" peak resident set, "VmRSS" resident now."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_bare() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("Signs of Safety - probe")
            yield Footer()

        def on_mount(self) -> None:
            self.call_after_refresh(self.painted)

        def painted(self) -> None:
            first_frame()
            self.exit()

    Bare().run(headless=True, size=SIZE)


def run_sofs(data_dir: str, mode: str) -> None:
    from textual.app import App

    from sofs_tui import cli
    from sofs_tui.screens.unlock import UnlockScreen

    real_run = App.run

    def headless_run(self: App[Any], *args: Any, **kwargs: Any) -> Any:
        kwargs.update(headless=True, size=SIZE)
        return real_run(self, *args, **kwargs)

    def unlock_mounted(screen: UnlockScreen) -> None:
        screen.app.call_after_refresh(unlock_painted, screen)

    def unlock_painted(screen: UnlockScreen) -> None:
        first_frame()
        if mode == "unlock":
            screen.app.exit()
            return
        watch_caseload(mode)
        field: Any = screen.query_one("#passphrase")

        def enter() -> None:
            field.value = os.environ["SOFS_BENCH_PASSPHRASE"]
            mark("passphrase_entered")
            screen.call_later(field.action_submit)

        if mode == "caseload-typed":  # as a worker types: the passphrase comes after a while
            screen.set_timer(TYPING_SECONDS, enter)
        else:
            enter()

    App.run = headless_run  # type: ignore[method-assign]
    if mode != "unlock":
        watch_first_page()
    UnlockScreen.on_mount = unlock_mounted  # type: ignore[attr-defined]
    code = cli.main(["--data-dir", data_dir])
    if code:
        raise SystemExit(code)


def watch_first_page() -> None:
    """Record the first page's read (`first_page.read_first_page`), hooked once the unlock's
    preparation thread has imported `first_page`, which the page's read waits for: importing
    it here, on the event loop before the Enter, would hold up the Enter by the import."""
    from sofs_tui.app import SofsApp

    real_prepare = SofsApp._prepare_first_page

    def prepare_first_page(app: SofsApp) -> None:
        real_prepare(app)
        from sofs_tui.store import first_page

        real_read = first_page.read_first_page

        def read_first_page(*args: Any, **kwargs: Any) -> Any:
            mark("query_started")
            page = real_read(*args, **kwargs)
            mark("query_done")
            return page

        first_page.read_first_page = read_first_page

    SofsApp._prepare_first_page = prepare_first_page  # type: ignore[method-assign]


def watch_caseload(mode: str) -> None:
    """Record the first page's read, the unlock and the store's opening; exit once the page is
    painted (or, `caseload-ready`, once the store has opened too)."""
    from sofs_tui.app import SofsApp

    real_unlocked = SofsApp.store_unlocked
    real_opened = SofsApp.store_opened
    wait_for_store = mode == "caseload-ready"

    def store_unlocked(app: SofsApp, *args: Any, **kwargs: Any) -> None:
        mark("unlocked")
        real_unlocked(app, *args, **kwargs)
        from sofs_tui.screens.case_list import CaseListScreen

        screen = app.screen
        assert isinstance(screen, CaseListScreen), screen
        real_show = screen._show

        def show(*args: Any) -> None:
            real_show(*args)
            if "rows" not in marks:
                marks["rows"] = float(screen.table.row_count)
                app.call_after_refresh(painted, app, not wait_for_store)

        screen._show = show  # type: ignore[method-assign]

    def store_opened(app: SofsApp, *args: Any, **kwargs: Any) -> None:
        real_opened(app, *args, **kwargs)
        mark("store_open")
        if wait_for_store and "caseload_painted" in marks:
            app.exit()

    SofsApp.store_unlocked = store_unlocked  # type: ignore[method-assign]
    SofsApp.store_opened = store_opened  # type: ignore[method-assign]


def painted(app: Any, exit_now: bool) -> None:
    mark("caseload_painted")
    rss = memory_mib("VmRSS")
    if rss is not None:
        marks["rss_mib"] = rss
    if exit_now or "store_open" in marks:
        app.exit()


def main() -> None:
    mode = sys.argv[1]
    if mode == "bare":
        run_bare()
    else:
        run_sofs(sys.argv[2], mode)
    mark("exited")
    report = {
        "marks": marks,
        "epochs": epochs,
        "heavy": heavy_at_first_frame,
        "peak_mib": memory_mib("VmHWM"),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
