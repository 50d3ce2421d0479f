"""Sandbox layer 4, the child side: a disposable process that limits itself, answers one request in JSON, exits."""

from __future__ import annotations

import os
import resource
import signal
import threading
from typing import Any

import torch

from core.limits import (
    ADDRESS_SPACE_BYTES,
    CPU_LIMIT_S,
    DEEP_FREE_STACK_BYTES,
    MAX_MEMORY_BYTES,
    MAX_UPLOAD_BYTES,
    TIMING_THREADS,
    WORKER_THREADS,
)
from core.sandbox.errors import SandboxError
from core.sandbox.wire import ACK, decode_json, encode_json, recv_message, send_message

MAX_REQUEST_BYTES = 1024**2  # a request is a program (capped far lower) plus a few settings
BLOB_COMMANDS = {"weights": MAX_UPLOAD_BYTES}  # commands whose JSON is followed by one framed binary message


def _limit(kind: int, value: int) -> None:
    try:
        soft, hard = resource.getrlimit(kind)
        new_hard = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (min(value, new_hard), new_hard))
    except (ValueError, OSError):
        pass  # a limit the platform refuses; the other layers still hold


def limit_self(use_cuda: bool, threads: int = WORKER_THREADS) -> None:
    """Resource limits set after torch is imported: CPU seconds, no file writes, no new processes, memory."""
    torch.set_num_threads(threads)
    torch.ones(1 << 17).sum()  # start torch's worker threads now: after RLIMIT_NPROC no thread can be created
    _limit(resource.RLIMIT_CPU, CPU_LIMIT_S)
    _limit(resource.RLIMIT_FSIZE, 0)  # no file can grow: nothing is written to disk
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NPROC, 0)  # no fork/exec (enforced for non-root users)
    if not use_cuda:  # CUDA cannot start under an address-space limit; GPU memory is watched by the guard
        _limit(resource.RLIMIT_AS, ADDRESS_SPACE_BYTES)
    else:  # the GPU backstop: the caching allocator refuses past this share (OutOfMemoryError, a clean failure)
        try:
            total = torch.cuda.get_device_properties(0).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, 2 * MAX_MEMORY_BYTES / total))
        except (RuntimeError, AssertionError):
            pass  # no usable GPU: the run reports it


def _on_deep_stack(fn: Any, request: dict[str, Any]) -> Any:
    """Run fn(request) in a thread with a large C stack: torch 2.13 frees a walked autograd chain recursively,
    and a program may build one 100,000 ops deep (see core/graph.py)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["answer"] = fn(request)
        except BaseException as e:  # noqa: BLE001  re-raised in the calling thread
            box["error"] = e

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the size limit fails instead of killing us
    old = threading.stack_size(DEEP_FREE_STACK_BYTES)
    try:
        thread = threading.Thread(target=run, name="sandbox-run")
        thread.start()
    finally:
        threading.stack_size(old)
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["answer"]


def handle(request: dict[str, Any]) -> dict[str, Any] | bytes:
    """Answer one request: run a program, list devices, time a matmul, check gradients, or parse uploaded weights.
    A program's answer comes as the JSON bytes to send (written once, see session.execute_encoded)."""
    cmd = request.get("cmd")
    if cmd == "devices":
        return {"ok": True, "devices": list_devices()}
    device = str(request.get("device", "cpu"))
    limit_self(device.startswith("cuda"), TIMING_THREADS if cmd == "timing" else WORKER_THREADS)
    if cmd == "run":
        from core.sandbox.session import execute_encoded

        detail = request.get("detail_pass")
        return execute_encoded(
            str(request.get("source", "")),
            device,
            bool(request.get("graph", True)),
            detail if isinstance(detail, int) and detail >= 0 else None,
        )
    if cmd == "gradcheck":
        from core.sandbox.gradcheck import check_program

        return check_program(str(request.get("source", "")), device)
    if cmd == "weights":
        from core.sandbox.uploads import parse_untrusted

        expected = request.get("expected")
        if not isinstance(expected, dict):
            expected = {}
        return parse_untrusted(request.get("blob") or b"", str(request.get("filename", "")), expected)
    if cmd == "timing":
        from core.timing import matmul_timing

        return matmul_timing(int(request.get("n", 512)), device, int(request.get("repeats", 5)))
    return {"ok": False, "error": {"kind": "runtime", "message": f"unknown request {cmd!r}", "line": None}}


def list_devices() -> list[dict[str, str]]:
    """cpu, then every CUDA device by name (asked here, so the parent process never touches CUDA)."""
    devices = [{"name": "cpu", "label": "CPU"}]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            devices.append({"name": f"cuda:{i}", "label": f"cuda:{i} · {torch.cuda.get_device_name(i)}"})
    return devices


def main(conn: Any) -> None:
    """Worker entry: read one JSON request, write one JSON answer (bytes, never pickled objects), exit."""
    try:
        request = decode_json(recv_message(conn, MAX_REQUEST_BYTES))
        if not isinstance(request, dict):
            raise ValueError("a request is a JSON object")
        request.pop("blob", None)  # binary data only ever comes framed, never inside the JSON
        if request.get("cmd") in BLOB_COMMANDS and request.get("framed") is True:  # bytes framed after the JSON,
            request["blob"] = recv_message(conn, BLOB_COMMANDS[request["cmd"]])  # capped per command
        conn.sendall(ACK)  # the request is ours: from here on, a death is this request's doing
        try:
            answer = _on_deep_stack(handle, request)
        except SandboxError as e:
            answer = {"ok": False, "error": e.to_json()}
        except MemoryError:
            answer = {"ok": False, "error": SandboxError.of("limit", "sb_out_of_memory").to_json()}
        except BaseException as e:  # the worker must answer, whatever happened
            answer = {"ok": False, "error": {"kind": "runtime", "message": f"{type(e).__name__}: {e}", "line": None}}
        try:
            data = answer if isinstance(answer, bytes) else encode_json(answer)
        except (ValueError, TypeError) as e:
            data = encode_json(
                {"ok": False, "error": {"kind": "runtime", "message": f"unserialisable result: {e}", "line": None}}
            )
        send_message(conn, data)
    except (EOFError, OSError, ValueError):
        pass
    finally:
        os._exit(0)
