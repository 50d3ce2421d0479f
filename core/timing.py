"""CPU vs GPU timing of the same N x N matmul, with CUDA synchronisation (runs inside a worker)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

from core.limits import MAX_MATMUL_N


def _time_matmul(n: int, device: torch.device, repeats: int) -> float:
    """Median milliseconds of one n x n float32 matmul on `device` (after a warm-up)."""
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(n, n, generator=gen).to(device)
    b = torch.rand(n, n, generator=gen).to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda *_: None)
    a @ b  # warm-up: kernels, caches, cuBLAS handle
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        sync(device)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def matmul_timing(n: int, device: str = "cpu", repeats: int = 5) -> dict[str, Any]:
    """{'ok', 'n', 'cpu_ms', 'gpu_ms' (None without GPU), 'gpu_name', 'gflops_cpu', 'gflops_gpu'}."""
    if not 1 <= n <= MAX_MATMUL_N:
        return {
            "ok": False,
            "error": {"kind": "limit", "message": f"N must be between 1 and {MAX_MATMUL_N}", "line": None},
        }
    repeats = max(1, min(repeats, 20))
    flops = 2 * n**3
    cpu_ms = _time_matmul(n, torch.device("cpu"), repeats)
    out: dict[str, Any] = {
        "ok": True,
        "n": n,
        "cpu_ms": cpu_ms,
        "gflops_cpu": flops / cpu_ms / 1e6,
        "gpu_ms": None,
        "gpu_name": None,
        "gflops_gpu": None,
        "threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        dev = torch.device(device if device.startswith("cuda") else "cuda:0")
        out["gpu_ms"] = _time_matmul(n, dev, repeats)
        out["gpu_name"] = torch.cuda.get_device_name(dev)
        out["gflops_gpu"] = flops / out["gpu_ms"] / 1e6
    return out
