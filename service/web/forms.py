"""HTML form bodies (``multipart/form-data``), read with the standard library."""

from __future__ import annotations

import email.parser
import email.policy


def form_fields(raw: bytes, content_type: str) -> dict[str, tuple[bytes, str, str | None]]:
    """The fields of a multipart form (RFC 7578), by the stdlib: name → (bytes, the part's
    media type, its file name if it is an upload)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    fields: dict[str, tuple[bytes, str, str | None]] = {}
    for part in message.iter_parts() if message.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        fields[str(name)] = (payload, part.get_content_type(), part.get_filename())
    return fields
