"""`sofs --data-dir DIR` whose mapping forms wait a minute after the last keystroke before they
save: whatever a test types is still waiting for that pause when it closes the terminal, however
slowly the machine runs.

Usage: python slow_autosave_launcher.py DIR
"""

from __future__ import annotations

import sys

from sofs_tui.cli import main
from sofs_tui.screens.mapping_autosave import AutosaveForm

#: Far longer than any test waits: the pause never ends while the test runs.
SLOW_AUTOSAVE_DELAY = 60.0

if __name__ == "__main__":
    AutosaveForm.DELAY = SLOW_AUTOSAVE_DELAY
    sys.exit(main(["--data-dir", sys.argv[1]]))
