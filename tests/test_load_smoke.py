"""A small load through a real `streamlit run` server over Streamlit's websocket protocol (benchmarks/stclient.py):
a handful of sessions and a memory bomb; isolation holds, nothing breaks, the server's RSS stays put. The full
30-student run with figures is `make load` (benchmarks/load_test.py)."""

from __future__ import annotations

import pytest

from benchmarks.load_test import Stats, phase, rss, run_async
from tests.e2e.server import ROOT, StreamlitServer


@pytest.fixture(scope="module")
def server():
    (ROOT / "test-results").mkdir(exist_ok=True)
    srv = StreamlitServer()
    try:
        srv.wait()
        yield srv
    finally:
        srv.stop()


def test_a_small_class_with_a_bomb(server: StreamlitServer) -> None:
    run_async(phase, server.url, 1, 1, (0, 0), False, 0)  # warm-up
    before = rss(server.proc.pid)
    stats: Stats = run_async(phase, server.url, 6, 2, (0.2, 1.0), True, 1.0)
    assert not stats.isolation, stats.isolation
    assert not [e for e in stats.errors if "(normal)" in e], stats.errors
    assert len(stats.times["normal:run"]) == 8 and len(stats.times["memory:run"]) == 2
    assert rss(server.proc.pid) - before < 200 * 1024**2
