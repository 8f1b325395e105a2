"""Named failpoints for the service's fault tests (SYNC reference §5.1): a test sets
`FAILPOINTS[name] = hook` and the code calls the hook there with some context, to raise (a
poison change, a crash before or after commit) or to wait. Empty, and free, in production.

For tests with real processes, `SOFS_FAILPOINT=push.after_commit` (a comma-separated list is
allowed) in the service's environment arms those points to end the process at once with
status 137, as if killed with SIGKILL (read once, at import).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

#: name -> hook(**context). Names: push.decide, push.before_clock, push.before_commit,
#: push.after_commit.
FAILPOINTS: dict[str, Callable[..., None]] = {}

ENVIRONMENT_SWITCH = "SOFS_FAILPOINT"
CRASH_STATUS = 137  # 128 + SIGKILL, what a shell reports for a killed process


def failpoint(name: str, **context: Any) -> None:
    hook = FAILPOINTS.get(name)
    if hook is not None:
        hook(**context)


def _die(**context: Any) -> None:
    os._exit(CRASH_STATUS)


for _name in os.environ.get(ENVIRONMENT_SWITCH, "").split(","):
    if _name.strip():
        FAILPOINTS[_name.strip()] = _die
