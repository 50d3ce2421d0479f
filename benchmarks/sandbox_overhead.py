"""Median latency of a tiny program through the sandbox worker vs in-process, measured in the same run.

Goal (issue 3): the worker adds under 50 ms per evaluation (median).
Run: .venv/bin/python benchmarks/sandbox_overhead.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.sandbox.pool import WorkerPool  # noqa: E402
from core.sandbox.session import execute  # noqa: E402

TINY = """a = torch.tensor([2., 4.], requires_grad=True)
b = torch.tensor([7., 5.], requires_grad=True)
E = 3*a**3 - b**2
E.backward(gradient=torch.tensor([1., 1.]))
"""


def _median_ms(fn, repeats: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    pool = WorkerPool()
    assert pool.request({"cmd": "run", "source": TINY, "graph": True})["ok"]  # start the fork server
    time.sleep(1.0)  # let the spare worker be forked, as it is between user clicks
    for graph in (False, True):
        execute(TINY, "cpu", with_graph=graph)  # warm the in-process path too

        def through_worker(graph: bool = graph) -> None:
            assert pool.request({"cmd": "run", "source": TINY, "graph": graph})["ok"]
            time.sleep(0.02)  # a user's next click is never instantaneous: lets the spare refill

        inproc = _median_ms(lambda graph=graph: execute(TINY, "cpu", with_graph=graph), args.repeats)
        worker = _median_ms(through_worker, args.repeats) - 20.0
        label = "with graph + backward steps" if graph else "values only"
        print(
            f"{label:30s} in-process {inproc:7.2f} ms | worker {worker:7.2f} ms | "
            f"added {worker - inproc:6.2f} ms | ratio {worker / inproc:5.2f}x | goal: added < 50 ms"
        )
    pool.close()


if __name__ == "__main__":
    main()
