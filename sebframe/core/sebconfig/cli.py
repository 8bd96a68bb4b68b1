"""``seb`` command group: decrypt, encrypt and compute Config Keys of ``.seb`` files.

Attach to the main CLI with ``main.add_command(seb_cli)``. Library errors become
:class:`click.ClickException` (message on stderr, exit status 1).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from sebframe.core.private_files import write_private_file

from .certificate_keys import Identity, load_certificate, load_identity
from .codec import ConfigPurpose, SebFile, decode_seb, package_xml
from .config_key import config_key
from .errors import SebConfigError

__all__ = ["seb_cli"]

_existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


@contextmanager
def _friendly_errors() -> Iterator[None]:
    try:
        yield
    except SebConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{exc.strerror or exc}: {exc.filename}") from None


def _identities(paths: Sequence[Path], password: str) -> list[Identity]:
    return [load_identity(path.read_bytes(), password) for path in paths]


def _decode(file: Path, password: str | None, identity: Sequence[Path], identity_password: str) -> SebFile:
    return decode_seb(
        file.read_bytes(), password=password, identities=_identities(identity, identity_password)
    )


_password_option = click.option("--password", "-p", default=None, help="Settings password.")
_identity_option = click.option(
    "--identity",
    "-i",
    multiple=True,
    type=_existing_file,
    help="PKCS#12 identity (.pfx/.p12) for certificate-encrypted files; may be repeated.",
)
_identity_password_option = click.option(
    "--identity-password", default="", show_default=False, help="Password of the PKCS#12 identities."
)


@click.group("seb")
def seb_cli() -> None:
    """Safe Exam Browser configuration files (.seb)."""


@seb_cli.command("decrypt")
@click.argument("file", type=_existing_file)
@_password_option
@_identity_option
@_identity_password_option
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the XML here.")
def decrypt_cmd(
    file: Path, password: str | None, identity: tuple[Path, ...], identity_password: str, out: Path | None
) -> None:
    """Decrypt/unpack FILE and print its XML property list."""
    with _friendly_errors():
        seb = _decode(file, password, identity, identity_password)
        if out is not None:
            write_private_file(out, seb.xml)  # the settings in the clear: passwords, client secrets
        else:
            click.echo(seb.xml)


@seb_cli.command("encrypt")
@click.argument("file", type=_existing_file)
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_password_option
@click.option(
    "--purpose",
    type=click.Choice(["start-exam", "configure-client"]),
    default=None,
    help="pswd (start-exam) or pwcc (configure-client); default: the file's sebConfigPurpose.",
)
@click.option("--certificate", type=_existing_file, help="Encrypt for this certificate (PEM or DER).")
@click.option("--asymmetric-only", is_flag=True, help="Use legacy pkhs instead of phsk.")
def encrypt_cmd(
    file: Path,
    out: Path,
    password: str | None,
    purpose: str | None,
    certificate: Path | None,
    asymmetric_only: bool,
) -> None:
    """Package the plain XML plist FILE as a .seb file written to OUT."""
    with _friendly_errors():
        seb = decode_seb(file.read_bytes())  # validates; also accepts an unencrypted .seb
        if purpose is None:
            chosen = (
                ConfigPurpose.CONFIGURE_CLIENT
                if seb.settings.get("sebConfigPurpose") == ConfigPurpose.CONFIGURE_CLIENT
                else ConfigPurpose.START_EXAM
            )
        else:
            chosen = (
                ConfigPurpose.CONFIGURE_CLIENT if purpose == "configure-client" else ConfigPurpose.START_EXAM
            )
        cert = load_certificate(certificate.read_bytes()) if certificate is not None else None
        data = package_xml(
            seb.xml, password=password, purpose=chosen, certificate=cert, asymmetric_only=asymmetric_only
        )
        write_private_file(out, data)  # without a password or certificate the settings are readable


@seb_cli.command("config-key")
@click.argument("file", type=_existing_file)
@_password_option
@_identity_option
@_identity_password_option
def config_key_cmd(
    file: Path, password: str | None, identity: tuple[Path, ...], identity_password: str
) -> None:
    """Print the SEB Config Key of FILE."""
    with _friendly_errors():
        click.echo(config_key(_decode(file, password, identity, identity_password).settings))
