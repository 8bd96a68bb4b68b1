"""Sign-in with throttling and admin-API bearer tokens (browser sessions: ``web_sessions``)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.passwords import hash_password, needs_rehash, verify_password
from sebframe.core.accounts.roles import EntityType, Role
from sebframe.core.db import Database, utc_now
from sebframe.core.db.models import ApiToken, LoginFailure, UserAccount
from sebframe.core.errors import AuthenticationFailed, NotFound, TooManyAttempts, ValidationFailed

TOKEN_PREFIX = "sbf_"
# A token's last use is written at most this often, so API calls do not each cost a write.
_LAST_USED_RESOLUTION = timedelta(minutes=1)
# Failures from one address across all usernames before that address is locked out too.
_ADDRESS_FACTOR = 4


def actor_of(user: UserAccount) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        institution_id=user.institution_id,
        roles=frozenset(Role(role) for role in user.role_names),
        timezone=user.timezone,
    )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    def __init__(self, db: Database, *, max_failures: int = 5, lockout_seconds: int = 300) -> None:
        self.db = db
        self.max_failures = max_failures
        self.lockout = timedelta(seconds=lockout_seconds)

    async def sign_in(self, username: str, password: str, address: str) -> UserAccount:
        """Check credentials; every failure is counted, and too many lock the username for a while."""
        username = username.strip()
        async with self.db.transaction() as session:
            await self._check_throttle(session, username, address)
            user = (
                await session.execute(select(UserAccount).where(func.lower(UserAccount.username) == username.lower()))
            ).scalar_one_or_none()
            accepted = verify_password(user.password_hash if user else None, password) and user is not None
            if user is None or not accepted or not user.active:
                # Committed with this transaction, so the failure counts even though we refuse.
                session.add(LoginFailure(username=username.lower()[:255], address=address[:64]))
                user = None
            else:
                await session.execute(delete(LoginFailure).where(LoginFailure.username == username.lower()))
                if needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                record_activity(session, actor_of(user), Activity.LOGIN, EntityType.USER_ACCOUNT, user.id,
                                user.username, f"from {address}")
        if user is None:
            raise AuthenticationFailed("wrong username or password, or the account is inactive")
        return user

    async def record_sign_out(self, actor: Actor) -> None:
        async with self.db.transaction() as session:
            record_activity(session, actor, Activity.LOGOUT, EntityType.USER_ACCOUNT, actor.user_id,
                            actor.username)

    async def _check_throttle(self, session: AsyncSession, username: str, address: str) -> None:
        since = utc_now() - self.lockout
        by_user = select(func.count()).where(LoginFailure.username == username.lower(), LoginFailure.at >= since)
        by_address = select(func.count()).where(LoginFailure.address == address, LoginFailure.at >= since)
        if (await session.execute(by_user)).scalar_one() >= self.max_failures or (
            await session.execute(by_address)
        ).scalar_one() >= self.max_failures * _ADDRESS_FACTOR:
            minutes = max(1, int(self.lockout.total_seconds() // 60))
            raise TooManyAttempts(
                f"too many failed sign-ins; try again in {minutes} minute(s)", int(self.lockout.total_seconds())
            )

    async def create_token(
        self, username: str, *, name: str = "cli", expires_in: timedelta | None = None
    ) -> tuple[str, ApiToken]:
        """Issue a bearer token; the plain token is returned once and never stored."""
        if not name.strip() or len(name) > 255:
            raise ValidationFailed({"name": "give the token a name of 1 to 255 characters"})
        async with self.db.transaction() as session:
            statement = select(UserAccount).where(UserAccount.username == username)
            user = (await session.execute(statement)).scalar_one_or_none()
            if user is None:
                raise NotFound(f"no user account named {username!r}")
            if not user.active:
                raise ValidationFailed({"username": f"user account {username!r} is inactive"})
            plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
            token = ApiToken(
                user_id=user.id,
                name=name.strip(),
                token_hash=hash_token(plain),
                security_stamp=user.security_stamp,
                expires_at=utc_now() + expires_in if expires_in else None,
            )
            session.add(token)
            await session.flush()
            record_activity(session, actor_of(user), Activity.CREATE, EntityType.USER_ACCOUNT, user.id,
                            user.username, f"API token {token.name!r} issued")
        return plain, token

    async def actor_for_token(self, plain: str) -> Actor | None:
        if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
            return None
        now = utc_now()
        async with self.db.transaction() as session:
            row = (
                await session.execute(
                    select(ApiToken, UserAccount)
                    .join(UserAccount, UserAccount.id == ApiToken.user_id)
                    .where(ApiToken.token_hash == hash_token(plain))
                )
            ).one_or_none()
            if row is None:
                return None
            token, user = row
            if not user.active or token.security_stamp != user.security_stamp:
                return None
            if token.expires_at is not None and token.expires_at <= now:
                return None
            if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
                token.last_used_at = now
            return actor_of(user)
