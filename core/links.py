"""A program in a URL: raw DEFLATE, then URL-safe base64 without padding, and back, with every bound checked.

A link is typed by anyone, so decoding treats the text as hostile: the encoded text is capped before anything is
decoded, inflation stops at the most bytes a program may have (`zlib`'s `max_length`: a deflate bomb can never
produce more, whatever its ratio), and the result must be strict UTF-8 within the editor's character limit.
The decoded program is then only text for the editor; it runs in the sandbox like typed input.
"""

from __future__ import annotations

import base64
import binascii
import zlib

from core.limits import MAX_SOURCE_CHARS

# 20,000 characters of typical Python deflate to well under 8 KB (base64: 11 K); real links stay far below this,
# and browsers, proxies and Tornado (64 KB request line) all carry 16 K.
MAX_PROGRAM_URL_CHARS = 16_000
_MAX_PROGRAM_BYTES = 4 * MAX_SOURCE_CHARS  # UTF-8 needs at most 4 bytes a character


class LinkError(ValueError):
    """Why a program value in a link cannot be read: `key` names the i18n message ("url_why_...")."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def encode_program(source: str) -> str:
    """`source` as a URL-safe value (characters A-Z a-z 0-9 - _ only)."""
    pack = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = pack.compress(source.encode("utf-8")) + pack.flush()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_program(value: str) -> str:
    """The program in a URL value made by `encode_program`; LinkError when it is not one (or is too big)."""
    if len(value) > MAX_PROGRAM_URL_CHARS:
        raise LinkError("url_why_long_program")
    text = value.strip()
    if not text or any(not (c.isascii() and (c.isalnum() or c in "-_")) for c in text):
        raise LinkError("url_why_program")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        unpack = zlib.decompressobj(-15)
        raw = unpack.decompress(data, _MAX_PROGRAM_BYTES)
    except (binascii.Error, ValueError, zlib.error) as e:
        raise LinkError("url_why_program") from e
    if unpack.unconsumed_tail or (len(raw) >= _MAX_PROGRAM_BYTES and not unpack.eof):  # stopped at the bound
        raise LinkError("url_why_long_program")
    if not unpack.eof or unpack.unused_data:
        raise LinkError("url_why_program")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LinkError("url_why_program") from e
    if len(source) > MAX_SOURCE_CHARS:
        raise LinkError("url_why_long_program")
    return source
