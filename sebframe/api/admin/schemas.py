"""JSON shapes the admin API returns (request bodies reuse the services' input models)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import ApiToken


class Me(BaseModel):
    id: int
    username: str
    institution_id: int
    roles: list[str]
    timezone: str

    @classmethod
    def of(cls, actor: Actor) -> Me:
        return cls(id=actor.user_id, username=actor.username, institution_id=actor.institution_id,
                   roles=sorted(actor.roles), timezone=actor.timezone)


class TokenRequest(BaseModel):
    name: str = "api"
    expires_in_days: int | None = None


class TokenCreated(BaseModel):
    id: int
    name: str
    token: str
    expires_at: datetime | None

    @classmethod
    def of(cls, plain: str, token: ApiToken) -> TokenCreated:
        return cls(id=token.id, name=token.name, token=plain, expires_at=token.expires_at)
