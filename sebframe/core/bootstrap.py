"""First run: the first SEB Server administrator and a demo institution with one user per role."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.passwords import hash_password
from sebframe.core.accounts.roles import Role
from sebframe.core.db import Database
from sebframe.core.db.models import Institution, UserAccount, UserRoleGrant
from sebframe.core.errors import NotFound
from sebframe.core.private_files import ensure_private_dir, write_private_file

CREDENTIALS_FILE = "initial-credentials.txt"
DEMO_INSTITUTION = "Demo University"

DEMO_USERS = (
    ("demo-institution-admin", "Ina", "Admin", Role.INSTITUTIONAL_ADMIN),
    ("demo-exam-admin", "Eli", "Examiner", Role.EXAM_ADMIN),
    ("demo-supporter", "Sam", "Supporter", Role.EXAM_SUPPORTER),
)


@dataclass(frozen=True)
class Credential:
    username: str
    password: str
    role: Role


async def create_admin(
    db: Database, username: str, password: str, *, institution_name: str = "Default Institution"
) -> UserAccount:
    """A SEB Server administrator in ``institution_name`` (created, active, if missing)."""
    async with db.transaction() as session:
        institution = (
            await session.execute(select(Institution).where(Institution.name == institution_name))
        ).scalar_one_or_none()
        if institution is None:
            institution = Institution(name=institution_name, active=True)
            session.add(institution)
            await session.flush()
        user = UserAccount(
            institution_id=institution.id, username=username, name="SEB Server", surname="Administrator",
            password_hash=hash_password(password), active=True,
            roles=[UserRoleGrant(role=Role.SEB_SERVER_ADMIN.value)],
        )
        session.add(user)
    return user


async def ensure_initial_data(db: Database, data_dir: Path, *, demo: bool = True) -> list[Credential]:
    """On an empty database create the admin (and demo accounts); returns the new credentials, else []."""
    async with db.read() as session:
        if (await session.execute(select(func.count()).select_from(UserAccount))).scalar_one() > 0:
            return []
    credentials = [Credential("admin", secrets.token_urlsafe(12), Role.SEB_SERVER_ADMIN)]
    await create_admin(db, "admin", credentials[0].password)
    if demo:
        credentials += await _create_demo_accounts(db)
    _write_credentials(data_dir, credentials)
    return credentials


async def ensure_demo_accounts(db: Database, data_dir: Path) -> list[Credential]:
    """The demo institution with one user per role, unless it exists (e.g. after ``serve --no-demo``);
    returns the new credentials (added to the credentials file), else []."""
    async with db.read() as session:
        if await _demo_institution(session) is not None:
            return []
    credentials = await _create_demo_accounts(db)
    _write_credentials(data_dir, credentials, append=True)
    return credentials


@dataclass(frozen=True)
class DemoAccounts:
    """Who sets up the demo exam: the first active demo user holding each role."""

    institution_id: int
    institution_admin: UserAccount
    exam_admin: UserAccount
    supporter: UserAccount


async def demo_accounts(db: Database) -> DemoAccounts:
    """The demo institution's accounts; ``NotFound`` when the institution or a needed role is missing."""
    async with db.read() as session:
        institution = await _demo_institution(session)
        if institution is None:
            raise NotFound(f"there is no institution {DEMO_INSTITUTION!r}; run `sebframe demo` to create it")
        users = list((await session.execute(
            select(UserAccount).where(UserAccount.institution_id == institution.id, UserAccount.active.is_(True))
            .order_by(UserAccount.id))).scalars())

    def holding(role: Role) -> UserAccount | None:
        return next((user for user in users if role.value in user.role_names), None)

    institution_admin, exam_admin = holding(Role.INSTITUTIONAL_ADMIN), holding(Role.EXAM_ADMIN)
    if institution_admin is None or exam_admin is None:
        raise NotFound(f"{DEMO_INSTITUTION!r} needs an active institutional administrator and exam administrator")
    return DemoAccounts(institution.id, institution_admin, exam_admin,
                        holding(Role.EXAM_SUPPORTER) or exam_admin)


async def _demo_institution(session: AsyncSession) -> Institution | None:
    statement = select(Institution).where(Institution.name == DEMO_INSTITUTION)
    return (await session.execute(statement)).scalar_one_or_none()


async def _create_demo_accounts(db: Database) -> list[Credential]:
    credentials = []
    async with db.transaction() as session:
        demo_institution = Institution(name=DEMO_INSTITUTION, url_suffix="demo", active=True)
        session.add(demo_institution)
        await session.flush()
        for username, name, surname, role in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            session.add(UserAccount(
                institution_id=demo_institution.id, username=username, name=name, surname=surname,
                email=f"{username}@demo.invalid", password_hash=hash_password(password), active=True,
                roles=[UserRoleGrant(role=role.value)],
            ))
            credentials.append(Credential(username, password, role))
    return credentials


def _write_credentials(data_dir: Path, credentials: list[Credential], *, append: bool = False) -> None:
    # Kept (owner-readable only) so the first login still works after the console scrolled away.
    path = ensure_private_dir(data_dir) / CREDENTIALS_FILE
    lines = [] if append and path.exists() else [
        "# Initial sebframe accounts. Change these passwords after the first sign-in.\n"]
    lines += [f"{credential.username}\t{credential.password}\t{credential.role.label}\n" for credential in credentials]
    write_private_file(path, "".join(lines).encode(), append=append)
