"""The ``seb`` click group, driven through CliRunner."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding

from sebframe.core.sebconfig import decode_seb, load_identity, parse_plist
from sebframe.core.sebconfig.cli import seb_cli

MAC_KEY = "4fa9af8ec8759eb7c680752ef4ee5eaf1a860628608fccae2715d519849f9292"


def test_decrypt_prints_xml(test_data: Path) -> None:
    result = CliRunner().invoke(
        seb_cli, ["decrypt", str(test_data / "seb-server" / "importTest_123.seb"), "-p", "123"]
    )
    assert result.exit_code == 0, result.output
    assert "<plist" in result.output
    assert parse_plist(result.stdout_bytes)


def test_decrypt_errors_exit_1(test_data: Path) -> None:
    file = str(test_data / "seb-server" / "importTest_123.seb")
    result = CliRunner().invoke(seb_cli, ["decrypt", file])
    assert result.exit_code == 1
    assert "password protected" in result.output
    result = CliRunner().invoke(seb_cli, ["decrypt", file, "--password", "wrong"])
    assert result.exit_code == 1
    assert "password is wrong" in result.output
    assert "Traceback" not in result.output


def test_config_key(test_data: Path) -> None:
    result = CliRunner().invoke(
        seb_cli, ["config-key", str(test_data / "moodle-quizaccess_seb" / "unencrypted_mac_001.seb")]
    )
    assert result.exit_code == 0
    assert result.output.strip() == MAC_KEY


def test_encrypt_then_decrypt_and_key(test_data: Path, tmp_path: Path) -> None:
    source = test_data / "moodle-quizaccess_seb" / "unencrypted_mac_001.seb"
    out = tmp_path / "out.seb"
    runner = CliRunner()
    result = runner.invoke(seb_cli, ["encrypt", str(source), "--out", str(out), "--password", "pw"])
    assert result.exit_code == 0, result.output
    assert decode_seb(out.read_bytes(), password="pw").layers[:2] == ("gzip", "pswd")
    result = runner.invoke(seb_cli, ["config-key", str(out), "--password", "pw"])
    assert result.exit_code == 0 and result.output.strip() == MAC_KEY
    result = runner.invoke(
        seb_cli, ["encrypt", str(source), "-o", str(out), "-p", "pw", "--purpose", "configure-client"]
    )
    assert result.exit_code == 0
    assert decode_seb(out.read_bytes(), password="pw").layers[1] == "pwcc"


def test_certificate_encryption(test_data: Path, tmp_path: Path) -> None:
    source = test_data / "seb-win-refactoring" / "XmlTestSettings.xml"
    out = tmp_path / "cert.seb"
    runner = CliRunner()
    cert = test_data / "seb-server" / "sebserver-test.cer"
    result = runner.invoke(seb_cli, ["encrypt", str(source), "-o", str(out), "--certificate", str(cert)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(seb_cli, ["decrypt", str(out)])
    assert result.exit_code == 1 and "3799dc54415d4587d74d390173eb19c0782fcb7e" in result.output

    out2 = tmp_path / "cert2.seb"
    pfx = test_data / "seb-server" / "testIdentity123.pfx"
    ident_cert = tmp_path / "identity.pem"
    identity = load_identity(pfx.read_bytes(), "123")
    assert identity.certificate is not None
    ident_cert.write_bytes(identity.certificate.public_bytes(Encoding.PEM))
    result = runner.invoke(
        seb_cli, ["encrypt", str(source), "-o", str(out2), "--certificate", str(ident_cert)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        seb_cli, ["decrypt", str(out2), "--identity", str(pfx), "--identity-password", "123"]
    )
    assert result.exit_code == 0, result.output
    assert "safeexambrowser.org/start" in result.output
    result = runner.invoke(
        seb_cli, ["decrypt", str(out2), "--identity", str(pfx), "--identity-password", "1"]
    )
    assert result.exit_code == 1 and "PKCS#12" in result.output


def test_encrypt_rejects_non_plist(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<html></html>")
    result = CliRunner().invoke(seb_cli, ["encrypt", str(bad), "-o", str(tmp_path / "x.seb")])
    assert result.exit_code == 1
    assert "not a property list" in result.output
    assert not (tmp_path / "x.seb").exists()


def test_written_files_are_owner_only(tmp_path: Path) -> None:
    source = tmp_path / "source.xml"
    source.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>'
                      "<key>hashedQuitPassword</key><string>0a1b2c</string></dict></plist>\n")
    encrypted, xml, plain = tmp_path / "encrypted.seb", tmp_path / "settings.xml", tmp_path / "plain.seb"
    runner = CliRunner()
    for args in (["encrypt", str(source), "--out", str(encrypted), "-p", "pw"],
                 ["decrypt", str(encrypted), "-p", "pw", "--out", str(xml)],
                 ["encrypt", str(xml), "--out", str(plain)]):  # no password: readable settings
        result = runner.invoke(seb_cli, args)
        assert result.exit_code == 0, result.output
    assert decode_seb(plain.read_bytes()).settings["hashedQuitPassword"] == "0a1b2c"
    assert [stat.S_IMODE(path.stat().st_mode) for path in (encrypted, xml, plain)] == [0o600] * 3
