"""Certificates through the admin API: JSON upload (base64 + password), list, get, delete; refusals store nothing."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from sebframe.core.accounts.roles import Role
from tests.api.admin.helpers import World, error_of

pytestmark = pytest.mark.anyio

PFX_123 = "seb-server/testIdentity123.pfx"
CER = "seb-server/sebserver-test.cer"


@cache
def certificate_der(common_name: str = "api.example.org") -> bytes:
    """A valid self-signed RSA certificate, made now (the certificates in tests/data have expired)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(4711).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(Encoding.DER)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_upload_list_get_delete(api_world: World, test_data: Path) -> None:
    api = api_world.api("a-admin")
    created = await api.ok("POST", "/certificates", 201, json={
        "data": _b64((test_data / PFX_123).read_bytes()), "password": "123", "format": "PKCS12"})
    assert created["alias"] == "*.2mdn.net" and created["has_private_key"] is True
    assert created["public_key_hash"] == "f45ee30dd1847ae18d679ede46e2e2322248bb21"
    assert created["expired"] is True and "expired" in created["warnings"][0]
    assert not {key for key in created if "key" in key and key not in ("has_private_key", "public_key_hash")}
    fresh = await api.ok("POST", "/certificates", 201, json={"data": _b64(certificate_der()), "alias": "API"})
    assert fresh["warnings"] == [] and fresh["expired"] is False and fresh["has_private_key"] is False
    listed = await api.ok("GET", "/certificates?sort=alias")
    assert [item["alias"] for item in listed["items"]] == ["*.2mdn.net", "API"]
    assert "warnings" not in listed["items"][0]
    one = await api.ok("GET", f"/certificates/{fresh['id']}")
    assert one == {key: value for key, value in fresh.items() if key != "warnings"}
    assert (await api.ok("GET", "/certificates?subject=2MDN"))["total"] == 1
    deleted = await api.delete(f"/certificates/{fresh['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    error_of(await api.get(f"/certificates/{fresh['id']}"), 404)


async def test_bad_uploads_are_refused_and_store_nothing(api_world: World, test_data: Path) -> None:
    api = api_world.api("a-admin")
    pfx = _b64((test_data / PFX_123).read_bytes())
    wrong = error_of(await api.post("/certificates", json={"data": pfx, "password": "nope"}), 422)
    assert "password is wrong" in wrong["field_errors"]["password"]
    garbage = error_of(await api.post("/certificates", json={"data": _b64(b"garbage" * 20)}), 422)
    assert "neither an X.509 certificate" in garbage["field_errors"]["data"]
    not_base64 = error_of(await api.post("/certificates", json={"data": "***"}), 422)
    assert not_base64["field_errors"] == {"data": "not valid base64"}
    too_big = error_of(await api.post("/certificates", json={"data": _b64(bytes(300 * 1024))}), 422)
    assert "larger than 256 KiB" in too_big["field_errors"]["data"]
    huge = await api.post("/certificates", content=b'{"data": "' + b"A" * (100 * 1024 * 1024) + b'"}',
                          headers={"Content-Type": "application/json"})
    assert error_of(huge, 413)["error"] == "payload_too_large"
    unknown = error_of(await api.post("/certificates", json={"data": pfx, "filename": "x.pfx"}), 422)
    assert unknown["field_errors"] == {"filename": "unknown field"}
    bad_format = error_of(await api.post("/certificates", json={"data": pfx, "format": "DER"}), 422)
    assert "format" in bad_format["field_errors"]
    await api.ok("POST", "/certificates", 201, json={"data": _b64((test_data / CER).read_bytes())})
    duplicate = error_of(await api.post("/certificates", json={"data": _b64((test_data / CER).read_bytes())}), 422)
    assert "exists already" in duplicate["field_errors"]["alias"]
    assert (await api.ok("GET", "/certificates"))["total"] == 1


async def test_delete_refused_while_used(api_world: World) -> None:
    api = api_world.api("a-admin")
    cert = await api.ok("POST", "/certificates", 201, json={"data": _b64(certificate_der()), "alias": "In use"})
    config = await api.ok("POST", "/connection-configurations", 201, json={"name": "Encrypted",
                                                                         "certificate_id": cert["id"]})
    body = error_of(await api.delete(f"/certificates/{cert['id']}"), 409)
    assert "'Encrypted'" in body["message"]
    await api.ok("PATCH", f"/connection-configurations/{config['id']}", json={"certificate_id": None})
    assert (await api.delete(f"/certificates/{cert['id']}")).status_code == 204


async def test_roles_and_tenant_isolation(api_world: World) -> None:
    b_cert = await api_world.api("b-admin").ok("POST", "/certificates", 201, json={"data": _b64(certificate_der())})
    api = api_world.api("a-admin")
    assert (await api.ok("GET", "/certificates"))["total"] == 0
    error_of(await api.get(f"/certificates/{b_cert['id']}"), 404)
    error_of(await api.delete(f"/certificates/{b_cert['id']}"), 404)
    root = api_world.api("root")
    assert (await root.ok("GET", "/certificates"))["total"] == 1
    assert (await root.ok("GET", f"/certificates?institution_id={api_world.b.id}"))["total"] == 1
    error_of(await root.delete(f"/certificates/{b_cert['id']}"), 403)
    error_of(await root.post("/certificates", json={"data": _b64(certificate_der())}), 403)
    supporter = api_world.api("a-supporter")
    error_of(await supporter.get("/certificates"), 403)
    error_of(await supporter.post("/certificates", json={"data": _b64(certificate_der())}), 403)
    exam_admin = api_world.api("a-examadmin")
    await exam_admin.ok("POST", "/certificates", 201, json={"data": _b64(certificate_der())})
    await api_world.user(api_world.a, "a-admin-2", Role.INSTITUTIONAL_ADMIN)
    assert (await api_world.api("a-admin-2").ok("GET", "/certificates"))["total"] == 1
