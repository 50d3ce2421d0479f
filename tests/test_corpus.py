"""The tutorial corpus (tests/corpus/*.py) through the sandbox, against plain PyTorch.

Every program in tests/corpus/ is an ordinary PyTorch script. For each one:

* Reference: the file runs under plain `python` in a fresh process (cwd a temporary directory, so a
  `torch.save(..., "model.pth")` lands there), after the seeding the sandbox applies at the start of every run
  (`torch.manual_seed(0)`, `random.seed(0)`, `numpy.random.seed(0)`), with no GPU visible (the sandbox side
  runs on "cpu", where `torch.cuda.is_available()` should read False too). Its stdout is captured exactly, and its
  top-level globals (tensors, numpy arrays, bool/int/float/str; no modules, functions or classes) are dumped as
  JSON in the sandbox's own format: nan/inf as the strings "nan"/"inf"/"-inf", tensors over 10,000 elements
  as a float64 min/max/mean/std summary.
* Sandbox: `core.sandbox.session.execute(source, "cpu", with_graph=True)`, in this process.
* The run must succeed, print the same text, and every reference variable must exist in the sandbox with the
  same type, shape, dtype, flags, and bit-for-bit the same values and gradients (nan equals nan, -0.0 is not
  0.0); summaries agree within 1e-12 relative.

The reference runs are forked, one fresh child process per program, from one server that imported torch once
(see _RUNNER), so the plain-PyTorch side of the whole corpus takes seconds.

The direct run executes only the fixed files of tests/corpus/ (never user input).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CORPUS_DIR = Path(__file__).parent / "corpus"
PROGRAMS = sorted(CORPUS_DIR.glob("*.py"))
SEED = 0
MAX_ELEMENTS = 10_000  # core.limits.MAX_JSON_ELEMENTS: bigger tensors are summarised
SUMMARY_RTOL = 1e-12
REFERENCE_TIMEOUT_S = 120

# The reference server: plain Python + torch, no part of core/ (it re-states the sandbox's JSON format rather
# than importing core.tensorjson, so it checks that encoding instead of sharing it). It imports torch once (and
# torch._dynamo, which the first optimizer pulls in: seconds per process otherwise), then forks one child per
# program, a few at a time. Each child is a fresh process for the program: it seeds the RNGs as the sandbox
# does, sends fd 1/2 to files, runs the program as __main__ and dumps its globals; nothing ran in the parent
# before the fork but imports.
_RUNNER = r"""
import json, math, os, random, sys, time, traceback, types
import torch
import torch._dynamo
try:
    import numpy
except ImportError:
    numpy = None

MAX_ELEMENTS = @MAX_ELEMENTS@
SEED = @SEED@

def fin(x):
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x

def clean(obj):
    if isinstance(obj, list):
        return [clean(v) for v in obj]
    return fin(obj)

def values(t):
    if t is None or t.numel() > MAX_ELEMENTS:
        return None
    t = t.detach()
    if t.is_complex():
        t = torch.view_as_real(t.resolve_conj())
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.float()
    return clean(t.cpu().tolist())

def summary(t):
    x = t.detach()
    if x.is_complex():
        x = x.abs()
    x = x.to(device="cpu", dtype=torch.float64)
    if x.numel() == 0:
        return {"min": None, "max": None, "mean": None, "std": None}
    return {"min": fin(x.min().item()), "max": fin(x.max().item()), "mean": fin(x.mean().item()),
            "std": fin(x.std().item()) if x.numel() > 1 else 0.0}

def tensor_entry(t):
    out = {"type": "tensor", "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch."),
           "requires_grad": bool(t.requires_grad), "is_leaf": bool(t.is_leaf), "value": values(t)}
    if out["value"] is None:
        out["summary"] = summary(t)
    g = t.grad if t.is_leaf or t.retains_grad else None
    out["grad"] = values(g)
    if g is not None and out["grad"] is None:
        out["grad_summary"] = summary(g)
    return out

