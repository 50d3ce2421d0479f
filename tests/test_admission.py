"""Admission and fairness (issue #13): a bounded worker pool, one queued request per session, round-robin over
sessions, a place in the queue the page can show, a bounded total; training chunks admitted the same way."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import limits
from core.sandbox import run_program
from core.sandbox.pool import Admission, WorkerPool
from core.training import admission as training_admission

SLEEPY = "t = torch.ones(1)\nfor i in range(3000):\n    t = t + 1\nprint(t.item())"


def test_limits_follow_the_machine() -> None:
    assert limits.MAX_WORKERS >= 1 and limits.MAX_WORKERS <= max(2, limits.CORES)
    assert limits.MAX_WORKERS * limits.WORKER_RSS_CAP_BYTES <= max(
        limits.WORKER_RSS_CAP_BYTES, limits.MACHINE_MEMORY_BYTES * limits.WORKER_MEMORY_FRACTION
    )
    assert limits.MACHINE_MEMORY_BYTES > 256 * 1024**2 and limits.TRAIN_SLOTS >= 1


def _hold(adm: Admission, session: str, log: list, places: dict, release: threading.Event) -> threading.Thread:
    def go() -> None:
        state = adm.acquire(session, on_wait=lambda p: places.setdefault(session, []).append(p), timeout=10)
        log.append((session, state))
        if state == "admitted":
            release.wait(10)
            adm.release()

    th = threading.Thread(target=go, daemon=True)
    th.start()
    return th


def _settle(adm: Admission, queued: int) -> None:
    deadline = time.monotonic() + 5
    while adm.status()["queued"] != queued and time.monotonic() < deadline:
        time.sleep(0.01)


def test_one_queued_request_per_session_and_round_robin() -> None:
    adm = Admission(slots=1, max_queued=10)
    assert adm.acquire("hog") == "admitted"  # the hog holds the only slot
    log: list = []
    places: dict = {}
    gate = threading.Event()
    threads = [_hold(adm, "hog", log, places, gate)]
    _settle(adm, 1)
    threads += [_hold(adm, "alice", log, places, gate)]
    _settle(adm, 2)
    threads += [_hold(adm, "bob", log, places, gate)]
    _settle(adm, 3)
    threads += [_hold(adm, "hog", log, places, gate)]  # a repeated click replaces the hog's queued request
    deadline = time.monotonic() + 5
    while ("hog", "replaced") not in log and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ("hog", "replaced") in log and adm.status()["queued"] == 3
    gate.set()
    adm.release()
    for th in threads:
        th.join(10)
    admitted = [s for s, state in log if state == "admitted"]
    assert admitted == ["alice", "bob", "hog"], log  # the hog was served last: least recently served goes first
    assert places["alice"][0] == 1 and places["bob"][0] == 2  # never served: ahead of the hog, which just was
    assert adm.status() == {"running": 0, "queued": 0, "slots": 1, "long": 0}


def test_the_queue_is_bounded_and_waits_are_bounded() -> None:
    adm = Admission(slots=1, max_queued=2)
    assert adm.acquire("a") == "admitted"
    log: list = []
    gate = threading.Event()
    ths = [_hold(adm, s, log, {}, gate) for s in ("b", "c")]
    _settle(adm, 2)
    assert adm.acquire("d", timeout=1) == "busy"  # full: refused at once
    t0 = time.monotonic()
    assert Admission(slots=1).acquire("x") == "admitted"
    one = Admission(slots=1)
    one.acquire("x")
    assert one.acquire("y", timeout=0.3) == "busy" and time.monotonic() - t0 < 3  # a wait gives up in time
    assert one.status()["queued"] == 0
    gate.set()
    adm.release()
    for th in ths:
        th.join(10)


def test_thirty_simultaneous_runs_use_at_most_the_slots() -> None:
    pool = WorkerPool(spares=1, slots=2, max_queued=64)
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], pool.admission.status()["running"])
            time.sleep(0.005)

    results: list = [None] * 30
    places: list = [[] for _ in range(30)]

    def student(i: int) -> None:
        results[i] = pool.request(
            {"cmd": "run", "source": SLEEPY, "device": "cpu", "graph": False},
            timeout=60,
            session=f"s{i}",
            on_wait=places[i].append,
        )

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        threads = [threading.Thread(target=student, args=(i,)) for i in range(30)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(300)
    finally:
        stop.set()
        pool.close()
    assert all(r and r.get("ok") for r in results), [r for r in results if not (r and r.get("ok"))][:2]
    assert peak[0] == 2  # never more than the slots, and they were used
    assert max(p[0] for p in places if p) >= 10  # late arrivals were told their place


def test_busy_and_replaced_come_back_as_errors_the_page_translates() -> None:
    pool = WorkerPool(spares=0, slots=1, max_queued=0)
    pool.admission.acquire("someone")
    try:
        answer = pool.request({"cmd": "devices"}, session="me")
        assert answer["ok"] is False and answer["error"]["code"] == "busy"
    finally:
        pool.admission.release()
        pool.close()


def test_run_program_keeps_its_old_signature() -> None:
    assert run_program("x = torch.ones(2)", "cpu", False, 15)["ok"]


def test_training_chunks_are_admitted_fairly() -> None:
    slots = training_admission.slots()
    held = [slots.acquire("player") for _ in range(slots.slots)]
    assert held == ["admitted"] * slots.slots
    try:
        places: list = []
        ran, _ = training_admission.run_chunk("other", lambda: 1, on_wait=places.append, wait=0.3)
        assert not ran and places == [1]  # told its place, gave up for this frame
    finally:
        for _ in held:
            slots.release()
    assert training_admission.run_chunk("other", lambda: 42) == (True, 42)


def _waiting_page() -> None:
    import streamlit as st

    from ui.common import sandboxed

    def fake(session: str, on_wait) -> str:  # noqa: ANN001
        on_wait(3)
        st.session_state["seen_session"] = session
        return "done"

    st.session_state["result"] = sandboxed(fake)


@pytest.mark.parametrize("lang, text", [("en", "Waiting for a free worker: place 3"), ("zh", "第 3 位")])
def test_pages_show_the_place_in_the_queue(lang: str, text: str) -> None:
    at = AppTest.from_function(_waiting_page, default_timeout=30)
    at.session_state["lang"] = lang
    seen: list = []
    import streamlit as st

    real = st.empty

    def spy():  # noqa: ANN202
        slot = real()
        orig = slot.info
        slot.info = lambda body, **kw: (seen.append(body), orig(body, **kw))[1]
        return slot

    st.empty = spy
    try:
        at.run()
    finally:
        st.empty = real
    assert not at.exception and at.session_state["result"] == "done"
    assert at.session_state["seen_session"] and any(text in s for s in seen), seen


def test_training_page_passes_through_admission() -> None:
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "pages" / "training.py"), default_timeout=60)
    at.run()
    slots = training_admission.slots()
    held = [slots.acquire("hog") for _ in range(slots.slots)]
    try:
        at.button(key="tr_play").click().run()
        assert not at.exception
        step = int(next(m.value for m in at.metric if m.label == "Step").split("/")[0])
        assert step == 0  # no slot: no training in this frame
        assert any("place 1" in i.value for i in at.info)
    finally:
        for _ in held:
            slots.release()
    at.run()
    assert int(next(m.value for m in at.metric if m.label == "Step").split("/")[0]) > 0


LONG = "x = torch.ones(300, 300)\nfor i in range(5000):\n    x = torch.tanh(x @ x)"


def test_a_long_run_gives_its_slot_back_and_runs_niced() -> None:
    pool = WorkerPool(spares=1, slots=1, max_long=1, long_after=0.5)
    try:
        assert pool.request({"cmd": "run", "source": "x = 1", "device": "cpu", "graph": False})["ok"]
        box: dict = {}
        th = threading.Thread(
            target=lambda: box.update(
                r=pool.request(
                    {"cmd": "run", "source": LONG, "device": "cpu", "graph": False}, timeout=8, session="bomber"
                )
            )
        )
        th.start()
        deadline = time.monotonic() + 10
        while pool.admission.status()["long"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pool.admission.status() == {"running": 0, "queued": 0, "slots": 1, "long": 1}
        niced = [pid for pid in _workers(pool) if _nice(pid) == limits.LONG_RUN_NICE]
        assert niced, "the long run's worker runs at LONG_RUN_NICE"
        t0 = time.monotonic()
        short = pool.request(
            {"cmd": "run", "source": "y = torch.ones(2) * 3", "device": "cpu", "graph": False}, session="student"
        )
        assert short["ok"] and time.monotonic() - t0 < 3  # served while the bomb still runs
        assert "r" not in box
        th.join(30)
        assert box["r"]["ok"] or box["r"]["error"]["kind"] in ("timeout", "limit")  # wall clock or compute budget
        assert pool.admission.status()["long"] == 0
        second = Admission(slots=1, max_long=0)  # no long-run place: the slot is kept
        second.acquire("a")
        assert second.demote() is False and second.status()["running"] == 1
    finally:
        pool.close()


def _workers(pool: WorkerPool) -> list[int]:
    import os

    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pool._server.pid:
                    out.append(int(pid))
        except (OSError, ValueError, IndexError):
            pass
    return out


def _nice(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])
