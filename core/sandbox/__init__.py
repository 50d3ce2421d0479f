"""The sandbox: parse and validate user programs, then run them in a disposable, limited worker process.

Every function takes an optional `session` (a browser session id: the pool queues at most one request per
session and serves sessions round-robin) and `on_wait` (called with the caller's 1-based place in the queue
while it waits for a free worker; None when a worker is free). Both default to the old behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.limits import WALL_TIMEOUT_S
from core.sandbox.errors import SandboxError

__all__ = ["SandboxError", "run_program", "check_gradients", "devices", "matmul_timing", "parse_weights", "warm"]

OnWait = Callable[[int], None] | None


def run_program(
    source: str,
    device: str = "cpu",
    graph: bool = True,
    timeout: float = WALL_TIMEOUT_S,
    session: str | None = None,
    on_wait: OnWait = None,
    detail_pass: int | None = None,
) -> dict[str, Any]:
    """Run `source` in a fresh worker; the result object (ok true, or ok false with an error). `detail_pass`
    records that backward pass in full (a long loop's earlier pass, opened from the list of passes)."""
    from core.sandbox.pool import pool

    request: dict[str, Any] = {"cmd": "run", "source": source, "device": device, "graph": graph}
    if detail_pass is not None:
        request["detail_pass"] = int(detail_pass)
    return pool().request(request, timeout=timeout, session=session, on_wait=on_wait)


def check_gradients(
    source: str,
    device: str = "cpu",
    timeout: float = 3 * WALL_TIMEOUT_S,
    session: str | None = None,
    on_wait: OnWait = None,
) -> dict[str, Any]:
    """Finite-difference check of every leaf's gradient, run in a worker."""
    from core.sandbox.pool import pool

    return pool().request(
        {"cmd": "gradcheck", "source": source, "device": device}, timeout=timeout, session=session, on_wait=on_wait
    )


def matmul_timing(
    n: int, device: str, repeats: int = 5, session: str | None = None, on_wait: OnWait = None
) -> dict[str, Any]:
    """Time an n x n matmul on the CPU and on `device`, in a worker."""
    from core.sandbox.pool import pool

    return pool().request(
        {"cmd": "timing", "n": n, "device": device, "repeats": repeats}, timeout=120, session=session, on_wait=on_wait
    )


def parse_weights(
    data: bytes,
    filename: str,
    expected: dict[str, list[int]],
    timeout: float = WALL_TIMEOUT_S,
    session: str | None = None,
    on_wait: OnWait = None,
) -> dict[str, Any]:
    """Parse and validate uploaded weights in a worker (this process never reads untrusted weight bytes).

    `expected` maps each parameter name to its shape. The answer is {"ok": true, "safetensors": base64 bytes}
    or {"ok": false, "message": {"key", "args"}} (see core/sandbox/uploads.py). The bytes travel framed after
    the JSON request, so the request cap for programs stays small.
    """
    from core.sandbox.pool import pool

    return pool().request(
        {"cmd": "weights", "filename": str(filename)[:200], "expected": expected},
        timeout=timeout,
        session=session,
        on_wait=on_wait,
        blob=bytes(data),
    )


def devices() -> list[dict[str, str]]:
    """[{'name': 'cpu', 'label': 'CPU'}, {'name': 'cuda:0', 'label': ...}, ...]."""
    from core.sandbox.pool import pool

    return pool().devices()


def warm() -> None:
    """Start the worker pool ahead of the first request."""
    from core.sandbox.pool import pool

    pool().warm()
