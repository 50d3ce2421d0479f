"""Sandbox layer 4, the parent side: pre-forked disposable workers, a wall-clock kill, JSON answers only."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import threading
import time
from typing import Any

from core.limits import MAX_MEMORY_BYTES, SPARE_WORKERS, WALL_TIMEOUT_S

MAX_ANSWER_BYTES = 256 * 1024**2  # a worker's JSON answer; more means something went wrong
_RSS_CAP_BYTES = MAX_MEMORY_BYTES + 2 * 1024**3  # the parent kills a worker whose RSS passes this (GPU runs too)


class _Worker:
    def __init__(self, ctx: Any) -> None:
        from core.sandbox import worker

        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=worker.main, args=(child,), daemon=True)
        self.proc.start()
        child.close()

    def kill(self) -> None:
        try:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(timeout=2)
            self.conn.close()
        except (OSError, ValueError, AttributeError):
            pass


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class WorkerPool:
    """Hands each request to a fresh worker forked from a clean forkserver (torch imported, CUDA untouched)."""

    def __init__(self, spares: int = SPARE_WORKERS) -> None:
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["core.sandbox.worker", "core.sandbox.session", "core.graph", "core.backward"])
        self._spares = spares
        self._ready: list[_Worker] = []
        self._lock = threading.Lock()
        self._devices: list[dict[str, str]] | None = None

    def _take(self) -> _Worker:
        with self._lock:
            while self._ready:
                w = self._ready.pop()
                if w.proc.is_alive():
                    return w
                w.kill()
        return _Worker(self._ctx)

    def _refill(self) -> None:
        def fill() -> None:
            with self._lock:
                missing = self._spares - len(self._ready)
            for _ in range(max(0, missing)):
                w = _Worker(self._ctx)
                with self._lock:
                    self._ready.append(w)

        threading.Thread(target=fill, daemon=True).start()

    def warm(self) -> None:
        """Start the forkserver and the spare workers now (takes a second or two, once)."""
        self._refill()

    def request(self, payload: dict[str, Any], timeout: float = WALL_TIMEOUT_S) -> dict[str, Any]:
        """Send one JSON request to a fresh worker; kill it on timeout, memory overflow or death."""
        w = self._take()
        self._refill()
        try:
            w.conn.send_bytes(json.dumps(payload).encode())
            deadline = time.monotonic() + timeout
            while not w.conn.poll(0.05):
                if not w.proc.is_alive():
                    return _error("limit", "the program stopped the worker (out of memory or a hard limit); try "
                                           "smaller tensors")
                if time.monotonic() > deadline:
                    return _error("timeout", f"the program ran longer than {timeout:g} s and was stopped")
                if _rss(w.proc.pid) > _RSS_CAP_BYTES:
                    return _error("limit", f"the program used more than {_RSS_CAP_BYTES / 2**30:.0f} GiB of memory "
                                           "and was stopped")
            data = w.conn.recv_bytes(MAX_ANSWER_BYTES)
            return json.loads(data.decode())
        except (EOFError, OSError, ValueError) as e:
            return _error("limit", f"the worker stopped before answering ({type(e).__name__})")
        finally:
            w.kill()

    def devices(self) -> list[dict[str, str]]:
        """The devices a program can run on (asked of a worker, so this process never initialises CUDA)."""
        if self._devices is None:
            answer = self.request({"cmd": "devices"}, timeout=60)
            self._devices = answer.get("devices") or [{"name": "cpu", "label": "CPU"}]
        return self._devices

    def close(self) -> None:
        with self._lock:
            for w in self._ready:
                w.kill()
            self._ready.clear()


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"kind": kind, "message": message, "line": None}}


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> WorkerPool:
    """The process-wide pool, created on first use."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = WorkerPool()
        return _POOL
