"""Who is calling: the signed-in user and the device, as every endpoint sees them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    user_id: str
    username: str
    role: str  # worker | manager | admin
    team_id: str | None
    device_id: str | None
    managed_team_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