def entry(v):
    if isinstance(v, torch.Tensor):
        return tensor_entry(v)
    if numpy is not None and isinstance(v, numpy.ndarray):
        out = {"type": "ndarray", "shape": list(v.shape), "dtype": str(v.dtype),
               "value": clean(v.tolist()) if v.size <= MAX_ELEMENTS else None}
        if out["value"] is None and v.dtype.kind in "biuf":
            out["summary"] = summary(torch.from_numpy(v.astype("float64")))
        return out
    if isinstance(v, bool):
        return {"type": type(v).__name__, "value": bool(v)}
    if isinstance(v, int):
        return {"type": type(v).__name__, "value": int(v) if abs(v) < 2**53 else str(v)}
    if isinstance(v, float):
        return {"type": type(v).__name__, "value": fin(float(v))}
    if isinstance(v, str):
        return {"type": "str", "value": v}
    return None

def child(path, out):
    os.chdir(out)
    for fd, name in ((1, "stdout.txt"), (2, "stderr.txt")):
        f = os.open(os.path.join(out, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(f, fd)
        os.close(f)
    source = open(path, encoding="utf-8").read()
    torch.manual_seed(SEED)
    random.seed(SEED)
    if numpy is not None:
        numpy.random.seed(SEED)
    g = {"__name__": "__main__", "__builtins__": __builtins__}
    exec(compile(source, path, "exec"), g)
    sys.stdout.flush()
    skip = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)
    dump = {}
    for name, v in g.items():
        if name.startswith("_") or isinstance(v, skip):
            continue
        e = entry(v)
        if e is not None:
            dump[name] = e
    with open(os.path.join(out, "globals.json"), "w", encoding="utf-8") as f:
        json.dump(dump, f, allow_nan=False)

jobs = json.load(open(sys.argv[1], encoding="utf-8"))  # [[program path, output folder], ...]
workers, timeout = int(sys.argv[2]), float(sys.argv[3])
running = {}  # pid -> (output folder, start time)
def reap(block):
    while running:
        pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        if pid == 0:
            break
        out, _ = running.pop(pid)
        with open(os.path.join(out, "rc.txt"), "w") as f:
            f.write(str(os.waitstatus_to_exitcode(status)))
        block = False
def kill_slow():
    for pid, (out, started) in list(running.items()):
        if time.monotonic() - started > timeout:
            os.kill(pid, 9)
for path, out in jobs:
    while len(running) >= workers:
        reap(False)
        kill_slow()
        time.sleep(0.01)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            child(path, out)
        except BaseException:
            traceback.print_exc()
            code = 1
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    running[pid] = (out, time.monotonic())
while running:
    reap(False)
    kill_slow()
    time.sleep(0.01)
""".replace("@MAX_ELEMENTS@", str(MAX_ELEMENTS)).replace("@SEED@", str(SEED))


def run_references(paths: list[Path], workdir: Path) -> dict[Path, dict[str, Any]]:
    """Plain Python + torch for each program: {path: {"rc", "stdout", "stderr", "variables"}}."""
    jobs = []
    for i, p in enumerate(paths):
        out = workdir / f"{i:03d}_{p.stem}"
        out.mkdir()
        jobs.append([str(p.resolve()), str(out)])
    (workdir / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONIOENCODING": "utf-8", "CUDA_VISIBLE_DEVICES": ""}
    workers = max(2, os.cpu_count() or 2)
    server = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(workdir / "jobs.json"), str(workers), str(REFERENCE_TIMEOUT_S)],
        cwd=workdir, capture_output=True, text=True, env=env, timeout=REFERENCE_TIMEOUT_S * (len(paths) + 2),
    )  # fmt: skip
    assert server.returncode == 0, f"the reference server failed:\n{server.stderr}"
    results: dict[Path, dict[str, Any]] = {}
    for p, (_, out) in zip(paths, jobs):
        folder = Path(out)
        rc_file, dump = folder / "rc.txt", folder / "globals.json"
        rc = int(rc_file.read_text()) if rc_file.exists() else -1
        results[p] = {
            "rc": rc,
            "stdout": (folder / "stdout.txt").read_text(encoding="utf-8"),
            "stderr": (folder / "stderr.txt").read_text(encoding="utf-8", errors="replace"),
            "variables": json.loads(dump.read_text(encoding="utf-8")) if rc == 0 and dump.exists() else None,
        }
    return results


@pytest.fixture(scope="module")
def references(request: pytest.FixtureRequest) -> Iterator[dict[Path, dict[str, Any]]]:
    """Reference runs of every collected corpus program, all done at once before the first comparison."""
    corpus = set(PROGRAMS)
    params = [getattr(item, "callspec", None) for item in request.session.items]
    wanted = [c.params["path"] for c in params if c is not None and c.params.get("path") in corpus]
    with tempfile.TemporaryDirectory(prefix="corpus-ref-") as workdir:
        yield run_references(list(dict.fromkeys(wanted)), Path(workdir))


# --- comparison ------------------------------------------------------------------------------------------
def same(a: Any, b: Any) -> bool:
    """Bit-for-bit equality of JSON-like values: same types, floats with the same bits (nan is "nan" already,
    so it equals itself; -0.0 differs from 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


def first_difference(a: Any, b: Any, where: str = "") -> str:
    """Where two nested values first differ, for the failure message."""
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if not same(x, y):
                return first_difference(x, y, f"{where}[{i}]")
    return f"{where or 'value'}: reference {a!r} ({type(a).__name__}), sandbox {b!r} ({type(b).__name__})"


def close(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    return a == b or abs(a - b) <= SUMMARY_RTOL * max(abs(a), abs(b))


def summaries_agree(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(close(a.get(k), b.get(k)) for k in ("min", "max", "mean", "std"))


def compare_tensor(name: str, ref: dict[str, Any], got: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for key in ("shape", "dtype", "requires_grad", "is_leaf"):
        if ref[key] != got.get(key):
            problems.append(f"{name}.{key}: reference {ref[key]!r}, sandbox {got.get(key)!r}")
    if problems:
        return problems
    if ref["value"] is None:
        if got.get("value") is not None or not summaries_agree(ref["summary"], got.get("summary")):
            problems.append(f"{name} summary: reference {ref['summary']}, sandbox {got.get('summary')}")
    elif not same(ref["value"], got.get("value")):
        problems.append(f"{name} value differs at {first_difference(ref['value'], got.get('value'))}")
    if ref["grad"] is None and "grad_summary" in ref:
        if not summaries_agree(ref["grad_summary"], got.get("grad_summary")):
            problems.append(f"{name}.grad summary: reference {ref['grad_summary']}, sandbox {got.get('grad_summary')}")
    elif not same(ref["grad"], got.get("grad")):
        problems.append(f"{name}.grad differs at {first_difference(ref['grad'], got.get('grad'))}")
    return problems


def compare_variable(name: str, ref: dict[str, Any], got: dict[str, Any] | None) -> list[str]:
    if got is None:
        return [f"{name}: missing from the sandbox's variables"]
    if ref["type"] == "tensor":
        if got.get("type") != "tensor":
            return [f"{name}: reference is a tensor, sandbox has {got}"]
        return compare_tensor(name, ref, got)
    if ref["type"] == "ndarray":
        if got.get("type") != "ndarray":
            return [f"{name}: reference is a numpy array, sandbox has {got.get('type')!r}"]
        problems = [f"{name}.{k}: reference {ref[k]!r}, sandbox {got.get(k)!r}"
                    for k in ("shape", "dtype") if ref[k] != got.get(k)]  # fmt: skip
        if problems:
            return problems
        if ref["value"] is not None:
            if not same(ref["value"], got.get("value")):
                problems.append(f"{name} value differs at {first_difference(ref['value'], got.get('value'))}")
        elif "summary" in ref and not summaries_agree(ref["summary"], got.get("summary")):
            problems.append(f"{name} summary: reference {ref['summary']}, sandbox {got.get('summary')}")
        return problems
    if got.get("type") != ref["type"]:
        return [f"{name}: reference type {ref['type']!r}, sandbox {got.get('type')!r} ({got})"]
    if not same(ref["value"], got.get("value")):
        return [f"{name}: {first_difference(ref['value'], got.get('value'))}"]
    return []


def compare(ref: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Every difference between the reference run and the sandbox's result (empty when they agree)."""
    problems: list[str] = []
    if ref["stdout"] != result.get("stdout"):
        problems.append(stdout_difference(ref["stdout"], result.get("stdout") or ""))
    variables = result.get("variables") or {}
    for name, entry in ref["variables"].items():
        got = variables.get(name)
        if got is not None and got.get("same_as") in variables:  # one tensor under two names is sent once
            got = {**variables[got["same_as"]], **{k: v for k, v in got.items() if k not in ("value", "grad")}}
            got.pop("same_as")
        problems.extend(compare_variable(name, entry, got))
    return problems


def stdout_difference(ref: str, got: str) -> str:
    a, b = ref.splitlines(keepends=True), got.splitlines(keepends=True)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"stdout line {i + 1}: reference {x!r}, sandbox {y!r}"
    return f"stdout: reference has {len(a)} lines, sandbox {len(b)} (first extra: {(a[len(b) :] or b[len(a) :])[0]!r})"


def short_name(path: Path) -> str:
    return path.stem


# --- the test --------------------------------------------------------------------------------------------
def test_corpus_is_there() -> None:
    assert len(PROGRAMS) >= 36, f"tests/corpus/ holds {len(PROGRAMS)} programs"
    assert len({p.stem.split("_")[0] for p in PROGRAMS}) == len(PROGRAMS), "two programs share a number"


@pytest.mark.parametrize("path", PROGRAMS, ids=short_name)
def test_program_matches_plain_pytorch(path: Path, references: dict[Path, dict[str, Any]]) -> None:
    from core.sandbox.session import execute

    ref = references[path]
    assert ref["rc"] == 0, f"plain PyTorch failed on {path.name} (a corpus bug, not the sandbox's):\n{ref['stderr']}"
    result = execute(path.read_text(encoding="utf-8"), "cpu", with_graph=True)
    assert result["ok"] is True, f"sandbox error: {result.get('error')}"
    problems = compare(ref, result)
    shown = "\n  ".join(problems[:25]) + (f"\n  ... and {len(problems) - 25} more" if len(problems) > 25 else "")
    assert not problems, f"{path.name}: {len(problems)} difference(s) from plain PyTorch:\n  {shown}"


def test_comparison_catches_differences() -> None:
    """The comparison itself: bit-level float checks, nan, -0.0, types, summaries, missing names, stdout."""
    tensor = {"type": "tensor", "shape": [2], "dtype": "float32", "requires_grad": True, "is_leaf": True,
              "value": [1.0, "nan"], "grad": [0.0, 2.0]}  # fmt: skip
    ref = {"stdout": "a\nb\n", "variables": {"t": tensor, "n": {"type": "int", "value": 3}}}
    assert compare(ref, {"stdout": "a\nb\n", "variables": {"t": dict(tensor), "n": {"type": "int", "value": 3}}}) == []

    def differs(stdout: str = "a\nb\n", **changes: Any) -> bool:
        got = {"t": {**tensor, **changes.pop("t", {})}, "n": changes.pop("n", {"type": "int", "value": 3})}
        return bool(compare(ref, {"stdout": stdout, "variables": got}))

    assert differs(stdout="a\nb")
    assert differs(stdout="a\nc\n")
    assert differs(t={"value": [1.0000000000000002, "nan"]})
    assert differs(t={"value": [1.0, 0.0]})
    assert differs(t={"grad": [-0.0, 2.0]})
    assert differs(t={"grad": None})
    assert differs(t={"dtype": "float64"})
    assert differs(t={"shape": [1, 2]})
    assert differs(t={"requires_grad": False})
    assert differs(n={"type": "float", "value": 3.0})
    assert differs(n={"type": "int", "value": 4})
    assert compare(ref, {"stdout": "a\nb\n", "variables": {"t": tensor}})  # n missing
    big = {**tensor, "value": None, "summary": {"min": 0.0, "max": 1.0, "mean": 0.5, "std": 0.25}}
    ref_big = {"stdout": "", "variables": {"t": big}}
    near = {**big, "summary": {"min": 0.0, "max": 1.0, "mean": 0.5 * (1 + 1e-14), "std": 0.25}}
    far = {**big, "summary": {"min": 0.0, "max": 1.0, "mean": 0.5 * (1 + 1e-9), "std": 0.25}}
    assert compare(ref_big, {"stdout": "", "variables": {"t": near}}) == []
    assert compare(ref_big, {"stdout": "", "variables": {"t": far}})
