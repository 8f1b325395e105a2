"""Scope changes as stream events (R37): who starts or stops seeing a case.

admin.py calls these in the same transaction as an assignment change, after it, right before
COMMIT: each writes `gain`/`revoke` change_log rows through the clock (sync_log.py), for the
users concerned only. A `gain` reaches the user's next pull with a snapshot of the case
(pull.py), so records older than their cursor arrive too; a `revoke` makes their laptops drop
the case's clean copies.

Typical use, for a case moving to another team or lead:

    before = principals_for(session, scope.team_id, scope.lead_user_id)
    ... change scope.team_id / scope.lead_user_id, session.flush() ...
    after = principals_for(session, scope.team_id, scope.lead_user_id)
    record_scope_change(session, scope.case_id, before, after)
    session.commit()

and for a user whose own reach changes (moved team, made or unmade manager of a team):

    before = cases_visible_to(session, user.id)
    ... change the user or their TeamManager rows, session.flush() ...
    record_user_scope_change(session, user.id, before, cases_visible_to(session, user.id))
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session

from sofs_tui.server import sync_log
from sofs_tui.server.db import METADATA
from sofs_tui.server.principal import Principal
from sofs_tui.server.scope import visible_cases_clause
from sofs_tui.server.sync_log import GAIN, REVOKE, LogRow

USERS = METADATA.tables["app_user"]
MANAGERS = METADATA.tables["team_manager"]
CASE_SCOPE = METADATA.tables["case_scope"]


def principals_for(session: Session, team_id: str | None, lead_user_id: str | None) -> set[str]:
    """The users who see a case led by `lead_user_id` in `team_id` (scope.py's rule): the lead,
    the team's workers and managers, and the managers who manage the team. Admins see none."""
    users, managers = USERS, MANAGERS
    connection = session.connection()
    found: set[str] = set()
    if lead_user_id:
        found |= set(
            connection.scalars(
                select(users.c.id).where(users.c.id == lead_user_id, users.c.role != "admin")
            )
        )
    if team_id:
        found |= set(
            connection.scalars(
                select(users.c.id).where(users.c.team_id == team_id, users.c.role != "admin")
            )
        )
        found |= set(
            connection.scalars(
                select(managers.c.user_id)
                .join(users, users.c.id == managers.c.user_id)
                .where(managers.c.team_id == team_id, users.c.role == "manager")
            )
        )
    return found


def record_scope_change(
    session: Session, case_id: str, old_principals: Iterable[str], new_principals: Iterable[str]
) -> list[int]:
    """Write the stream events of a case changing hands, in the caller's transaction: `revoke`
    for each user in old but not new, `gain` for each in new but not old. Their seqs. Call it
    last before COMMIT (it takes the clock row until then)."""
    old, new = set(old_principals), set(new_principals)
    rows = [LogRow(REVOKE, case_id, principal_user_id=u) for u in sorted(old - new)]
    rows += [LogRow(GAIN, case_id, principal_user_id=u) for u in sorted(new - old)]
    return sync_log.append(session.connection(), rows)


def record_user_scope_change(
    session: Session, user_id: str, old_case_ids: Iterable[str], new_case_ids: Iterable[str]
) -> list[int]:
    """The same for one user whose own reach changed (moved team, made or unmade manager)."""
    old, new = set(old_case_ids), set(new_case_ids)
    rows = [LogRow(REVOKE, c, principal_user_id=user_id) for c in sorted(old - new)]
    rows += [LogRow(GAIN, c, principal_user_id=user_id) for c in sorted(new - old)]
    return sync_log.append(session.connection(), rows)


def cases_visible_to(session: Session, user_id: str) -> set[str]:
    """Every case `user_id` sees now (for `record_user_scope_change` before and after)."""
    connection = session.connection()
    user = connection.execute(select(USERS).where(USERS.c.id == user_id)).first()
    if user is None:
        return set()
    managed = frozenset(
        connection.scalars(select(MANAGERS.c.team_id).where(MANAGERS.c.user_id == user_id))
    )
    principal = Principal(user.id, user.username, user.role, user.team_id, None, managed)
    return set(
        connection.scalars(select(CASE_SCOPE.c.case_id).where(visible_cases_clause(principal)))
    )
