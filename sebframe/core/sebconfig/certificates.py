"""Certificates of an institution: import (PEM/DER and PKCS#12), list, view, delete.

The certificate (DER) and, for PKCS#12 identities, the private key (PKCS#8 DER) are stored encrypted
with the server key (``SecretBox``); only descriptive fields (subject, issuer, validity, public-key
hash) are stored in the clear so lists can be filtered. Connection configurations use a certificate
for ``phsk``/``pkhs`` encryption of their export.
"""

from __future__ import annotations

import builtins  # `list` is also a method name of a class here, shadowing the builtin in its signatures
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.accounts.scoping import load_visible, scoped_to_institution
from sebframe.core.db import Database
from sebframe.core.db.models import Certificate, ConnectionConfiguration
from sebframe.core.errors import Conflict, PermissionDenied, ValidationFailed
from sebframe.core.paging import ListParams, Page, contains, fetch_page
from sebframe.core.secrets import SecretBox

from .certificate_keys import Identity, load_certificate, load_identity, public_key_hash
from .errors import CertificateError, IdentityPasswordError

__all__ = [
    "CERTIFICATE_FILTERS",
    "MAX_CERTIFICATE_BYTES",
    "PEM_EXTENSIONS",
    "PKCS12_EXTENSIONS",
    "CertificateImport",
    "CertificateKind",
    "CertificateService",
    "LoadedCertificate",
    "ParsedCertificate",
    "kind_of_filename",
    "parse_certificate_file",
]

# Certificates and PKCS#12 identities are a few KiB; a chain of many certificates stays far below this.
MAX_CERTIFICATE_BYTES = 256 * 1024
MAX_ALIAS_LENGTH = 255
PEM_EXTENSIONS = (".pem", ".crt", ".cer", ".der")
PKCS12_EXTENSIONS = (".p12", ".pfx")
CERTIFICATE_FILTERS = ("institution_id", "alias", "subject")
_SORTABLE = {
    "alias": Certificate.alias,
    "subject": Certificate.subject,
    "not_before": Certificate.not_before,
    "not_after": Certificate.not_after,
    "created_at": Certificate.created_at,
    "institution_id": Certificate.institution_id,
}

CertificateKind = Literal["pem", "pkcs12"]
_NOT_A_CERTIFICATE = (
    "The file is neither an X.509 certificate (PEM or DER: .pem, .crt, .cer) "
    "nor a PKCS#12 identity (.p12, .pfx)."
)


@dataclass(frozen=True)
class ParsedCertificate:
    """A certificate file as read, before it is stored."""

    certificate: x509.Certificate
    private_key: RSAPrivateKey | None
    kind: CertificateKind

    @property
    def subject_text(self) -> str:
        return self.certificate.subject.rfc4514_string()

    def default_alias(self) -> str:
        """The subject's common name (SEB Server's default), else the whole subject."""
        names = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        alias = str(names[0].value).strip() if names else ""
        return (alias or self.subject_text or public_key_hash(self.certificate).hex())[:MAX_ALIAS_LENGTH]

    def validity_warnings(self, now: datetime | None = None) -> list[str]:
        now = now or datetime.now(UTC)
        not_before, not_after = _validity(self.certificate)
        found: list[str] = []
        if not_after < now:
            found.append(f"The certificate expired on {not_after:%Y-%m-%d %H:%M} UTC; it was stored anyway, "
                         "but SEB clients may refuse it.")
        if not_before > now:
            found.append(f"The certificate is not valid before {not_before:%Y-%m-%d %H:%M} UTC.")
        return found


@dataclass(frozen=True)
class CertificateImport:
    certificate: Certificate
    warnings: list[str]


@dataclass(frozen=True)
class LoadedCertificate:
    """A stored certificate decrypted for use: the X.509 certificate and, if imported, its private key."""

    id: int
    institution_id: int
    alias: str
    certificate: x509.Certificate
    private_key: RSAPrivateKey | None

    @property
    def identity(self) -> Identity | None:
        """The identity able to open files encrypted for this certificate (needs the private key)."""
        if self.private_key is None:
            return None
        return Identity(private_key=self.private_key, certificate=self.certificate)


def kind_of_filename(filename: str | None) -> CertificateKind | None:
    """The format a file name's extension promises, or None when it says nothing."""
    name = (filename or "").lower()
    if name.endswith(PKCS12_EXTENSIONS):
        return "pkcs12"
    if name.endswith(PEM_EXTENSIONS):
        return "pem"
    return None


