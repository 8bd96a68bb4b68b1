"""Institution logos: only real PNG or JPEG images of modest size are stored."""

from __future__ import annotations

import struct

from sebframe.core.errors import ValidationFailed

MAX_LOGO_BYTES = 1024 * 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def logo_mime_type(data: bytes) -> str:
    """Return ``image/png`` or ``image/jpeg`` for a well-formed image, else raise ``ValidationFailed``."""
    if not data:
        raise ValidationFailed({"logo": "the uploaded file is empty"})
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationFailed({"logo": f"the logo is larger than {MAX_LOGO_BYTES // 1024} KiB"})
    if data.startswith(_PNG_SIGNATURE):
        # The first chunk of a PNG must be a 13-byte IHDR with a non-zero size.
        if len(data) < 33 or data[12:16] != b"IHDR":
            raise ValidationFailed({"logo": "the PNG file is damaged"})
        width, height = struct.unpack(">II", data[16:24])
        if width == 0 or height == 0:
            raise ValidationFailed({"logo": "the PNG file is damaged"})
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        if b"\xff\xd9" not in data[-64:]:
            raise ValidationFailed({"logo": "the JPEG file is damaged or truncated"})
        return "image/jpeg"
    raise ValidationFailed({"logo": "only PNG and JPEG images are supported"})
