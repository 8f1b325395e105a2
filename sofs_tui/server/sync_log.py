"""The pull stream's write side: the `sync_clock` counter and the `change_log` rows it numbers.

Every write transaction that others must hear about reserves its `seq` numbers with one
`UPDATE sync_clock SET seq = seq + n RETURNING seq`, as late as it can (only the log inserts and
the COMMIT follow). The row lock that UPDATE takes is held until COMMIT, so a second writer
waits, then numbers after the first: seq order is commit order, and a rolled-back transaction
leaves no gap (SYNC reference §7, invariant 7). SQLite serialises writers anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, text

from sofs_tui.server.db import METADATA

CHANGE_LOG = METADATA.tables["change_log"]

RECORD = "record"
CONFLICT = "conflict"
GAIN = "gain"
REVOKE = "revoke"
OUTCOME = "outcome"


@dataclass(frozen=True)
class LogRow:
    """One event of the stream. `record` and `conflict` rows reach everyone who can see
    `case_id`; `gain`, `revoke` and `outcome` rows reach `principal_user_id` only."""

    kind: str
    case_id: str = ""
    entity: str = ""
    record_id: str = ""
    principal_user_id: str | None = None
    change_id: str | None = None
    conflict_id: str | None = None


def reserve_seqs(connection: Connection, count: int) -> int:
    """Take `count` consecutive seqs; the first of them. Holds the clock row until COMMIT."""
    last = connection.execute(
        text("UPDATE sync_clock SET seq = seq + :n WHERE id = 1 RETURNING seq"), {"n": count}
    ).scalar_one()
    return int(last) - count + 1


def current_seq(connection: Connection) -> int:
    """The newest seq committed (as this transaction sees it)."""
    return int(connection.execute(text("SELECT seq FROM sync_clock WHERE id = 1")).scalar_one())


def append(connection: Connection, rows: Sequence[LogRow]) -> list[int]:
    """Number `rows` in order and insert them; their seqs. Call it last in the transaction."""
    if not rows:
        return []
    first = reserve_seqs(connection, len(rows))
    seqs = list(range(first, first + len(rows)))
    connection.execute(
        insert(CHANGE_LOG),
        [
            {
                "seq": seq,
                "kind": row.kind,
                "entity": row.entity,
                "record_id": row.record_id,
                "case_id": row.case_id,
                "principal_user_id": row.principal_user_id,
                "change_id": row.change_id,
                "conflict_id": row.conflict_id,
            }
            for seq, row in zip(seqs, rows, strict=True)
        ],
    )
    return seqs
