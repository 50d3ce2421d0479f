"""Tutorial programs in the sandbox vs plain PyTorch, measured in the same run; and the size of every answer.

Goals (issue 9): a tutorial training loop runs in at most 3x plain PyTorch's time, graph recording included;
per-op overhead reported in microseconds; every worker answer at most 5 MB on the wire (its JSON and the bytes
of its tensors' numbers).
Run: .venv/bin/python benchmarks/programs_vs_torch.py [--repeats N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.limits import MAX_ANSWER_BYTES, WORKER_THREADS  # noqa: E402
from core.sandbox.session import execute_encoded  # noqa: E402
from core.sandbox.wire import decode_answer  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"
# "PyTorch: Tensors and autograd" (the official polynomial fit) at the tutorial's 2000 iterations; the corpus
# runs it at 400 to keep the suite short.
POLY_FIT = (CORPUS / "12_autograd_polynomial.py").read_text().replace("range(400)", "range(ITERATIONS)")
assert "range(ITERATIONS)" in POLY_FIT
QUICKSTART = (CORPUS / "01_quickstart.py").read_text()  # the Quickstart: two epochs on 256 random images

# Programs whose answers used to be huge (issue 9): each must come back within MAX_ANSWER_BYTES.
ANSWER_CASES = {
    "poly fit, 200 iterations": POLY_FIT.replace("ITERATIONS", "200"),
    "poly fit, 2000 iterations": POLY_FIT.replace("ITERATIONS", "2000"),
    "one tensor under 900 names": "x = torch.rand(3000)\n" + "\n".join(f"v{i} = x" for i in range(900)),
    "saved tensors of big ops": "x = torch.rand(1000, 1000, requires_grad=True)\ny = x\nfor i in range(30):\n"
    "    y = torch.tanh(y * 1.01)\ny.sum().backward()",
    "every backward pass in full": "w = torch.rand(200, 200, requires_grad=True)\nfor i in range(8):\n"
    "    (w @ w).sum().backward()",
    "big stdout": "for i in range(100000):\n    print(i, 'some words to fill the output')",
    "many big variables": "\n".join(f"t{i} = torch.rand(9000, requires_grad=True)" for i in range(200)),
    "quickstart, 2 epochs": QUICKSTART,
}


def plain(source: str) -> float:
    """Seconds for plain PyTorch to run the program, seeded as the sandbox seeds it."""
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    code = compile(source, "<plain>", "exec")
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        exec(code, {"__name__": "__main__"})  # noqa: S102  our own benchmark program
    return time.perf_counter() - start


import core.sandbox.preload  # noqa: E402  the forkserver's warm-up, run here as the forkserver runs it
from core.sandbox import compiler, guard, session  # noqa: E402

core.sandbox.preload.settle()  # and its frozen heap, which a forked worker inherits (plain PyTorch runs on it too)

WARM_PLANS = dict(guard._PLANS)  # what a new worker inherits from the forkserver


def as_a_new_worker() -> None:
    """Each request runs in a new worker forked from the forkserver: nothing it parsed, compiled or planned
    for an earlier request is there."""
    guard._PLANS.clear()
    guard._PLANS.update(WARM_PLANS)
    session._PARSED.clear()
    compiler._COMPILED.clear()


def sandboxed(source: str, graph: bool) -> tuple[float, dict, int]:
    """Seconds for the sandbox to run it, as a new worker, and to write and read its answer as the worker and
    the app do; the answer; its size on the wire."""
    as_a_new_worker()
    start = time.perf_counter()
    data = execute_encoded(source, "cpu", with_graph=graph)  # the bytes a worker sends
    r = decode_answer(data)  # read as the app reads them
    took = time.perf_counter() - start
    assert r["ok"], r.get("error")
    return took, r, len(data)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(WORKER_THREADS)  # as a worker runs: plain PyTorch gets the same threads
    print(
        "Tutorial loops: sandbox (in a worker's code path, in-process, answer written and read) vs plain PyTorch,\n"
        f"interleaved in one run, the quickest of {args.repeats} each (a busy machine only adds time); goal <= 3x.\n"
        "'paired' is the median of each round's ratio (a round runs plain, values, graph back to back): on a host\n"
        "whose speed drifts, the quickest of each can come from different moments"
    )
    for label, source in (("poly fit, 2000 iterations", POLY_FIT.replace("ITERATIONS", "2000")),
                          ("quickstart, 2 epochs x 256 images", QUICKSTART)):  # fmt: skip
        plain(source)  # warm-up: lazy imports on both sides
        sandboxed(source, True)
        times: dict[str, list[float]] = {"plain": [], "values": [], "graph": []}
        answers = {}
        for _ in range(args.repeats):
            times["plain"].append(plain(source))
            for kind in ("values", "graph"):
                took, answers[kind], _ = sandboxed(source, kind == "graph")
                times[kind].append(took)
        base = min(times["plain"])
        for kind in ("values", "graph"):
            took = min(times[kind])
            stats = answers[kind]["stats"]
            ops = stats["ops"] * (2 if stats["recording"] == "second run" else 1)  # it ran twice
            us_per_op = (took - base) / max(ops, 1) * 1e6
            what = f"with graph ({stats['recording']})" if kind == "graph" else "values only"
            paired = statistics.median(t / p for t, p in zip(times[kind], times["plain"], strict=True))
            print(
                f"  {label:34s} {what:26s} plain {base * 1000:7.1f} ms | sandbox {took * 1000:7.1f} ms | "
                f"ratio {took / base:5.2f}x (paired {paired:4.2f}x) | overhead {us_per_op:5.1f} us/op "
                f"({stats['ops']:,} ops)"
            )
    print(f"\nAnswer sizes on the wire (JSON and packed numbers; goal <= {MAX_ANSWER_BYTES / 2**20:.0f} MB)")
    for label, source in ANSWER_CASES.items():
        took, r, size = sandboxed(source, True)
        trimmed = r["stats"].get("trimmed_from_bytes")
        note = f" (trimmed from {trimmed / 2**20:.1f} MB)" if trimmed else ""
        print(f"  {label:30s} {size / 2**20:6.2f} MB in {took * 1000:7.0f} ms{note}")


if __name__ == "__main__":
    main()
