"""`python -m sofs_tui` behaves exactly like `sofs`."""

from sofs_tui.cli import main

raise SystemExit(main())