def parse_certificate_file(
    data: bytes, *, password: str | None = None, kind: CertificateKind | None = None
) -> ParsedCertificate:
    """Read a PEM/DER certificate or a PKCS#12 identity; errors are ``ValidationFailed`` on ``file``/``password``.

    ``kind`` is the format the user declared (file extension); without it the content decides.
    """
    if not data:
        raise ValidationFailed({"file": "The file is empty."})
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise ValidationFailed({"file": f"The file is larger than {MAX_CERTIFICATE_BYTES // 1024} KiB; "
                                        "certificate files are a few KiB."})
    looks_pem = data.lstrip()[:11] == b"-----BEGIN "
    if looks_pem or kind == "pem":
        try:
            return ParsedCertificate(load_certificate(data), None, "pem")
        except CertificateError as exc:
            if looks_pem or kind == "pem":
                raise ValidationFailed({"file": _certificate_message(exc)}) from None
    if kind is None:
        try:
            return ParsedCertificate(load_certificate(data), None, "pem")
        except CertificateError as exc:
            if "RSA" in str(exc):
                raise ValidationFailed({"file": str(exc)}) from None
    # PKCS#12 is DER: an ASN.1 SEQUENCE. Anything else is not worth asking for a password.
    if data[:1] != b"\x30":
        raise ValidationFailed({"file": _NOT_A_CERTIFICATE})
    try:
        identity = load_identity(data, password or "")
    except IdentityPasswordError:
        message = ("The password is wrong for this PKCS#12 file (or the file is damaged)." if password
                   else "This PKCS#12 file is password protected (or damaged): enter its password.")
        raise ValidationFailed({"password": message}) from None
    except CertificateError as exc:
        raise ValidationFailed({"file": str(exc)}) from None
    if identity.certificate is None:
        raise ValidationFailed({"file": "The PKCS#12 file contains a private key but no certificate."})
    return ParsedCertificate(identity.certificate, identity.private_key, "pkcs12")


def _certificate_message(exc: CertificateError) -> str:
    return str(exc) if "RSA" in str(exc) else _NOT_A_CERTIFICATE


def _validity(cert: x509.Certificate) -> tuple[datetime, datetime]:
    return cert.not_valid_before_utc, cert.not_valid_after_utc


def _serial(cert: x509.Certificate) -> str:
    with warnings.catch_warnings():
        # Old test certificates have negative serial numbers; cryptography only warns about them.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        serial = cert.serial_number
    return ("-" if serial < 0 else "") + format(abs(serial), "X")


def check_alias(alias: str) -> str:
    alias = alias.strip()
    if not alias:
        raise ValidationFailed({"alias": "The alias must not be empty."})
    if len(alias) > MAX_ALIAS_LENGTH:
        raise ValidationFailed({"alias": f"At most {MAX_ALIAS_LENGTH} characters."})
    if any(ord(ch) < 32 or "\ud800" <= ch <= "\udfff" for ch in alias):
        raise ValidationFailed({"alias": "The alias contains characters that cannot be stored."})
    return alias


