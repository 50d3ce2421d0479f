"""A classroom on one server: 30 simulated students on loopback against a real `streamlit run` server.

Each student is a real Streamlit session driven over the browser's websocket protocol (benchmarks/stclient.py):
it opens the Tensor Playground, runs its own program a few times with think time in between (10-30 s: reading
the result, editing the code), and opens the Graph Explorer once; the class arrives over 30 s. Two of the 30 are
hostile: one keeps sending a memory bomb, one a CPU bomb. First three students run one after the other, each
alone (the baseline), then the class. Reported: p50 / p95 latency per action (lone vs class), server RSS before
and after, errors. Asserted: isolation (each session sees only its own variables), no exception page, and the
well-behaved students' p95 within 3x of the lone student's.

    python benchmarks/load_test.py [--students 30] [--runs 3] [--think 4 10] [--json out.json]

Loopback only, bounded: every student does a fixed number of actions, every wait has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.stclient import StreamlitClient  # noqa: E402
from tests.e2e.server import StreamlitServer  # noqa: E402

MEMORY_BOMB = "x = torch.ones(10000000)\nys = []\nfor i in range(200):\n    ys.append(x * i)"
CPU_BOMB = "a = torch.ones(1500, 1500)\nfor i in range(10000):\n    a = torch.tanh(a @ a)"


def program(i: int, k: int) -> str:
    """Student i's k-th program: a marker variable only this student has, plus a little autograd."""
    return (
        f"s{i}_x = torch.tensor({100 * i + k}.)\nw = torch.tensor([1., 2., 3.], requires_grad=True)\n"
        f"loss = (w * w).sum() * s{i}_x\nloss.backward()\nprint('student {i} run {k}')"
    )


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def run_async(make, *args):  # noqa: ANN001, ANN201
    """asyncio.run(make(*args)) in a thread of its own: a session-scoped Playwright fixture may already run an
    event loop in the main thread (asyncio.run refuses to nest)."""
    import threading

    box: dict = {}

    def go() -> None:
        try:
            box["value"] = asyncio.run(make(*args))
        except BaseException as e:  # noqa: BLE001  re-raised in the caller
            box["error"] = e

    th = threading.Thread(target=go)
    th.start()
    th.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (the app server: every session's script runs in it)."""
    import os

    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Stats:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.isolation: list[str] = []

    def add(self, action: str, seconds: float) -> None:
        self.times.setdefault(action, []).append(seconds)

    def summary(self) -> dict[str, dict[str, float]]:
        return {a: {"n": len(v), "p50": pct(v, 50), "p95": pct(v, 95), "max": max(v)} for a, v in self.times.items()}


def pct(values: list[float], p: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


async def student(
    url: str, i: int, runs: int, think: tuple[float, float], stats: Stats, start_delay: float, role: str = "normal"
) -> None:
    rng = random.Random(i)
    await asyncio.sleep(start_delay)
    c = StreamlitClient(url)
    try:
        await c.connect()
        t = await c.run("playground")
        stats.add(f"{role}:open", t.seconds)
        for k in range(runs):
            await asyncio.sleep(rng.uniform(*think))
            source = {"memory": MEMORY_BOMB, "cpu": CPU_BOMB}.get(role) or program(i, k)
            r = await c.run("playground", values={"pg_code": source}, click="pg_run")
            stats.add(f"{role}:run", r.seconds)
            if r.exceptions or r.status != "FINISHED_SUCCESSFULLY":
                stats.errors.append(f"student {i} ({role}) run {k}: {r.status} {r.exceptions}")
            if role == "normal":
                mine = [x for x in r.texts if f"s{i}\\_x" in x]
                others = [x for x in r.texts if "\\_x" in x and f"s{i}\\_x" not in x]
                if not mine or f" {100 * i + k}.0 " not in " ".join(mine) or others:
                    stats.isolation.append(f"student {i} run {k}: saw {mine + others}")
        if role == "normal":
            await asyncio.sleep(rng.uniform(*think))
            g = await c.run("graph")
            stats.add(f"{role}:graph", g.seconds)
            if g.exceptions:
                stats.errors.append(f"student {i} graph: {g.exceptions}")
    except Exception as e:  # noqa: BLE001  a client failure is a result to report, not a crash of the test
        stats.errors.append(f"student {i} ({role}): {type(e).__name__}: {e}")
    finally:
        await c.close()


async def phase(url: str, n: int, runs: int, think: tuple[float, float], bombs: bool, spread: float) -> Stats:
    stats = Stats()
    tasks = []
    for i in range(n):
        role = "normal"
        if bombs and i == 0:
            role = "memory"
        elif bombs and i == 1:
            role = "cpu"
        tasks.append(student(url, i, runs if role == "normal" else 2, think, stats, spread * i / max(1, n), role))
    await asyncio.gather(*tasks)
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--think", type=float, nargs=2, default=(10.0, 30.0), help="seconds between a student's actions")
    ap.add_argument("--spread", type=float, default=30.0, help="seconds over which the students arrive")
    ap.add_argument("--factor", type=float, default=3.0, help="allowed p95 ratio class / lone")
    ap.add_argument("--no-bombs", action="store_true", help="no hostile students (to see what the bombs cost)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--url", default=None, help="an already running server (default: start one)")
    args = ap.parse_args()
    (ROOT / "test-results").mkdir(exist_ok=True)
    srv = None
    if args.url is None:
        srv = StreamlitServer()
        srv.wait()
    url = args.url or srv.url
    t0 = time.monotonic()
    try:
        asyncio.run(phase(url, 1, 1, (0, 0), False, 0))  # warm-up: the pool starts, devices are asked once
        rss_before = rss(srv.proc.pid) if srv else 0
        cpu0 = cpu_seconds(srv.proc.pid) if srv else 0.0
        lone = Stats()  # the baseline: three students one after the other, each alone on the server
        for _ in range(3):
            one = asyncio.run(phase(url, 1, args.runs, (1.0, 2.0), False, 0))
            for action, values in one.times.items():
                lone.times.setdefault(action, []).extend(values)
            lone.errors += one.errors
        cpu1, w1 = (cpu_seconds(srv.proc.pid) if srv else 0.0), time.monotonic()
        me1 = os.times()
        klass = asyncio.run(phase(url, args.students, args.runs, tuple(args.think), not args.no_bombs, args.spread))
        cpu2, w2 = (cpu_seconds(srv.proc.pid) if srv else 0.0), time.monotonic()
        me2 = os.times()
        rss_after = rss(srv.proc.pid) if srv else 0
    finally:
        if srv is not None:
            srv.stop()
    lone_s, class_s = lone.summary(), klass.summary()
    report = {
        "students": args.students,
        "seconds": round(time.monotonic() - t0, 1),
        "lone": lone_s,
        "class": class_s,
        "server_rss_mib": {"before": round(rss_before / 2**20), "after": round(rss_after / 2**20)},
        "server_cpu": {
            "lone_s_per_action": round((cpu1 - cpu0) / max(1, sum(map(len, lone.times.values()))), 3),
            "class_s_per_action": round((cpu2 - cpu1) / max(1, sum(map(len, klass.times.values()))), 3),
            "class_busy_fraction": round((cpu2 - cpu1) / max(1e-9, w2 - w1), 2),
            "load_client_busy_fraction": round((me2.user + me2.system - me1.user - me1.system) / max(1e-9, w2 - w1), 2),
            "machine_load_avg_1min": round(os.getloadavg()[0], 2),
        },
        "errors": lone.errors + klass.errors,
        "isolation_failures": klass.isolation,
    }
    print(f"{'action':<16}{'n':>5}{'p50 s':>9}{'p95 s':>9}{'max s':>9}")
    for name, table in (("lone", lone_s), ("class", class_s)):
        for action, s in sorted(table.items()):
            print(f"{name + ' ' + action:<24}{s['n']:>5}{s['p50']:>9.3f}{s['p95']:>9.3f}{s['max']:>9.3f}")
    print(f"server RSS: {report['server_rss_mib']['before']} MiB before, {report['server_rss_mib']['after']} MiB after")
    print(f"server CPU: {report['server_cpu']}")
    print(f"errors: {len(report['errors'])}, isolation failures: {len(report['isolation_failures'])}")
    for line in (report["errors"] + report["isolation_failures"])[:10]:
        print("  ", line)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    ok = True
    for action in ("run", "open", "graph"):
        lone_p95 = lone_s.get(f"normal:{action}", {}).get("p95")
        class_p95 = class_s.get(f"normal:{action}", {}).get("p95")
        if lone_p95 and class_p95:
            ratio = class_p95 / lone_p95
            print(f"{action}: class p95 / lone p95 = {ratio:.2f} (allowed {args.factor:g})")
            ok &= ratio <= args.factor
    normal_errors = [e for e in report["errors"] if "(normal)" in e]
    ok &= not normal_errors and not klass.isolation
    ok &= not any("exception" in e.lower() or "Error:" in e for e in report["errors"])
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
