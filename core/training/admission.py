"""Training chunks run in the app server's process (not in sandbox workers): admit them too.

At most TRAIN_SLOTS chunks run at once (TRAIN_THREADS torch threads each), so however many students press Play,
training takes at most that many cores and the rest stays free for sandbox workers and page scripts. A frame
waits at most TRAIN_WAIT_S for a slot; a session that could not get one keeps its turn: slots go to the session
served least recently (round-robin over sessions, the same `Admission` the worker pool uses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from core.limits import TRAIN_SLOTS, TRAIN_WAIT_S
from core.sandbox.pool import Admission

T = TypeVar("T")
MAX_TRAINING_QUEUE = 10_000  # one waiting frame per session; far more sessions than one server holds

_SLOTS = Admission(TRAIN_SLOTS, MAX_TRAINING_QUEUE)


def slots() -> Admission:
    """The process-wide admission of training chunks."""
    return _SLOTS


def run_chunk(
    session: str, fn: Callable[[], T], on_wait: Callable[[int], None] | None = None, wait: float = TRAIN_WAIT_S
) -> tuple[bool, T | None]:
    """(True, fn()) once a training slot is free within `wait` seconds, else (False, None): try next frame."""
    if _SLOTS.acquire(session, on_wait, timeout=wait) != "admitted":
        return False, None
    try:
        return True, fn()
    finally:
        _SLOTS.release()


def status() -> dict[str, Any]:
    """Running and waiting training chunks (for operators and the load test)."""
    return _SLOTS.status()
