"""Sandbox layer 4, the parent side: pre-forked disposable workers, a wall-clock kill, JSON answers only."""

from __future__ import annotations

import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.limits import (
    LONG_RUN_NICE,
    LONG_RUN_S,
    MAX_LONG_RUNS,
    MAX_QUEUED,
    MAX_WORKERS,
    QUEUE_POLL_S,
    QUEUE_TIMEOUT_S,
    SPARE_WORKERS,
    WALL_TIMEOUT_S,
    WORKER_RSS_CAP_BYTES,
)
from core.sandbox.errors import SandboxError
from core.sandbox.wire import ACK, decode_answer, encode_json, recv_exact, recv_message, send_message

MAX_ANSWER_BYTES = 256 * 1024**2  # a worker's JSON answer; more means something went wrong
RSS_CAP_BYTES = WORKER_RSS_CAP_BYTES  # the parent kills a worker whose RSS passes this (GPU runs too)
ACK_TIMEOUT_S = 10  # a forked worker reads its request at once; silence this long means it is gone
FORKSERVER_START_S = 120  # first start imports torch and warms up; slow on a busy 2-core machine
_ROOT = Path(__file__).resolve().parents[2]


class _Worker:
    """One forked worker: its pid and our end of its socket."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid, self.sock = pid, sock

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return _state(self.pid) not in ("Z", "X", "")

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self.sock.close()


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class Ticket:
    """One request waiting for a worker: its session, and what became of it (a slot, or why not)."""

    __slots__ = ("session", "arrival", "state")

    def __init__(self, session: str, arrival: int) -> None:
        self.session, self.arrival = session, arrival
        self.state = "waiting"  # -> "admitted" | "replaced" | "busy"


class Admission:
    """At most `slots` requests run at once; the rest wait, at most one per session and `max_queued` in all.

    A newer request of a session replaces its queued one (which gets "replaced" at once, and the newer one keeps
    the older one's place), so repeated clicks never hold more than one place. A free slot goes to the waiting
    session served least recently (round-robin over sessions; ties by arrival), so no session starves another.
    """

    def __init__(self, slots: int = MAX_WORKERS, max_queued: int = MAX_QUEUED, max_long: int = 0) -> None:
        self.slots, self.max_queued, self.max_long = max(1, slots), max(0, max_queued), max(0, max_long)
        self.running = 0
        self.long = 0  # admitted runs that gave their slot back (demote) and still run
        self._queue: dict[str, Ticket] = {}  # session -> its one waiting ticket
        self._served: dict[str, int] = {}  # session -> serial number of its last admission
        self._serial = 0
        self._cond = threading.Condition()

    def _order(self) -> list[Ticket]:
        return sorted(self._queue.values(), key=lambda t: (self._served.get(t.session, -1), t.arrival))

    def place(self, ticket: Ticket) -> int:
        """1-based place of a waiting ticket (0 once it is no longer waiting)."""
        with self._cond:
            if ticket.state != "waiting":
                return 0
            return 1 + self._order().index(ticket)

    def _dispatch(self) -> None:
        while self.running < self.slots and self._queue:
            ticket = self._order()[0]
            del self._queue[ticket.session]
            self._grant(ticket)
        self._cond.notify_all()

    def _grant(self, ticket: Ticket) -> None:
        self._serial += 1
        self._served[ticket.session] = self._serial
        if len(self._served) > 4 * (self.max_queued + self.slots) + 1024:  # forget sessions long gone
            for s in sorted(self._served, key=lambda s: self._served[s])[: len(self._served) // 2]:
                self._served.pop(s, None)
        ticket.state = "admitted"
        self.running += 1

    def acquire(
        self, session: str, on_wait: Callable[[int], None] | None = None, timeout: float = QUEUE_TIMEOUT_S
    ) -> str:
        """Wait for a slot: "admitted" (call release() after), "replaced" or "busy" (no slot taken)."""
        with self._cond:
            self._serial += 1
            ticket = Ticket(session, self._serial)
            old = self._queue.get(session)
            if old is not None:
                old.state = "replaced"
                ticket.arrival = old.arrival
            elif len(self._queue) >= self.max_queued and self.running >= self.slots:
                return "busy"
            self._queue[session] = ticket
            self._dispatch()
        deadline = time.monotonic() + timeout
        last_place = -1
        while True:
            with self._cond:
                if ticket.state == "waiting" and time.monotonic() >= deadline:
                    del self._queue[session]
                    ticket.state = "busy"
                    self._cond.notify_all()
                if ticket.state != "waiting":
                    return ticket.state
                place = 1 + self._order().index(ticket)
            if on_wait is not None and place != last_place:
                last_place = place
                try:
                    on_wait(place)
                except Exception:  # noqa: BLE001  a page's callback must not lose the request its place
                    pass
            with self._cond:
                if ticket.state == "waiting":
                    self._cond.wait(QUEUE_POLL_S)

    def demote(self) -> bool:
        """A running request turned out long: give its slot to the queue if a long-run place is free (True)."""
        with self._cond:
            if self.long >= self.max_long:
                return False
            self.long += 1
            self.running = max(0, self.running - 1)
            self._dispatch()
            return True

    def release(self, long: bool = False) -> None:
        with self._cond:
            if long:
                self.long = max(0, self.long - 1)
            else:
                self.running = max(0, self.running - 1)
            self._dispatch()

    def status(self) -> dict[str, int]:
        """{"running", "queued", "slots", "long"}: for the load test and an operator's look."""
        with self._cond:
            return {"running": self.running, "queued": len(self._queue), "slots": self.slots, "long": self.long}


class WorkerPool:
    """Hands each request to a fresh worker forked from our clean fork server (torch imported, CUDA untouched).

    Requests are admitted by `Admission`: at most MAX_WORKERS run at once (cores and RAM, see core/limits.py).
    """

    def __init__(
        self,
        spares: int = SPARE_WORKERS,
        slots: int = MAX_WORKERS,
        max_queued: int = MAX_QUEUED,
        max_long: int = MAX_LONG_RUNS,
        long_after: float = LONG_RUN_S,
    ) -> None:
        self.admission = Admission(slots, max_queued, max_long)
        self._long_after = long_after
        self._spares = spares
        self._ready: list[_Worker] = []
        self._lock = threading.Lock()  # guards _ready
        self._ctl_lock = threading.Lock()  # one fork request at a time on the control socket
        self._server: subprocess.Popen | None = None
        self._ctl: socket.socket | None = None
        self._devices: list[dict[str, str]] | None = None

    # --- the fork server ---------------------------------------------------------------------------
    def _ensure_server(self) -> socket.socket:
        if self._server is not None and self._server.poll() is None and self._ctl is not None:
            return self._ctl
        if self._ctl is not None:
            self._ctl.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))}
        self._server = subprocess.Popen(
            [sys.executable, "-m", "core.sandbox.forkserver", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=_ROOT, env=env,
        )  # fmt: skip
        theirs.close()
        self._ctl = ours
        return ours

    def _fork(self) -> _Worker:
        with self._ctl_lock:
            for attempt in range(2):
                ctl = self._ensure_server()
                ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    socket.send_fds(ctl, [b"F"], [theirs.fileno()])
                    ctl.settimeout(FORKSERVER_START_S)
                    data = recv_exact(ctl, 4)
                    return _Worker(struct.unpack("!i", data)[0], ours)
                except (OSError, EOFError):
                    ours.close()
                    if self._server is not None:
                        self._server.kill()
                    self._server = None
                    if attempt:
                        raise
                finally:
                    theirs.close()
        raise RuntimeError("unreachable")

    # --- workers ---------------------------------------------------------------------------------
    def _take(self) -> _Worker:
        with self._lock:
            while self._ready:
                w = self._ready.pop()
                if w.alive():
                    return w
                w.kill()
        return self._fork()

    def _refill(self) -> None:
        def fill() -> None:
            try:
                while True:
                    with self._lock:
                        if len(self._ready) >= self._spares:
                            return
                    w = self._fork()
                    with self._lock:
                        self._ready.append(w)
            except (OSError, EOFError, RuntimeError):
                pass  # the next request forks on demand

        threading.Thread(target=fill, daemon=True).start()

    def warm(self) -> None:
        """Start the fork server and the spare workers now (a few seconds, once per process)."""
        self._refill()

    def request(
        self,
        payload: dict[str, Any],
        timeout: float = WALL_TIMEOUT_S,
        session: str | None = None,
        on_wait: Callable[[int], None] | None = None,
        blob: bytes | None = None,
    ) -> dict[str, Any]:
        """Send one JSON request (and `blob`, framed after it) to a fresh worker once admitted; kill the worker on
        timeout, memory overflow or death. `session` queues fairly (None: a session of its own);
        `on_wait(place)` hears the caller's place while it waits.
        """
        state = self.admission.acquire(session or f"anonymous-{threading.get_ident()}-{time.monotonic_ns()}", on_wait)
        if state == "replaced":
            return _error("limit", "sb_queue_replaced", code="replaced")
        if state != "admitted":
            return _error("limit", "sb_queue_busy", code="busy")
        demoted = [False]
        try:
            if blob is not None:
                payload = {**payload, "framed": True}
            return self._request(encode_json(payload), timeout, blob, demoted)
        finally:
            self.admission.release(long=demoted[0])

    def _request(self, data: bytes, timeout: float, blob: bytes | None, demoted: list[bool]) -> dict[str, Any]:
        """A spare worker can die while it waits (killed from outside, the OOM killer) even after looking alive:
        a worker that dies before acknowledging the request is replaced and the request goes to the next one.
        """
        for _ in range(3):
            try:
                w = self._take()
            except (OSError, EOFError, RuntimeError) as e:
                return _error("runtime", "sb_worker_start", what=type(e).__name__)
            self._refill()
            try:
                if _hand_over(w, data, blob):
                    return self._answer(w, timeout, demoted)
            finally:
                w.kill()
        return _error("runtime", "sb_worker_died")

    def _answer(self, w: _Worker, timeout: float, demoted: list[bool] | None = None) -> dict[str, Any]:
        """Wait for the worker's answer within `timeout` seconds, watching its memory; a long run is demoted."""
        try:
            started = time.monotonic()
            deadline = started + timeout
            while True:
                readable, _, _ = select.select([w.sock], [], [], 0.05)
                if readable:
                    break
                if (
                    demoted is not None
                    and not demoted[0]
                    and time.monotonic() - started > self._long_after
                    and self.admission.demote()
                ):
                    demoted[0] = True
                    _renice(w.pid, LONG_RUN_NICE)
                if time.monotonic() > deadline:
                    return _error("timeout", "sb_timeout", seconds=timeout)
                if _rss(w.pid) > RSS_CAP_BYTES:
                    return _error("limit", "sb_worker_memory", gib=RSS_CAP_BYTES / 2**30)
            w.sock.settimeout(max(1.0, deadline - time.monotonic()))
            return decode_answer(recv_message(w.sock, MAX_ANSWER_BYTES))
        except EOFError:
            return _error("limit", "sb_worker_killed")
        except (OSError, ValueError, RecursionError) as e:  # RecursionError: JSON nested too deep to read
            return _error("limit", "sb_worker_no_answer", what=type(e).__name__)

    def devices(self) -> list[dict[str, str]]:
        """The devices a program can run on (asked of a worker, so this process never initialises CUDA)."""
        if self._devices is None:
            answer = self.request({"cmd": "devices"}, timeout=60)
            if not answer.get("devices"):
                return [{"name": "cpu", "label": "CPU"}]
            self._devices = answer["devices"]
        return self._devices

    def close(self) -> None:
        with self._lock:
            for w in self._ready:
                w.kill()
            self._ready.clear()
        if self._server is not None:
            self._server.kill()
            self._server = None


def _renice(pid: int, nice: int) -> None:
    """Lower the CPU priority of every thread of a worker (Linux nice values are per thread)."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        tids = [pid]
    for tid in tids:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        except OSError:
            pass


def _hand_over(w: _Worker, data: bytes, blob: bytes | None = None) -> bool:
    """Send the request; True once the worker acknowledges it, False when it was already dead."""
    try:
        w.sock.settimeout(ACK_TIMEOUT_S)
        send_message(w.sock, data)
        if blob is not None:
            send_message(w.sock, blob)
        w.sock.settimeout(ACK_TIMEOUT_S)
        return recv_exact(w.sock, 1) == ACK
    except (EOFError, OSError):
        return False


def _error(kind: str, key: str, /, code: str | None = None, **args: Any) -> dict[str, Any]:
    """A pool-made answer for a run that never finished: the error object with its catalog key (errors.py)."""
    error = SandboxError.of(kind, key, **args).to_json()
    if code is not None:
        error["code"] = code  # "busy" | "replaced": the pages show these in the user's language
    return {"ok": False, "error": error}


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> WorkerPool:
    """The process-wide pool, created on first use."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = WorkerPool()
        return _POOL
