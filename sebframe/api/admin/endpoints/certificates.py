"""Certificates: list, get, upload (JSON with the file base64-encoded and its password), delete.

Upload is one JSON document rather than a raw body: a PKCS#12 password must not travel in a query
string or a custom header, and one body keeps file, password and alias together. Responses never carry
key material; the certificate itself stays inside the server.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from sebframe.api.admin.endpoints._common import Filter, ListQuery, out, parse_body, services_of
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.base import utc_now
from sebframe.core.db.models import Certificate
from sebframe.core.errors import ValidationFailed
from sebframe.core.sebconfig.certificates import MAX_CERTIFICATE_BYTES

router = ApiRouter()

TAG = "certificates"

CERTIFICATE_QUERY = ListQuery(
    filters=(
        Filter("institution_id", "integer"),
        Filter("alias", description="part of the alias, case-insensitive"),
        Filter("subject", description="part of the subject"),
    ),
    sortable=("alias", "subject", "not_before", "not_after", "created_at", "institution_id"),
    default_sort="alias",
)


class CertificateUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: str = Field(description=f"the file, base64 (at most {MAX_CERTIFICATE_BYTES // 1024} KiB decoded): "
                                  "PEM or DER certificate, or PKCS#12 identity", min_length=1)
    format: Literal["PEM", "PKCS12"] | None = Field(
        default=None, description="PEM covers .pem/.crt/.cer (PEM or DER), PKCS12 .p12/.pfx; default: detected")
    password: str | None = Field(default=None, max_length=1024, description="password of a PKCS#12 file")
    alias: str | None = Field(default=None, max_length=255,
                              description="unique within the institution; default: the certificate's common name")


class CertificateOut(BaseModel):
    id: int
    institution_id: int
    alias: str
    subject: str
    issuer: str
    serial_number: str = Field(description="hexadecimal")
    not_before: datetime | None
    not_after: datetime | None
    expired: bool
    public_key_hash: str = Field(description="hex SHA-1 of the public key, as in pkhs/phsk .seb headers")
    has_private_key: bool = Field(description="imported from PKCS#12 with its private key (an identity)")
    created_at: datetime

    @classmethod
    def of(cls, certificate: Certificate) -> CertificateOut:
        return cls(id=certificate.id, institution_id=certificate.institution_id, alias=certificate.alias,
                   subject=certificate.subject, issuer=certificate.issuer, serial_number=certificate.serial_number,
                   not_before=certificate.not_before, not_after=certificate.not_after,
                   expired=certificate.not_after is not None and certificate.not_after < utc_now(),
                   public_key_hash=certificate.public_key_hash,
                   has_private_key=certificate.private_key_encrypted is not None,
                   created_at=certificate.created_at)


class CertificateImportOut(CertificateOut):
    warnings: list[str] = Field(description="e.g. an expired certificate (stored anyway)")


@router.get("/certificates", summary="List the certificates you may see", tag=TAG, response_model=CertificateOut,
            response_is_page=True, query=CERTIFICATE_QUERY.query_params())
async def list_certificates(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).certificates.list(actor, CERTIFICATE_QUERY.parse(request))
    return page.to_json([out(CertificateOut.of(certificate)) for certificate in page.items])


@router.post("/certificates", summary="Import a certificate or PKCS#12 identity into your institution", tag=TAG,
             request_model=CertificateUpload, response_model=CertificateImportOut, status_code=201)
async def import_certificate(request: Request, actor: Actor) -> dict[str, Any]:
    upload = await parse_body(request, CertificateUpload)
    if len(upload.data) > (MAX_CERTIFICATE_BYTES + 2) // 3 * 4 + 4:
        raise ValidationFailed({"data": f"the file is larger than {MAX_CERTIFICATE_BYTES // 1024} KiB"})
    try:
        data = base64.b64decode(upload.data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed({"data": "not valid base64"}) from None
    kind = {"PEM": "pem", "PKCS12": "pkcs12", None: None}[upload.format]
    try:
        result = await services_of(request).certificates.import_file(
            actor, data, password=upload.password, alias=upload.alias, kind=kind)  # type: ignore[arg-type]
    except ValidationFailed as exc:  # the form calls the upload "file"; here it is "data"
        raise ValidationFailed({"data" if name == "file" else name: message
                                for name, message in exc.field_errors.items()}) from None
    body = CertificateOut.of(result.certificate).model_dump()
    return out(CertificateImportOut(**body, warnings=result.warnings))


@router.get("/certificates/{id:int}", summary="One certificate", tag=TAG, response_model=CertificateOut)
async def get_certificate(request: Request, actor: Actor) -> dict[str, Any]:
    return out(CertificateOut.of(await services_of(request).certificates.get(actor, request.path_params["id"])))


@router.delete("/certificates/{id:int}",
               summary="Delete a certificate (409 while a connection configuration is encrypted with it)", tag=TAG,
               status_code=204)
async def delete_certificate(request: Request, actor: Actor) -> Response:
    await services_of(request).certificates.delete(actor, request.path_params["id"])
    return Response(status_code=204)
