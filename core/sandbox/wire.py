"""Length-prefixed messages between the app and a worker (never pickle): JSON, the one JSON codec they use, and
a program's answer framed with its tensors' bytes beside its JSON (encode_answer / decode_answer).

orjson writes and reads an answer about 20x faster than the standard library (a 1.5 MB answer: 3 ms, not
70 ms), with the same numbers: floats as their shortest round-trip text. What orjson refuses is made
representable first, never dropped: a lone surrogate a program printed is sent as its escape text, and an
integer beyond 64 bits (which orjson cannot write, and would read back as a float) as its decimal text.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
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


_MAX_DEPTH = 64  # an answer's containers nest a few levels (a graph, its nodes, a tensor's rows): deeper, as it is


def encode_answer(obj: Any) -> bytes:
    """The bytes of an answer: its JSON and, when it holds tensorjson.Packed numbers, their bytes after it:

        8-byte big-endian length of the JSON | the JSON, each Packed as {"$n": [dtype, shape, offset]} | bytes

    (JSON alone starts with "{", a framed answer with a zero byte.) A Packed met again (the same tensor in
    several places: tensorjson.shared) is written as the same spec, its bytes sent once. decode_answer reads
    the numbers back as lists."""
    blob: list[bytes] = []
    at = [0]
    specs: dict[int, tuple[Packed, dict[str, Any]]] = {}

    def packed(v: Any) -> Any:
        if type(v) is not Packed:
            raise TypeError(f"Type is not JSON serializable: {type(v).__name__}")
        seen = specs.get(id(v))
        if seen is not None:
            return seen[1]
        spec = {PACKED_KEY: [v.code, v.shape, at[0]]}
        specs[id(v)] = (v, spec)  # holding v keeps its id its own while we write
        blob.append(v.data)
        at[0] += len(v.data)
        return spec

    text = encode_json(obj, packed)
    if not blob:
        return text
    return struct.pack("!Q", len(text)) + text + b"".join(blob)


EXPANDED_TIMES = 4  # an answer's repeated numbers take at most this many times its bytes


def decode_answer(data: bytes) -> Any:
    """The answer encode_answer wrote, with its packed numbers read back as lists (tensorjson.unpack): a spec
    met again (the same offset) is the same list object in each place.

    ValueError for a frame whose JSON is longer than it, a packed value that is not one encode_answer writes,
    one that reads bytes another one read, and for repeats that would take more than EXPANDED_TIMES the
    answer's bytes: a worker that ran untrusted code cannot turn 5 MB into gigabytes (written out again, or
    as lists) by pointing at the same bytes a million times, or at each byte twice."""
    if data[:1] != b"\x00":
        return decode_json(data)
    if len(data) < 8:
        raise ValueError("an answer's frame is cut short")
    (n,) = struct.unpack_from("!Q", data)
    if n > len(data) - 8:
        raise ValueError("an answer's JSON is longer than its frame")
    blob = memoryview(data)[8 + n :]
    obj = decode_json(memoryview(data)[8 : 8 + n])
    left = [len(blob)]  # bytes no list was made of yet
    repeats = [EXPANDED_TIMES * len(data) - len(data)]
    lists: dict[int, tuple[Any, int, list[Any]]] = {}  # offset -> (the spec's dtype and shape, its bytes, its list)

    def resolve(spec: Any) -> list[Any]:
        offset = spec[2] if type(spec) is list and len(spec) == 3 else None
        seen = lists.get(offset) if type(offset) is int else None
        if seen is None:
            before = left[0]
            out = unpack(spec, blob, left)
            lists[offset] = (spec[:2], before - left[0], out)  # type: ignore[index]
            return out
        if seen[0] != spec[:2]:
            raise ValueError("two packed values of other dtypes or shapes at one offset")
        repeats[0] -= seen[1]
        if repeats[0] < 0:
            raise ValueError("an answer's repeated numbers would write it out many times its size")
        return seen[2]

    todo: list[tuple[Any, int]] = [(obj, 0)]
    while todo:
        box, depth = todo.pop()
        deeper = depth < _MAX_DEPTH
        for k, v in box.items() if type(box) is dict else enumerate(box):
            kind = type(v)
            if kind is dict:
                if len(v) == 1 and PACKED_KEY in v:
                    box[k] = resolve(v[PACKED_KEY])
                elif deeper:
                    todo.append((v, depth + 1))
            elif kind is list and deeper and _holds_containers(v):
                todo.append((v, depth + 1))
    return obj


def _holds_containers(v: list[Any]) -> bool:
    """A list of lists or dicts (steps, nodes, a step's gradients), not a row of numbers: its first item
    that is not None says (a row's is a number; a missing gradient is None)."""
    for x in v:
        if x is not None:
            return type(x) is list or type(x) is dict
    return False