class CertificateService:
    def __init__(self, db: Database, secrets: SecretBox) -> None:
        self.db = db
        self.secrets = secrets

    # -- queries -------------------------------------------------------------------------------

    async def list(self, actor: Actor, params: ListParams) -> Page[Certificate]:
        statement = self._visible_statement(actor)
        filters = params.filters
        if "institution_id" in filters:
            try:
                statement = statement.where(Certificate.institution_id == int(filters["institution_id"]))
            except ValueError:
                raise ValidationFailed({"institution_id": "must be a number"}) from None
        if "alias" in filters:
            statement = statement.where(contains(Certificate.alias, filters["alias"]))
        if "subject" in filters:
            statement = statement.where(contains(Certificate.subject, filters["subject"]))
        async with self.db.read() as session:
            return await fetch_page(session, statement, params, _SORTABLE, [Certificate.alias, Certificate.id])

    async def choices(self, actor: Actor, institution_id: int) -> builtins.list[Certificate]:
        """The certificates a connection configuration of that institution may be encrypted with."""
        if not actor.may(Privilege.READ, EntityType.CERTIFICATE, institution_id=institution_id):
            return []
        statement = select(Certificate).where(Certificate.institution_id == institution_id).order_by(
            Certificate.alias, Certificate.id)
        async with self.db.read() as session:
            return list((await session.execute(statement)).scalars())

    async def get(self, actor: Actor, certificate_id: int) -> Certificate:
        async with self.db.read() as session:
            return await self._visible(session, actor, certificate_id)

    async def usage(self, actor: Actor, certificate_id: int) -> builtins.list[tuple[int, str]]:
        """The connection configurations (id, name) encrypted with this certificate."""
        async with self.db.read() as session:
            certificate = await self._visible(session, actor, certificate_id)
            return await self._usage(session, certificate.id)

    async def identity(self, actor: Actor, certificate_id: int) -> LoadedCertificate:
        """The decrypted certificate with its private key; key material needs the write privilege."""
        async with self.db.read() as session:
            certificate = await self._visible(session, actor, certificate_id)
        self._require_write(actor, certificate)
        return self.decrypt(certificate)

    def decrypt(self, certificate: Certificate) -> LoadedCertificate:
        """Internal: decrypt a stored row (callers have checked privileges)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            cert = x509.load_der_x509_certificate(self.secrets.decrypt_bytes(certificate.certificate_encrypted))
            key = None
            if certificate.private_key_encrypted is not None:
                loaded = load_der_private_key(self.secrets.decrypt_bytes(certificate.private_key_encrypted), None)
                key = loaded if isinstance(loaded, RSAPrivateKey) else None
        return LoadedCertificate(certificate.id, certificate.institution_id, certificate.alias, cert, key)

    # -- import / delete -----------------------------------------------------------------------

    async def import_file(
        self,
        actor: Actor,
        data: bytes,
        *,
        password: str | None = None,
        alias: str | None = None,
        kind: CertificateKind | None = None,
        institution_id: int | None = None,
    ) -> CertificateImport:
        """Parse and store a certificate file; an expired certificate is stored with a warning."""
        institution_id = actor.institution_id if institution_id is None else institution_id
        if not actor.may(Privilege.WRITE, EntityType.CERTIFICATE, institution_id=institution_id):
            raise PermissionDenied("you may not import certificates into this institution")
        errors: dict[str, str] = {}
        chosen_alias: str | None = None
        if alias is not None and alias.strip():
            try:
                chosen_alias = check_alias(alias)
            except ValidationFailed as exc:
                errors.update(exc.field_errors)
        try:
            parsed = parse_certificate_file(data, password=password, kind=kind)
        except ValidationFailed as exc:
            raise ValidationFailed({**errors, **exc.field_errors}) from None
        if errors:
            raise ValidationFailed(errors)
        final_alias = chosen_alias or parsed.default_alias()
        cert = parsed.certificate
        not_before, not_after = _validity(cert)
        key_der = None
        if parsed.private_key is not None:
            key_der = parsed.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        async with self.db.transaction() as session:
            await self._check_unique_alias(session, institution_id, final_alias, derived=chosen_alias is None)
            row = Certificate(
                institution_id=institution_id,
                alias=final_alias,
                subject=parsed.subject_text[:1024],
                issuer=cert.issuer.rfc4514_string()[:1024],
                serial_number=_serial(cert)[:128],
                not_before=not_before,
                not_after=not_after,
                public_key_hash=public_key_hash(cert).hex(),
                certificate_encrypted=self.secrets.encrypt_bytes(cert.public_bytes(Encoding.DER)),
                private_key_encrypted=self.secrets.encrypt_bytes(key_der) if key_der is not None else None,
            )
            session.add(row)
            await session.flush()
            what = "PKCS#12 identity with private key" if key_der is not None else "certificate without private key"
            record_activity(session, actor, Activity.IMPORT, EntityType.CERTIFICATE, row.id, row.alias,
                            f"{what}; subject {row.subject}", institution_id=institution_id)
        return CertificateImport(row, parsed.validity_warnings())

    async def delete(self, actor: Actor, certificate_id: int) -> Certificate:
        """Delete, unless a connection configuration is encrypted with it (409 naming them)."""
        async with self.db.transaction() as session:
            certificate = await self._visible(session, actor, certificate_id)
            self._require_write(actor, certificate)
            used_by = await self._usage(session, certificate.id)
            if used_by:
                names = ", ".join(repr(name) for _, name in used_by)
                raise Conflict(f"Certificate {certificate.alias!r} encrypts the connection configuration"
                               f"{'s' if len(used_by) > 1 else ''} {names}; choose another certificate there "
                               "first.")
            record_activity(session, actor, Activity.DELETE, EntityType.CERTIFICATE, certificate.id,
                            certificate.alias, institution_id=certificate.institution_id)
            await session.delete(certificate)
        return certificate

    # -- rules ---------------------------------------------------------------------------------

    @staticmethod
    def may_write(actor: Actor, certificate: Certificate | None = None) -> bool:
        institution_id = actor.institution_id if certificate is None else certificate.institution_id
        return actor.may(Privilege.WRITE, EntityType.CERTIFICATE, institution_id=institution_id)

    @staticmethod
    def _visible_statement(actor: Actor) -> Select[Certificate]:
        return scoped_to_institution(select(Certificate), actor, EntityType.CERTIFICATE, Certificate.institution_id,
                                     "certificates")

    @staticmethod
    async def _visible(session: AsyncSession, actor: Actor, certificate_id: int) -> Certificate:
        return await load_visible(session, actor, Certificate, certificate_id, EntityType.CERTIFICATE, "certificate")

    @staticmethod
    def _require_write(actor: Actor, certificate: Certificate) -> None:
        if not actor.may(Privilege.WRITE, EntityType.CERTIFICATE, institution_id=certificate.institution_id):
            raise PermissionDenied(f"you may not change certificate {certificate.alias!r}")

    @staticmethod
    async def _usage(session: AsyncSession, certificate_id: int) -> builtins.list[tuple[int, str]]:
        rows = await session.execute(
            select(ConnectionConfiguration.id, ConnectionConfiguration.name)
            .where(ConnectionConfiguration.certificate_id == certificate_id)
            .order_by(ConnectionConfiguration.name)
        )
        return [(row.id, row.name) for row in rows]

    @staticmethod
    async def _check_unique_alias(session: AsyncSession, institution_id: int, alias: str, *, derived: bool) -> None:
        statement = select(Certificate.id).where(
            Certificate.institution_id == institution_id, func.lower(Certificate.alias) == alias.lower()
        )
        if (await session.execute(statement)).first():
            hint = " (taken from the certificate's name); give another alias" if derived else "; choose another"
            raise ValidationFailed({"alias": f"A certificate with the alias {alias!r} exists already{hint}."})
