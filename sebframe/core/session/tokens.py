"""OAuth2 access tokens of the Exam API (client credentials of a connection configuration).

Tokens live in the database, so they hold across server processes and restarts until they expire. Each
process caches what it verified; a sync every second or so drops tokens whose configuration was
deactivated, deleted or given new credentials, so revocation reaches every process within seconds.
Like SEB Server, one token is shared by all SEB clients of a configuration: a client asking again
while a token is valid gets the same one, and issuing never invalidates earlier tokens.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from sebframe.core.db import Database
from sebframe.core.db.models import ConnectionConfiguration, ExamApiToken, Institution
from sebframe.core.sebconfig.connection_configs import ClientAccess
from sebframe.core.secrets import SecretBox

TOKEN_VALIDITY_SECONDS = 43_200  # SEB Server's accessTokenValiditySeconds (12 h)
REUSE_MARGIN_SECONDS = 600  # hand out a fresh token rather than one that expires within the exam
NEGATIVE_CACHE_SECONDS = 5.0
MAX_NEGATIVE_CACHE = 10_000


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a valid bearer token stands for."""

    connection_config_id: int
    institution_id: int
    client_id: str
    expires_at: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class IssuedToken:
    value: str
    expires_in: int
    scope: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ExamApiTokens:
    def __init__(self, db: Database, secrets_box: SecretBox) -> None:
        self.db = db
        self.secrets = secrets_box
        self._valid: dict[str, TokenGrant] = {}  # token -> grant, verified against the database
        self._unknown: dict[str, float] = {}  # token -> monotonic time it was found invalid

    async def issue(self, access: ClientAccess, scope: str) -> IssuedToken:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            existing = (await session.execute(
                select(ExamApiToken).where(
                    ExamApiToken.connection_config_id == access.configuration_id,
                    ExamApiToken.client_id == access.client_id, ExamApiToken.scope == scope,
                    ExamApiToken.expires_at > now + timedelta(seconds=REUSE_MARGIN_SECONDS))
                .order_by(ExamApiToken.expires_at.desc()).limit(1))).scalars().first()
            if existing is not None:
                value = self.secrets.decrypt(existing.token_encrypted)
                expires_at = existing.expires_at
            else:
                value = secrets.token_urlsafe(32)
                expires_at = now + timedelta(seconds=TOKEN_VALIDITY_SECONDS)
                session.add(ExamApiToken(
                    token_hash=token_hash(value), token_encrypted=self.secrets.encrypt(value),
                    connection_config_id=access.configuration_id, client_id=access.client_id, scope=scope,
                    issued_at=now, expires_at=expires_at))
        self._unknown.pop(value, None)
        return IssuedToken(value, max(1, int((expires_at - now).total_seconds()) - 1), scope)

    async def verify(self, token: str) -> TokenGrant | None:
        """The grant of a valid token; None for unknown, expired or revoked ones. Usually no I/O."""
        grant = self._valid.get(token)
        if grant is not None:
            if grant.expires_at > time.time():
                return grant
            del self._valid[token]
            return None
        if not token or len(token) > 512:
            return None
        seen = self._unknown.get(token)
        if seen is not None and time.monotonic() - seen < NEGATIVE_CACHE_SECONDS:
            return None
        grants = await self._load([token_hash(token)])
        grant = grants.get(token_hash(token))
        if grant is None:
            if len(self._unknown) >= MAX_NEGATIVE_CACHE:
                self._unknown.clear()
            self._unknown[token] = time.monotonic()
            return None
        self._valid[token] = grant
        return grant

    async def sync(self) -> None:
        """Drop cached tokens that are no longer valid in the database (revoked on another process too)."""
        self._unknown.clear()
        if not self._valid:
            return
        by_hash = {token_hash(token): token for token in self._valid}
        still_valid = await self._load(list(by_hash))
        for digest, token in by_hash.items():
            if digest not in still_valid:
                self._valid.pop(token, None)

    async def delete_expired(self) -> None:
        async with self.db.transaction() as session:
            await session.execute(delete(ExamApiToken).where(ExamApiToken.expires_at <= datetime.now(UTC)))

    async def _load(self, digests: list[str]) -> dict[str, TokenGrant]:
        """Grants of the given token hashes that are valid now: unexpired, configuration and institution
        active, and issued for the configuration's current client id."""
        grants: dict[str, TokenGrant] = {}
        now = datetime.now(UTC)
        async with self.db.read() as session:
            for start in range(0, len(digests), 500):
                rows = await session.execute(
                    select(ExamApiToken.token_hash, ExamApiToken.connection_config_id, ExamApiToken.client_id,
                           ExamApiToken.expires_at, ConnectionConfiguration.institution_id)
                    .join(ConnectionConfiguration,
                          ConnectionConfiguration.id == ExamApiToken.connection_config_id)
                    .join(Institution, Institution.id == ConnectionConfiguration.institution_id)
                    .where(ExamApiToken.token_hash.in_(digests[start:start + 500]),
                           ExamApiToken.expires_at > now,
                           ExamApiToken.client_id == ConnectionConfiguration.client_id,
                           ConnectionConfiguration.active.is_(True), Institution.active.is_(True)))
                for row in rows:
                    grants[row.token_hash] = TokenGrant(row.connection_config_id, row.institution_id, row.client_id,
                                                        row.expires_at.timestamp())
        return grants
