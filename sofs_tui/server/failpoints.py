"""Named failpoints for the service's fault tests (SYNC reference §5.1): a test sets
`FAILPOINTS[name] = hook` and the code calls the hook there with some context, to raise (a
poison change, a crash before or after commit) or to wait. Empty, and free, in production."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: name -> hook(**context). Names: push.decide, push.before_clock, push.before_commit,
#: push.after_commit.
FAILPOINTS: dict[str, Callable[..., None]] = {}


def failpoint(name: str, **context: Any) -> None:
    hook = FAILPOINTS.get(name)
    if hook is not None:
        hook(**context)
