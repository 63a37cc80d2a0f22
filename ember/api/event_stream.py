"""AWS's event-stream framing (application/vnd.amazon.eventstream), as InvokeWithResponseStream sends it.

    message = prelude (total length, headers length: 4 bytes each, big-endian) + CRC32 of the prelude
              + headers + payload + CRC32 of everything before it
    header  = name length (1 byte) + name + value type (7: string) + value length (2 bytes) + value

botocore decodes it (`botocore.eventstream`); it has no encoder, so this is the server's half.
"""

from __future__ import annotations

import struct
import zlib

STRING = 7


def event_message(event_type: str, payload: bytes, content_type: str) -> bytes:
    """One `event` message: what boto3's EventStream yields as `{event_type: {...}}`."""
    headers = b"".join(_header(name, value) for name, value in (
        (":event-type", event_type), (":content-type", content_type), (":message-type", "event")))
    prelude = struct.pack(">II", 16 + len(headers) + len(payload), len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return bytes([len(raw_name)]) + raw_name + bytes([STRING]) + struct.pack(">H", len(raw_value)) + raw_value
