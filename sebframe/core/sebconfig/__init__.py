"""SEB configuration files: plist I/O, RNCryptor, ``.seb`` packaging and the Config Key.

What this package re-exports is the pure library (no database, no web); spec: ``seb-config-formats.md`` in
the shared reference. The services over the database are modules named after what they store, imported
directly: ``certificates`` (``CertificateService``), ``connection_configs``, ``exam_configs`` (a package).

Typical use::

    seb = decode_seb(data, password="secret")
    seb.settings["startURL"], seb.config_key(), seb.layers
    data = encode_seb(settings, password="secret")

Exam configurations (SEB Server's setting catalogue and value model)::

    catalogue = load_catalogue()                # 393 attributes, views, defaults
    values = default_values()                   # JSON-serialisable SettingsValues
    values["allowQuit"] = validate_value(catalogue["allowQuit"], "false")
    xml = exam_config_xml(values); key = exam_config_key(values)
    values, warnings = from_plist_dict(decode_seb(data).settings)
"""

from __future__ import annotations

from .catalogue import (
    VIEWS,
    Attribute,
    AttributeType,
    Catalogue,
    InlineColumn,
    Orientation,
    TitleOrientation,
    ValueKind,
    View,
    load_catalogue,
)
from .certificate_keys import Identity, load_certificate, load_identity, public_key_hash
from .codec import (
    DEFAULT_MAX_SIZE,
    ConfigPurpose,
    SebFile,
    decode_seb,
    encode_seb,
    hash_password,
    package_xml,
)
from .config_key import config_key, seb_json, seb_sort_key
from .errors import (
    CertificateError,
    CompressionError,
    CorruptFileError,
    IdentityPasswordError,
    IdentityRequiredError,
    InputTooLargeError,
    IntegrityError,
    InvalidPlistError,
    PasswordRequiredError,
    SebConfigError,
    UnsupportedFormatError,
    WrongPasswordError,
)
from .plist import PlistValue, parse_plist, serialize_plist
from .settings import (
    IMPORTED_PASSWORD_MARKER,
    SECRET_ATTRIBUTES,
    Change,
    Row,
    SettingsValidationError,
    SettingsValues,
    default_row,
    default_values,
    diff,
    format_decimal,
    is_imported_password,
    mark_imported_password,
    parse_inline_table,
    validate_row,
    validate_value,
    validate_values,
)
from .settings_io import (
    IGNORED_IMPORT_KEYS,
    exam_config_file,
    exam_config_key,
    exam_config_xml,
    from_plist_dict,
    import_exam_config,
    seb_server_config_key,
    seb_server_json,
    to_plist_dict,
)

__all__ = [
    "DEFAULT_MAX_SIZE",
    "IGNORED_IMPORT_KEYS",
    "IMPORTED_PASSWORD_MARKER",
    "SECRET_ATTRIBUTES",
    "VIEWS",
    "Attribute",
    "AttributeType",
    "Catalogue",
    "CertificateError",
    "Change",
    "CompressionError",
    "ConfigPurpose",
    "CorruptFileError",
    "Identity",
    "IdentityPasswordError",
    "IdentityRequiredError",
    "InlineColumn",
    "InputTooLargeError",
    "IntegrityError",
    "InvalidPlistError",
    "Orientation",
    "PasswordRequiredError",
    "PlistValue",
    "Row",
    "SebConfigError",
    "SebFile",
    "SettingsValidationError",
    "SettingsValues",
    "TitleOrientation",
    "UnsupportedFormatError",
    "ValueKind",
    "View",
    "WrongPasswordError",
    "config_key",
    "decode_seb",
    "default_row",
    "default_values",
    "diff",
    "encode_seb",
    "exam_config_file",
    "exam_config_key",
    "exam_config_xml",
    "format_decimal",
    "from_plist_dict",
    "hash_password",
    "import_exam_config",
    "is_imported_password",
    "load_catalogue",
    "load_certificate",
    "load_identity",
    "mark_imported_password",
    "package_xml",
    "parse_inline_table",
    "parse_plist",
    "public_key_hash",
    "seb_json",
    "seb_server_config_key",
    "seb_server_json",
    "seb_sort_key",
    "serialize_plist",
    "to_plist_dict",
    "validate_row",
    "validate_value",
    "validate_values",
]
