"""First run: the first SEB Server administrator and a demo institution with one user per role."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from sebframe.core.accounts.passwords import hash_password
from sebframe.core.accounts.roles import Role
from sebframe.core.db import Database
from sebframe.core.db.models import Institution, UserAccount, UserRoleGrant

CREDENTIALS_FILE = "initial-credentials.txt"

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
        async with db.transaction() as session:
            demo_institution = Institution(name="Demo University", url_suffix="demo", active=True)
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
    _write_credentials(data_dir, credentials)
    return credentials


def _write_credentials(data_dir: Path, credentials: list[Credential]) -> None:
    # Kept (owner-readable only) so the first login still works after the console scrolled away.
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / CREDENTIALS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Initial sebframe accounts. Change these passwords after the first sign-in.\n")
        for credential in credentials:
            handle.write(f"{credential.username}\t{credential.password}\t{credential.role.label}\n")
