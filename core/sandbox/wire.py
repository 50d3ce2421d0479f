"""Length-prefixed JSON bytes between the app and a worker (never pickle)."""

from __future__ import annotations

import socket
import struct

ACK = b"\x06"  # a worker's first byte back: it has read the request


def recv_message(sock: socket.socket, limit: int) -> bytes:
    """One message; EOFError when the peer closed, ValueError when it is longer than `limit`."""
    (size,) = struct.unpack("!Q", recv_exact(sock, 8))
    if size > limit:
        raise ValueError(f"message of {size} bytes is over the {limit} byte limit")
    return recv_exact(sock, size)


def recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("peer closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def send_message(sock: socket.socket, data: bytes) -> None:
    sock.sendall(struct.pack("!Q", len(data)) + data)
