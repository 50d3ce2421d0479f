"""Length-prefixed JSON bytes between the app and a worker (never pickle), and the one JSON codec they use.

orjson writes and reads an answer about 20x faster than the standard library (a 1.5 MB answer: 3 ms, not
70 ms), with the same numbers: floats as their shortest round-trip text. What orjson refuses is made
representable first, never dropped: a lone surrogate a program printed is sent as its escape text, and an
integer beyond 64 bits (which orjson cannot write, and would read back as a float) as its decimal text.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from core.tensorjson import PACKED_KEY, Packed, unpack

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


_OPTIONS = orjson.OPT_NON_STR_KEYS  # {1: x} -> {"1": x}, as the standard library writes it


def encode_json(obj: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """UTF-8 JSON of `obj` (dicts, lists, str, int, float, bool, None; what `default` turns other objects into);
    TypeError for anything else."""
    try:
        return orjson.dumps(obj, default=default, option=_OPTIONS)
    except TypeError as e:
        if "surrogates" not in str(e) and "64-bit" not in str(e):
            raise
    return orjson.dumps(_representable(obj), default=default, option=_OPTIONS)


def decode_json(data: bytes | memoryview) -> Any:
    """The value of UTF-8 JSON bytes; ValueError (orjson.JSONDecodeError) when they are not JSON."""
    return orjson.loads(data)


def _representable(obj: Any) -> Any:
    """`obj` with lone surrogates as escape text and integers beyond 64 bits as decimal text. Containers are
    fixed in place, each once (iterative: an answer can nest deeply; a cycle ends in orjson's own error)."""

    def fix(v: Any) -> Any:
        if isinstance(v, str):
            return v.encode("utf-8", "backslashreplace").decode("utf-8")
        if type(v) is int and not -(2**63) <= v < 2**64:
            return str(v)
        if isinstance(v, tuple):
            return list(v)
        return v

    root = [obj]
    todo: list[Any] = [root]
    seen: set[int] = set()
    while todo:
        box = todo.pop()
        if id(box) in seen:
            continue
        seen.add(id(box))
        if isinstance(box, dict):
            items = [(fix(k) if isinstance(k, (str, int)) else k, fix(v)) for k, v in box.items()]
            box.clear()
            box.update(items)
            todo.extend(v for _, v in items if isinstance(v, (dict, list)))
        else:
            box[:] = [fix(v) for v in box]
            todo.extend(v for v in box if isinstance(v, (dict, list)))
    return root[0]


SHARED_KEY = "$shared"  # an answer's lists sent once: each place that had one holds {"$ref": its index}
_MAX_DEPTH = 64  # an answer's containers nest a few levels (a graph, its nodes, a tensor's rows): deeper, as it is


def _holds_containers(v: list[Any]) -> bool:
    """A list of lists or dicts (steps, nodes, a step's gradients), not a row of numbers: its first item
    that is not None says (a row's is a number; a missing gradient is None)."""
    for x in v:
        if x is not None:
            return type(x) is list or type(x) is dict or type(x) is Packed
    return False


def encode_answer(obj: Any, repeated: Sequence[Any] = ()) -> bytes:
    """The bytes of an answer: its JSON, in which each list in `repeated` (the same numbers, met in several
    places: tensorjson.shared) is written once, in obj[SHARED_KEY], and referred to where it was; and, when it
    holds tensorjson.Packed numbers, their bytes after the JSON:

        8-byte big-endian length of the JSON | the JSON, each Packed as {"$n": [dtype, shape, offset]} | bytes

    (JSON alone starts with "{", a framed answer with a zero byte.) `obj` itself is not changed. decode_answer
    puts the lists back."""
    ids = {id(x) for x in repeated}
    blob: list[bytes] = []
    at = [0]

    def packed(v: Any) -> Any:
        if type(v) is not Packed:
            raise TypeError(f"Type is not JSON serializable: {type(v).__name__}")
        blob.append(v.data)
        at[0] += len(v.data)
        return {PACKED_KEY: [v.code, v.shape, at[0] - len(v.data)]}

    out = obj
    if ids and isinstance(obj, dict):
        table: list[Any] = []
        index: dict[int, int] = {}

        def conv(v: Any, depth: int) -> Any:
            if (type(v) is list or type(v) is Packed) and id(v) in ids:
                k = index.get(id(v))
                if k is None:
                    k = index[id(v)] = len(table)
                    table.append(v)
                return {"$ref": k}
            if type(v) is list:
                if depth < _MAX_DEPTH and _holds_containers(v):
                    return [conv(x, depth + 1) for x in v]
                return v
            if type(v) is dict and depth < _MAX_DEPTH:
                return {k: conv(x, depth + 1) for k, x in v.items()}
            return v

        out = conv(obj, 0)
        if table:
            out[SHARED_KEY] = table
    text = encode_json(out, packed)
    if not blob:
        return text
    return struct.pack("!Q", len(text)) + text + b"".join(blob)


EXPANDED_TIMES = 4  # an answer's references repeat at most this many times its bytes


def decode_answer(data: bytes) -> Any:
    """The answer encode_answer wrote, with its shared lists back in each place that refers to one (the same
    list object in each) and its packed numbers read back as lists (tensorjson.unpack).

    ValueError for a frame whose JSON is longer than it, a reference to nothing, a packed value that is not one
    encode_answer writes or that reads bytes another one read, and for references that would repeat more than
    EXPANDED_TIMES the answer's bytes: a worker that ran untrusted code cannot turn 5 MB into gigabytes by
    referring to one list a million times."""
    blob: memoryview | bytes = b""
    if data[:1] == b"\x00":
        if len(data) < 8:
            raise ValueError("an answer's frame is cut short")
        (n,) = struct.unpack_from("!Q", data)
        if n > len(data) - 8:
            raise ValueError("an answer's JSON is longer than its frame")
        blob = memoryview(data)[8 + n :]
        obj = decode_json(memoryview(data)[8 : 8 + n])
    else:
        obj = decode_json(data)
    if not isinstance(obj, dict) or (SHARED_KEY not in obj and not blob):
        return obj
    table = obj.pop(SHARED_KEY, [])
    if not isinstance(table, list):
        raise ValueError("an answer's shared lists are a list")
    left = [len(blob)]
    sizes: list[int] = []
    for i, x in enumerate(table):
        if type(x) is dict:  # packed numbers: the bytes they stand for
            before = left[0]
            table[i] = _unpacked(x, blob, left)
            sizes.append(before - left[0])
        else:
            sizes.append(len(orjson.dumps(x)))
    budget = [EXPANDED_TIMES * len(data) - len(data)]

    def resolve(v: dict[str, Any]) -> Any:
        if PACKED_KEY in v:
            return _unpacked(v, blob, left)
        k = v["$ref"]
        if type(k) is not int or not 0 <= k < len(table):
            raise ValueError("a reference to no shared list")
        budget[0] -= sizes[k]
        if budget[0] < 0:
            raise ValueError("an answer's references would write it out many times its size")
        return table[k]

    todo: list[tuple[Any, int]] = [(obj, 0)]
    while todo:
        box, depth = todo.pop()
        deeper = depth < _MAX_DEPTH
        for k, v in box.items() if type(box) is dict else enumerate(box):
            kind = type(v)
            if kind is dict:
                if len(v) == 1 and (PACKED_KEY in v or "$ref" in v):
                    box[k] = resolve(v)
                elif deeper:
                    todo.append((v, depth + 1))
            elif kind is list and deeper and _holds_containers(v):
                todo.append((v, depth + 1))
    return obj


def _unpacked(v: dict[str, Any], blob: memoryview | bytes, left: list[int]) -> list[Any]:
    if len(v) != 1 or PACKED_KEY not in v:
        raise ValueError("an answer's shared entry is a list or packed numbers")
    return unpack(v[PACKED_KEY], blob, left)
