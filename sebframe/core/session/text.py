"""Text from SEB clients made storable: the one place every client-sent string passes before it is used.

SQLite, PostgreSQL and MariaDB drivers refuse a lone UTF-16 surrogate (JSON allows ``"\\ud800"``, and Python's
json module decodes one even from raw bytes), and PostgreSQL refuses NUL in text. One such string in a group
commit used to fail the whole batch, other clients' events included (issue #13).
"""

from __future__ import annotations


def client_text(value: str) -> str:
    """``value`` with NUL removed and unpaired surrogates replaced by U+FFFD (a proper pair becomes its
    character). The common case, ASCII without NUL, costs two scans of the string and no copy."""
    if value.isascii():
        return value.replace("\x00", "") if "\x00" in value else value
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # only surrogates cannot be encoded
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value
