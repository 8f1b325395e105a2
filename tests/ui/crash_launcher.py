"""`sofs --data-dir DIR` with one test hook: F12 raises while a local variable holds SENTINEL.

Usage: python crash_launcher.py DIR SENTINEL [--textual-default]

With --textual-default, Textual's own crash handling is put back: the control run that shows
the test would catch a leak (Textual 8.2.8 prints a traceback with locals).
"""

from __future__ import annotations

import sys
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

import sofs_tui.app as app_module
from sofs_tui.cli import main


class CrashOnF12(app_module.SofsApp):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f12", "crash", "Crash")]

    def action_crash(self) -> None:
        family = f"{SENTINEL} family"  # case data in a local when the bug strikes
        raise RuntimeError(f"could not draw the {family}")


if __name__ == "__main__":
    DATA_DIR, SENTINEL = sys.argv[1], sys.argv[2]
    if "--textual-default" in sys.argv:
        CrashOnF12._handle_exception = App._handle_exception  # type: ignore[method-assign]
    app_module.SofsApp = CrashOnF12  # type: ignore[misc]
    sys.exit(main(["--data-dir", DATA_DIR]))
