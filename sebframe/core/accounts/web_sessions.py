"""Sessions of the admin UI, kept in the database: signing out ends a session in every server process.

The browser's cookie holds only a random token; a row (``web_session``) holds its SHA-256, the user, and
when the session was started, last used and expires. Each page costs one lookup by the token's hash (with the
user's roles, as before). A session ends when it is deleted (sign-out, "sign out everywhere"), when it was not
used for the idle lifetime, or when the user's security stamp moved on (password change, deactivation) or the
user was deactivated. Expired rows are purged at each sign-in; API tokens are not sessions and stay.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of, hash_token
from sebframe.core.accounts.roles import EntityType
from sebframe.core.db import Database, utc_now
from sebframe.core.db.models import UserAccount, WebSession

log = logging.getLogger(__name__)

# The last use is written at most this often, so pages do not each cost a write; the expiry moves with it.
SEEN_RESOLUTION = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 64  # token_urlsafe(32) is 43 characters; anything much longer is not ours
_USER_AGENT_LENGTH = 255
_ADDRESS_LENGTH = 64


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A valid session: who it is, which row, and whether this use moved its expiry on (the cookie is renewed)."""

    actor: Actor
    session_id: int
    renewed: bool


class WebSessions:
    def __init__(self, db: Database, *, idle_seconds: int) -> None:
        self.db = db
        self.idle = timedelta(seconds=idle_seconds)

    async def start(self, user: UserAccount, *, user_agent: str, address: str) -> str:
        """A new session for a user who just signed in; returns the token for the cookie (stored only hashed)."""
        await self.purge_expired()
        token = secrets.token_urlsafe(32)
        now = utc_now()
        async with self.db.transaction() as session:
            session.add(WebSession(user_id=user.id, token_hash=hash_token(token), security_stamp=user.security_stamp,
                                   created_at=now, last_seen_at=now, expires_at=now + self.idle,
                                   user_agent=user_agent[:_USER_AGENT_LENGTH], address=address[:_ADDRESS_LENGTH]))
        return token

    async def resolve(self, token: str, *, touch: bool = True) -> SignedIn | None:
        """The session of a cookie's token, or None when it ended. ``touch``: this is a use of the session (its
        expiry moves on); the monitoring stream only checks, since it cannot renew the browser's cookie."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        now = utc_now()
        async with self.db.read() as session:  # the common case writes nothing: no commit
            statement = (select(WebSession, UserAccount).join(UserAccount, UserAccount.id == WebSession.user_id)
                         .where(WebSession.token_hash == hash_token(token)))
            row = (await session.execute(statement)).one_or_none()
            if row is None:
                return None
            web_session, user = row
            ended = web_session.expires_at <= now or not user.active \
                or web_session.security_stamp != user.security_stamp
            renewed = not ended and touch and now - web_session.last_seen_at >= SEEN_RESOLUTION
            signed_in = None if ended else SignedIn(actor_of(user), web_session.id, renewed)
        if ended or renewed:
            async with self.db.transaction() as session:
                if ended:  # gone for good: the row goes at once rather than at the next purge
                    await session.execute(delete(WebSession).where(WebSession.id == web_session.id))
                else:
                    await session.execute(update(WebSession).where(WebSession.id == web_session.id)
                                          .values(last_seen_at=now, expires_at=now + self.idle))
        return signed_in

    async def end(self, token: str) -> None:
        """Sign-out: the session's row goes, so its cookie opens nothing any more, wherever it is replayed."""
        if token and len(token) <= MAX_TOKEN_LENGTH:
            async with self.db.transaction() as session:
                await session.execute(delete(WebSession).where(WebSession.token_hash == hash_token(token)))

    async def end_all(self, actor: Actor) -> int:
        """"Sign out everywhere": every session of the actor's account ends (this one too); API tokens stay."""
        async with self.db.transaction() as session:
            result = await session.execute(delete(WebSession).where(WebSession.user_id == actor.user_id))
            ended = int(getattr(result, "rowcount", 0) or 0)
            record_activity(session, actor, Activity.LOGOUT, EntityType.USER_ACCOUNT, actor.user_id, actor.username,
                            f"signed out everywhere ({ended} session{'' if ended == 1 else 's'})")
        return ended

    async def active(self, user_id: int) -> list[WebSession]:
        """The user's sessions that still open pages, most recently used first (the account page lists them)."""
        async with self.db.read() as session:
            statement = (
                select(WebSession).join(UserAccount, UserAccount.id == WebSession.user_id)
                .where(WebSession.user_id == user_id, WebSession.expires_at > utc_now(),
                       WebSession.security_stamp == UserAccount.security_stamp)
                .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc())
            )
            return list((await session.execute(statement)).scalars())

    async def purge_expired(self) -> int:
        """Delete the rows of sessions past their expiry. Housekeeping: a failure (e.g. a deadlock with another
        process purging at the same moment) is logged and left to the next sign-in."""
        try:
            async with self.db.transaction() as session:
                result = await session.execute(delete(WebSession).where(WebSession.expires_at <= utc_now()))
        except DBAPIError:
            log.warning("purging expired web sessions failed; the next sign-in tries again", exc_info=True)
            return 0
        return int(getattr(result, "rowcount", 0) or 0)
