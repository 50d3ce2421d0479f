"""The sandbox: parse and validate user programs, then run them in a disposable, limited worker process."""

from __future__ import annotations

from typing import Any

from core.limits import WALL_TIMEOUT_S
from core.sandbox.errors import SandboxError

__all__ = ["SandboxError", "run_program", "check_gradients", "devices", "matmul_timing", "warm"]


def run_program(
    source: str, device: str = "cpu", graph: bool = True, timeout: float = WALL_TIMEOUT_S,
    detail_pass: int | None = None,
) -> dict[str, Any]:
    """Run `source` in a fresh worker; the result object (ok true, or ok false with an error). `detail_pass`
    records that backward pass in full (a long loop's earlier pass, opened from the list of passes)."""
    from core.sandbox.pool import pool

    request = {"cmd": "run", "source": source, "device": device, "graph": graph}
    if detail_pass is not None:
        request["detail_pass"] = int(detail_pass)
    return pool().request(request, timeout=timeout)


def check_gradients(source: str, device: str = "cpu", timeout: float = 3 * WALL_TIMEOUT_S) -> dict[str, Any]:
    """Finite-difference check of every leaf's gradient, run in a worker."""
    from core.sandbox.pool import pool

    return pool().request({"cmd": "gradcheck", "source": source, "device": device}, timeout=timeout)


def matmul_timing(n: int, device: str, repeats: int = 5) -> dict[str, Any]:
    """Time an n x n matmul on the CPU and on `device`, in a worker."""
    from core.sandbox.pool import pool

    return pool().request({"cmd": "timing", "n": n, "device": device, "repeats": repeats}, timeout=120)


def devices() -> list[dict[str, str]]:
    """[{'name': 'cpu', 'label': 'CPU'}, {'name': 'cuda:0', 'label': ...}, ...]."""
    from core.sandbox.pool import pool

    return pool().devices()


def warm() -> None:
    """Start the worker pool ahead of the first request."""
    from core.sandbox.pool import pool

    pool().warm()
