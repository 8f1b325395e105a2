"""Named client failpoints for the process-kill tests (reference/sync.md §5.1 layer B, F8).

`SOFS_CRASH_AT=client.after_send_before_ack` (a comma-separated list is allowed) makes the
process end at once there with status 137, as if killed with SIGKILL: no cleanup, no flush,
no rollback beyond what SQLite does on its own. The variable is read once, at import; when it
is unset a failpoint is a set lookup on an empty set, so production pays nothing.
"""

from __future__ import annotations

import os

#: Where the sync engine can be stopped dead (the points reference §5.2 F8 lists).
AFTER_INFLIGHT = "client.after_inflight"  # a batch marked inflight, not yet sent
AFTER_SEND_BEFORE_ACK = "client.after_send_before_ack"  # the answer came, not yet recorded
PULL_MID_APPLY = "client.pull.mid_apply"  # a page applied, its transaction not committed
AFTER_CHECKPOINT = "client.after_checkpoint"  # a page and its cursor committed
CLIENT_FAILPOINTS = (AFTER_INFLIGHT, AFTER_SEND_BEFORE_ACK, PULL_MID_APPLY, AFTER_CHECKPOINT)

ENVIRONMENT_SWITCH = "SOFS_CRASH_AT"
CRASH_STATUS = 137  # what a shell reports for a process killed by SIGKILL (128 + 9)


def _armed(value: str | None) -> frozenset[str]:
    return frozenset(name.strip() for name in (value or "").split(",") if name.strip())


_ARMED = _armed(os.environ.get(ENVIRONMENT_SWITCH))


def failpoint(name: str) -> None:
    """End the process here if the environment names this point; otherwise nothing."""
    if name in _ARMED:
        os._exit(CRASH_STATUS)
