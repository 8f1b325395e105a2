"""Who sees which case (SECURITY R30, SYNC.md "scope"). The one policy every endpoint uses.

- a worker: cases they lead, and cases of their team;
- a manager: the same, plus every case of the teams they manage;
- an admin: administration only, no case data (least privilege).
Out of scope is indistinguishable from "does not exist" (404, no data).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import Session, col, select

from sofs_tui.server.db import CaseScope
from sofs_tui.server.principal import Principal


def visible_cases_clause(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over `CaseScope` selecting the cases `principal` may see."""
    if principal.is_admin:
        return false()
    teams = set(principal.managed_team_ids) if principal.is_manager else set()
    if principal.team_id:
        teams.add(principal.team_id)
    clauses: list[ColumnElement[bool]] = [col(CaseScope.lead_user_id) == principal.user_id]
    if teams:
        clauses.append(col(CaseScope.team_id).in_(sorted(teams)))
    return or_(*clauses) if clauses else true()


def can_see_case(session: Session, principal: Principal, case_id: str) -> bool:
    found = session.exec(
        select(CaseScope.case_id).where(
            CaseScope.case_id == case_id, visible_cases_clause(principal)
        )
    ).first()
    return found is not None


def visible_case_ids(session: Session, principal: Principal) -> set[str]:
    return set(session.exec(select(CaseScope.case_id).where(visible_cases_clause(principal))))


def scope_for_new_case(principal: Principal) -> tuple[str | None, str]:
    """A case created offline by a worker belongs to their team, led by them."""
    return principal.team_id, principal.user_id
