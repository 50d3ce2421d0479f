"""One evaluation inside a worker: run the program with its guards, then describe it as bounded JSON."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from core import tensorjson
from core.limits import (
    FULL_PASSES,
    MAX_ANSWER_BYTES,
    MAX_GRAPH_JSON_ELEMENTS,
    MAX_VARIABLE_ELEMENTS,
    WALL_TIMEOUT_S,
)
from core.sandbox import guard, modules
from core.sandbox.errors import SandboxError
from core.sandbox.guard import Budget
from core.sandbox.interpreter import Interpreter, bounded_text
from core.sandbox.loops import LoopWatch, run_to_their_end
from core.sandbox.validate import parse
from core.sandbox.wire import decode_answer, encode_answer, encode_json
from core.trace import ValueLog

ROLLING_BELOW = 0.8  # record passes as they run while recording one costs less than this share of an iteration
LIGHT_PASSES = 3  # passes after the first FULL_PASSES run unrecorded, timed to choose how the last is recorded
ROLLING_REVIEW = 8  # rolled passes after which rolling's own cost is checked against the choice
FORESIGHTS = 3  # passes recorded because every loop was on its last item, before such looks are not trusted
EARLY_PASS_ELEMENTS = 20_000  # an earlier backward pass is sent with its numbers while its gradients stay this small
ALIAS_ABOVE = 1_000  # a tensor this big bound to several names lists its numbers under the first name only
DEFAULT_SEED = 0  # every run starts from the same RNG state (torch, random, numpy), so a program repeats exactly


class BackwardLog:
    """Wraps every backward call of a program; records the engine's real order for the chosen passes.

    The first FULL_PASSES passes are recorded as they run. A program with more (a training loop) then gets
    its last pass recorded one of three ways:
    - Foreseen: a pass that runs while every running loop is on its last item (`loops.left()` is 0) is
      recorded as it runs, and the one recorded before it let go. It is the program's last unless code after
      the loops runs another pass: FORESIGHTS such guesses are made at most. When the program's loops end
      only by running out of items (`to_the_end`) and its first pass has at least FULL_PASSES iterations to
      come, only such passes are recorded, from the first on (`foresight`): the first passes' recordings
      would be let go anyway. Should the last pass still go unrecorded (a backward inside an `if`), a
      second run records it.
    - Rolling: otherwise, whichever of the next two costs less, judged on the program's own passes (the next
      LIGHT_PASSES run unrecorded and are timed against the recorded ones). When recording a pass costs less
      than ROLLING_BELOW of an iteration, every later pass is recorded as it runs and the one before it let
      go; the last one recorded is the program's last. What rolling costs is reviewed as it goes: past that
      share, the run goes on unrecorded.
    - Second run: otherwise (small ops, where recording costs more than the iteration itself) the run goes on
      without recording, and the program is run a second time with `target` set to its last pass, so only
      that one pays for the recording.
    Beyond the first passes, forward values are wanted (`on_values`) only while rolling, and for an
    iteration that may hold the last pass: the running loops have at most one item left between them.
    """

    def __init__(self, record: bool = True, target: int | None = None) -> None:
        self.record = record
        self.target = target
        self.on_pass: Any = None  # on_pass(i, done): before (done False) and after (done True) each pass runs
        self.on_values: Any = None  # on_values(bool): the forward values of the ops from now on are wanted or not
        self.loops: LoopWatch | None = None  # the program's running loops: what is left of them
        self.to_the_end = False  # its loops end only by running out of items (loops.run_to_their_end)
        self.count = 0
        self.passes: list[dict[str, Any]] = []  # {"kind", "index", "line", "roots", "recorder"} (light beyond)
        self.last_roots: list[torch.Tensor] = []
        self.rolling = False
        self.foresight = False  # passes are recorded only where they look like the program's last
        self._chosen = False  # rolling or not has been decided
        self._recorded_s: list[float] = []  # durations of recorded passes 1..FULL_PASSES-1 (pass 0 warms up)
        self._light: list[tuple[float, float]] = []  # (forward, pass) seconds of the unrecorded passes timed
        self._last_end = 0.0  # when the previous pass ended, in CPU seconds (see _cpu)
        self._kept: list[dict[str, Any]] = []  # the entries whose recordings are kept
        self._newest: dict[str, Any] | None = None  # the newest pass recorded beyond the first ones
        self._foreseen = 0  # passes recorded because they looked like the last
        self._values = True  # forward values are being recorded
        self._light_s = 0.0  # the quickest unrecorded pass: the cost of a pass without its recording
        self._paid = [0.0, 0.0, 0]  # while rolling: recording seconds, iteration seconds, passes

    def _full(self, i: int) -> bool:
        if not self.record:
            return False
        if self.target is not None:
            return i == self.target
        if self.foresight:
            return self._looks_last()
        return i < FULL_PASSES or self.rolling or self._looks_last()

    def _looks_last(self) -> bool:
        """Every running loop is on its last item, and the forward values of this iteration were recorded."""
        if self._foreseen >= FORESIGHTS or self.loops is None or not self._values:
            return False
        if self.loops.left() != 0:
            return False
        self._foreseen += 1
        return True

    def __call__(self, kind: str, roots: list[torch.Tensor], grad_outputs: list[Any], call: Any) -> Any:
        i = self.count
        self.count += 1
        entry: dict[str, Any] = {"kind": kind, "index": i}
        self.passes.append(entry)
        self.last_roots = list(roots)
        if self.on_pass is not None:
            self.on_pass(i, False)
        if self.loops is not None:
            self.loops.pass_starts()
            if i == 0 and self.to_the_end and self.record and self.target is None and FORESIGHTS > 0:
                left = self.loops.left()  # as many iterations to come as passes recorded as they run, or more
                self.foresight = left is not None and left >= FULL_PASSES
        started = _cpu()
        forward_s = started - self._last_end
        full = self._full(i)
        try:
            return self._run(i, full, entry, roots, grad_outputs, call)
        finally:
            self._last_end = ended = _cpu()
            if self.record and self.target is None:
                if not self.foresight:  # by foresight, no choice to time: only a pass that looks last is recorded
                    self._timed(i, full, forward_s, ended - started)
                if self.foresight or i >= FULL_PASSES - 1:  # beyond the first passes (all of them by foresight),
                    self._want_values(self.rolling or self._may_end())  # values only where they may be drawn
            if self.on_pass is not None:
                self.on_pass(i, True)

    def _timed(self, i: int, recorded: bool, forward_s: float, pass_s: float) -> None:
        """Pass i took pass_s (after forward_s of its iteration): the first passes time a recording, the next
        unrecorded ones time a pass without it, until rolling or not is chosen; rolling reviews its cost."""
        if 0 < i < FULL_PASSES:
            self._recorded_s.append(pass_s)
        elif i >= FULL_PASSES and not self._chosen:
            if not recorded:
                self._light.append((forward_s, pass_s))
            if len(self._light) == LIGHT_PASSES:
                self._choose()
        elif self.rolling:
            self._check_rolling(forward_s, pass_s)

    def _choose(self) -> None:
        """After the timed unrecorded passes: roll on, or leave the last pass to a second run. The quickest of
        each kind is compared (a pause of the machine only ever adds time)."""
        self._chosen = True
        self._light_s = min(p for _, p in self._light)
        iteration_s = min(f + p for f, p in self._light)
        recording_s = min(self._recorded_s) - self._light_s if self._recorded_s else math.inf
        self.rolling = recording_s < ROLLING_BELOW * iteration_s

    def _may_end(self) -> bool:
        """The next iteration may hold the program's last pass: the running loops have at most one item left
        between them."""
        if self._foreseen >= FORESIGHTS or self.loops is None:
            return False
        left = self.loops.left()
        return left is not None and left <= 1

    def _want_values(self, on: bool) -> None:
        if on != self._values:
            self._values = on
            if self.on_values is not None:
                self.on_values(on)

    @property
    def rolled_last(self) -> bool:
        """The program's last pass was recorded as it ran, by rolling or foreseen (a program can end before
        either records any)."""
        return self._newest is not None and self.passes[-1] is self._newest

    @property
    def foresaw_last(self) -> bool:
        return self.rolled_last and not self.rolling and self._foreseen > 0

    @property
    def second_run_follows(self) -> bool:
        """A first run whose last pass was not recorded: a second run will record it."""
        return (self.record and self.target is None and (self.count > FULL_PASSES or self.foresight)
                and not self.rolled_last)  # fmt: skip

    def _check_rolling(self, forward_s: float, pass_s: float) -> None:
        """Rolling costs what its passes show: once recording has cost more than ROLLING_BELOW of the
        iterations (a choice a busy moment misled), the run goes on unrecorded and a second run follows."""
        self._paid[0] += max(0.0, pass_s - self._light_s)
        self._paid[1] += forward_s + self._light_s
        self._paid[2] += 1
        if self._paid[2] >= ROLLING_REVIEW and self._paid[0] > ROLLING_BELOW * self._paid[1]:
            self.rolling = False
            self._keep_only(None)

    def _keep_only(self, entry: dict[str, Any] | None) -> None:
        """The recordings kept so far are let go (the passes stay listed): `entry`'s is the only one now."""
        for old in self._kept:
            _forget(old)
        self._kept = [entry] if entry is not None else []
        self._newest = entry

    def _run(self, i: int, full: bool, entry: dict[str, Any], roots: list[torch.Tensor], grad_outputs: list[Any],
             call: Any) -> Any:  # fmt: skip
        if not full:
            return call()

        from torch.utils._python_dispatch import _disable_current_modes

        from core.backward import BackwardRecorder

        if self.target is None and (i >= FULL_PASSES or self.foresight):
            # rolled or foreseen: the passes recorded before are no longer the newest. Their recordings are let
            # go, so that the answer is the second run's (the last pass recorded, the others listed)
            self._keep_only(entry)
        else:
            self._kept.append(entry)
        with _disable_current_modes():
            recorder = BackwardRecorder(roots, grad_outputs)
        entry["roots"] = list(roots)
        entry["recorder"] = recorder
        try:
            return call()
        finally:
            recorder.remove()

    def recorded(self) -> list[dict[str, Any]]:
        return [p for p in self.passes if "recorder" in p]


def _cpu() -> float:
    """This thread's CPU seconds: what rolling or not is chosen on. On a busy machine a pass's wall time
    holds the moments others ran instead, and the short recorded passes lose a larger share of theirs
    (measured under two busy loops on two cores: recorded passes 6.5 ms where they cost 2.3, and the choice
    close to a second run that a loop of heavy iterations does not need). The thread's, not the process's:
    OpenMP threads spinning between ops would count as work (a worker runs torch on this thread alone)."""
    return time.thread_time()


def _forget(entry: dict[str, Any]) -> None:
    """A pass stays listed; its recording (and the roots that kept its graph) is let go."""
    entry.pop("recorder", None)
    entry.pop("roots", None)


def resolve_device(name: str) -> torch.device:
    """'cpu' / 'cuda' / 'cuda:N' -> torch.device, with a clear error when no GPU is present."""
    try:
        dev = torch.device(name or "cpu")
    except (RuntimeError, TypeError):
        raise SandboxError.of("runtime", "sb_unknown_device", device=name) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise SandboxError.of("runtime", "sb_no_gpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise SandboxError.of("runtime", "sb_no_such_gpu", index=dev.index, count=torch.cuda.device_count())
    elif dev.type != "cpu":
        raise SandboxError.of("runtime", "sb_device_unsupported", device=name)
    return dev


@contextmanager
def program_context(dev: torch.device, dtype: torch.dtype | None = None) -> Iterator[Budget]:
    """The state every run of a program starts from (seeded RNGs, device, default dtype) with its compute and
    memory budget, and the process-global settings a program can change put back afterwards."""
    torch.manual_seed(DEFAULT_SEED)
    random.seed(DEFAULT_SEED)
    np.random.seed(DEFAULT_SEED)
    grad_enabled = torch.is_grad_enabled()
    if dtype is not None:
        torch.set_default_dtype(dtype)
    if dev.type != "cpu":  # CPU is the default already; the device mode costs every op a detour
        torch.set_default_device(dev)
    budget = Budget(dev)
    guard.ACTIVE.append(budget)
    try:
        yield budget
    finally:
        guard.ACTIVE.remove(budget)
        torch.set_default_device(None)
        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(grad_enabled)  # a bare `torch.set_grad_enabled(False)` must not outlive the run
        torch.set_printoptions(profile="default")


def execute(
    source: str, device: str = "cpu", with_graph: bool = True, detail_pass: int | None = None
) -> dict[str, Any]:
    """Validate and run `source`; returns the result object (ok true, or ok false with an error), as the app
    reads it from a worker. See _execute."""
    return decode_answer(execute_encoded(source, device, with_graph, detail_pass))


def execute_encoded(source: str, device: str = "cpu", with_graph: bool = True, detail_pass: int | None = None) -> bytes:
    """execute's answer as the wire's JSON (what the worker sends): written once, as bounding its size wrote it."""
    result, data = _execute(source, device, with_graph, detail_pass)
    return data or encode_json(result)  # b"": not JSON, and encode_json says why


def _execute(source: str, device: str, with_graph: bool, detail_pass: int | None) -> tuple[dict[str, Any], bytes]:
    """The result object and its JSON.

    With a graph, a program with more than FULL_PASSES backward passes has its last one recorded as it runs
    (foreseen or rolling, see BackwardLog) or by running the program again with the last pass (or
    `detail_pass`) as the one to record: runs are seeded, so the second run is the first's twin.
    """
    started = time.perf_counter()
    result, passes, log_passes, second_run = _execute_once(source, device, with_graph, detail_pass)
    if second_run and result["ok"]:
        took = time.perf_counter() - started
        if took < WALL_TIMEOUT_S / 3:
            # few passes in all (foresight expected more): the second run records each as it runs
            few = passes <= FULL_PASSES
            again, passes2, _, _ = _execute_once(source, device, with_graph, None if few else passes - 1, not few)
            if again["ok"] and passes2 == passes and again["stdout"] == result["stdout"]:
                again["stats"]["first_run_ms"] = result["stats"]["ms"]
                result = again
            else:
                result["backward_note"] = "the last backward pass could not be recorded (the second run differed)"
        else:
            result["backward_note"] = "the graph was not recorded: the program is too slow to run twice"
            result["backward_passes"] = [  # still listed: any one can be asked for with detail_pass
                {"kind": p["kind"], "index": p["index"], "start": 0, "count": 0, "recorded": False} for p in log_passes
            ]
    result["stats"]["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return _fit(result)


def _execute_once(
    source: str, device: str, with_graph: bool, target: int | None, foresee: bool = True
) -> tuple[dict[str, Any], int, list[dict[str, Any]], bool]:
    """One run: (result, backward passes, their log entries, whether a second run must record the last pass).
    `foresee`: passes may be recorded by foresight from the first on (BackwardLog.foresight)."""
    started = time.perf_counter()
    interp: Interpreter | None = None
    log = BackwardLog(record=with_graph, target=target)
    values = ValueLog()
    values.enabled = with_graph

    def recording(on: bool) -> None:
        """Values (and graph cuts) are recorded only where a drawn graph can need them."""
        values.enabled = on and with_graph
        if interp is not None and interp.runtime is not None:
            interp.runtime.on_value = values if values.enabled else None

    def wanted(on: bool) -> None:
        """Forward values beyond the first passes: what the program computed before its first backward pass
        is kept, as it may feed the last graph; an iteration's are kept while they may be drawn."""
        if not on:
            values.back_to_mark()
        recording(on)

    def first(i: int, done: bool) -> None:
        if i == 0 and not done:
            values.mark()

    def window(i: int, done: bool) -> None:
        """Re-running for pass `target`: the forward ops of earlier iterations are not drawn, so they are not
        recorded (what the program computed before its first backward pass is, as it may feed the last graph)."""
        assert target is not None
        if not done and i == 0 and target > 0:
            recording(False)
        elif done and i == target - 1:
            recording(True)

    log.on_values = wanted
    if with_graph:
        log.on_pass = window if target is not None else first
    budget: Budget | None = None
    try:
        tree = _parse_once(source)
        dev = resolve_device(device)
        interp = Interpreter(on_backward=log, on_value=values if with_graph else None)
        log.loops = interp.loops
        log.to_the_end = foresee and with_graph and target is None and run_to_their_end(tree)
        interp.tree, interp.source = tree, source
        with program_context(dev) as budget:
            interp.run(tree)
        result: dict[str, Any] = {"ok": True, "device": str(dev)}
    except SandboxError as e:
        result = {"ok": False, "device": device, "error": e.to_json()}
    if interp is not None and (result["ok"] or result["error"]["kind"] == "runtime"):
        try:
            # a first run that leaves its last pass to a second run only counts its passes: no graph
            with tensorjson.shared():
                result.update(describe(interp, values, log, with_graph and not log.second_run_follows))
        except SandboxError as e:
            result = {"ok": False, "device": device, "error": e.to_json()}
        except Exception as e:  # noqa: BLE001  describing must not lose the run's own result
            result["describe_error"] = f"{type(e).__name__}: {e}"
    result["stdout"] = "".join(interp.stdout) if interp else ""
    result["stats"] = {
        "ops": interp.ops if interp else 0,
        "steps": interp.runtime.steps if interp and interp.runtime else 0,
        "gflop": round(budget.flops / 1e9, 3) if budget else 0.0,
        "ms": round((time.perf_counter() - started) * 1000, 2),
        "backward_passes": log.count,
    }
    result["stats"]["recording"] = ("foreseen" if log.foresaw_last else "rolling" if log.rolled_last
                                    else "second run" if target is not None
                                    else "as it ran" if log.count <= FULL_PASSES else "unrecorded")  # fmt: skip
    return result, log.count, log.passes, log.second_run_follows


_PARSED: list[tuple[str, Any]] = []  # (source, its validated tree): the newest program this process parsed


def _parse_once(source: str) -> Any:
    """validate.parse, once per program text: a second run of the same text gets the same validated tree (and
    so, from compile_program, the same compiled code)."""
    if _PARSED and _PARSED[0][0] == source:
        return _PARSED[0][1]
    tree = parse(source)
    _PARSED[:] = [(source, tree)]
    return tree


def describe(interp: Interpreter, values: ValueLog, log: BackwardLog, with_graph: bool) -> dict[str, Any]:
    """Variables, graph, backward steps of a finished (or stopped) program, as JSON."""
    variables: dict[str, Any] = {}
    tensors: dict[str, torch.Tensor] = {}
    first_name: dict[int, str] = {}
    budget = [MAX_VARIABLE_ELEMENTS]
    for name, value in interp.env.items():
        if isinstance(value, torch.Tensor) and id(value) in first_name and value.numel() > ALIAS_ABOVE:
            # one big tensor, many names: its numbers are sent once
            entry: dict[str, Any] | None = {"type": "tensor", "same_as": first_name[id(value)],
                                            **tensorjson.describe(value, max_elements=0)}  # fmt: skip
        else:
            try:
                entry = describe_value(value, budget)
            except Exception as e:  # noqa: BLE001  one odd value must not hide the others
                entry = {"type": type(value).__name__, "repr": f"(cannot be shown: {type(e).__name__})"}
            except SandboxError as e:
                entry = {"type": type(value).__name__, "repr": f"(cannot be shown: {e.message})"}
        if entry is not None:
            variables[name] = entry
        if isinstance(value, torch.Tensor):
            tensors[name] = value
            first_name.setdefault(id(value), name)
    out: dict[str, Any] = {"variables": variables}
    if with_graph:
        out.update(graph_json(tensors, values, log, interp))
    return out


def graph_json(
    tensors: dict[str, torch.Tensor], values: ValueLog, log: BackwardLog, interp: Interpreter
) -> dict[str, Any]:
    """The graph of the program's named tensors and of its recorded backward passes, with their steps."""
    from core import backward as bw
    from core import graph as gr

    roots: list[torch.Tensor] = []
    seen: set[int] = set()
    recorded = log.recorded()

    def add(t: torch.Tensor) -> None:
        if id(t) not in seen:
            seen.add(id(t))
            roots.append(t)

    for p in recorded:
        for t in p["roots"]:
            add(t)
    for t in log.last_roots:
        add(t)
    for t in tensors.values():
        if t.grad_fn is not None or t.requires_grad:
            add(t)
    named_ids = {id(t) for t in tensors.values()}
    cuts = interp.runtime.cuts if interp.runtime is not None else {}
    for _t, _reason, src in cuts.values():  # what a named constant was cut from is part of the picture
        if id(_t) in named_ids:
            add(src)
    grads: dict[Any, Any] = {}
    saved: dict[Any, Any] = {}
    forward: dict[Any, Any] = {}
    made: set[Any] = set()
    for p in recorded:
        grads.update(p["recorder"].grads)
        for node, items in p["recorder"].saved.items():
            saved.setdefault(node, items)
        forward.update(p["recorder"].outputs)  # values a consumer saved, for nodes the guards did not see
        made |= p["recorder"].created()
    forward.update(values.values())
    leaves = values.changed_leaves()
    module_names, params = modules.qualified_names(interp.env)
    labels = {**tensors, **{k: p for k, p in params.items() if k not in tensors}}  # the user's own names first
    graph = gr.build(
        roots, names=labels, values=forward, grads=grads, saved=saved or None, changed_leaves=leaves, by_backward=made
    )
    steps: list[dict[str, Any]] = []
    passes: list[dict[str, Any]] = []
    last = recorded[-1]["index"] if recorded else -1
    budget = [MAX_GRAPH_JSON_ELEMENTS]
    detailed: dict[int, list[dict[str, Any]]] = {}
    if recorded:  # the last pass first: it gets the numbers; earlier ones while they stay small
        detailed[last] = bw.steps_to_json(recorded[-1]["recorder"].steps, graph, budget=budget)
    for p in log.passes:
        entry = {"kind": p["kind"], "index": p["index"], "start": len(steps), "count": 0, "recorded": "recorder" in p}
        if "recorder" in p:
            small = sum(t.numel() for st in p["recorder"].steps for t in (*st.incoming, *st.outgoing)
                        if t is not None) <= EARLY_PASS_ELEMENTS  # fmt: skip
            pass_steps = detailed.get(p["index"]) or bw.steps_to_json(p["recorder"].steps, graph, detail=small,
                                                                      budget=budget)  # fmt: skip
            entry["detail"] = p["index"] == last or small
            for st in pass_steps:
                st["pass"] = p["index"]
            entry["count"] = len(pass_steps)
            steps.extend(pass_steps)
        passes.append(entry)
    for i, st in enumerate(steps):
        st["index"] = i
    _own_backward_rules(steps, interp)
    graph_dict = graph.to_json()
    changed = values.changed()
    if changed:
        for gid in (graph.id_of(n) for n in changed):
            if gid is not None:
                for nd in graph_dict["nodes"]:
                    if nd["id"] == gid and nd.get("value") is None:
                        nd["value_note"] = "changed in place after this op ran: its forward value is gone"
    _add_modules(graph_dict, graph, interp, module_names, {id(p) for p in params.values()})
    _add_cuts(graph_dict, graph, tensors, cuts)
    out: dict[str, Any] = {
        "graph": graph_dict,
        "backward_order": [st["node"] for st in steps if st["node"] is not None],
        "backward_steps": steps,
        "backward_passes": passes,
    }
    higher = [t.grad for t in tensors.values() if t.is_leaf and t.grad is not None and t.grad.grad_fn is not None]
    if higher:
        names = {f"{n}.grad": t.grad for n, t in tensors.items() if t.is_leaf and t.grad is not None}
        names.update(tensors)
        out["grad_graph"] = gr.build(
            higher, names=names, values=forward, grads=grads, changed_leaves=leaves, by_backward=made
        ).to_json()
    return out


def _own_backward_rules(steps: list[dict[str, Any]], interp: Interpreter) -> None:
    """A custom torch.autograd.Function's node runs the program's own backward(): that code is its rule."""
    rt = interp.runtime
    if rt is None or interp.tree is None:
        return
    own = {c.__name__: c for c in rt.classes if issubclass(c, torch.autograd.Function)}
    if not own:
        return
    import ast

    sources: dict[str, str] = {}
    for node in ast.walk(interp.tree):
        if isinstance(node, ast.ClassDef) and node.name in own:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "backward":
                    sources[node.name] = ast.get_source_segment(interp.source, item) or ""
    for st in steps:
        cls = st.get("grad_fn", "")
        name = cls[: -len("Backward")] if cls.endswith("Backward") else None
        if name in sources:
            st["rule"] = {
                "en": f"{name} is your own autograd Function: the engine runs your backward() for this step.",
                "zh": f"{name} 是你自己定义的 autograd Function：这一步引擎执行的是你写的 backward()。",
                "formula": sources[name],
                "own": True,
            }


def _add_modules(graph_dict: dict[str, Any], graph: Any, interp: Interpreter, names: dict[int, str],
                 params: set[int]) -> None:  # fmt: skip
    """Each node's module call (`module`: "m3") and the calls (`modules`: name, class, parent) for folding."""
    if not interp.module_calls:
        return
    n = len(graph)
    pos = {f"n{i}": i for i in range(n)}
    consumers: list[list[int]] = [[] for _ in range(n)]
    for e in graph_dict["edges"]:
        s, d = pos.get(e["src"]), pos.get(e["dst"])
        if s is not None and d is not None:
            consumers[s].append(d)
    leaves = graph.leaf_tensors()
    owner, table = modules.assign(interp.module_calls, graph.sequence_numbers(),
                                  [t is not None and id(t) in params for t in leaves], consumers, names)  # fmt: skip
    if not table:
        return
    for nd, call in zip(graph_dict["nodes"][:n], owner, strict=True):
        if call is not None:
            nd["module"] = call
    graph_dict["modules"] = table


def _add_cuts(graph_dict: dict[str, Any], graph: Any, tensors: dict[str, torch.Tensor],
              cuts: dict[int, tuple[torch.Tensor, str, torch.Tensor]]) -> None:  # fmt: skip
    """Named tensors computed under no_grad or by detach() from the graph: drawn as constants behind a cut edge."""
    from core import graph as gr

    for name, t in tensors.items():
        hit = cuts.get(id(t))
        if hit is None or hit[0] is not t or t.requires_grad:
            continue
        _, reason, src = hit
        src_id = graph.id_of(src.grad_fn if src.grad_fn is not None else src)
        if src_id is None:
            continue
        node = gr.constant_node(f"cut_{name}", reason, name, t)
        graph_dict["nodes"].append(node)
        graph_dict["edges"].append({"src": src_id, "dst": node["id"], "shape": list(t.shape), "cut": reason})


def describe_value(value: Any, budget: list[int] | None = None) -> dict[str, Any] | None:
    """A JSON record of one variable: tensors in full (within the shared `budget` of listed numbers, summaries
    after it), numbers and short lists as values, others as text."""
    if isinstance(value, torch.Tensor):
        limit = None
        if budget is not None:
            limit = max(0, min(budget[0], tensorjson.MAX_JSON_ELEMENTS))
            budget[0] -= min(value.numel(), limit) * (2 if value.is_leaf and value.grad is not None else 1)
        return {"type": "tensor", **tensorjson.describe(value, max_elements=limit)}
    if isinstance(value, np.ndarray):
        t = torch.from_numpy(value) if value.dtype.kind in "biufc" else None
        if t is None:
            return {"type": "ndarray", "repr": _short(bounded_text(value, 2_000, complete=False))}
        rec = tensorjson.describe(t, with_grad=False)
        return {"type": "ndarray", "shape": rec["shape"], "dtype": str(value.dtype), "value": rec["value"],
                **({"summary": rec["summary"]} if "summary" in rec else {})}  # fmt: skip
    if isinstance(value, (bool, np.bool_)) or value is None:
        return {"type": "bool" if value is not None else "NoneType", "value": None if value is None else bool(value)}
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = value.item() if isinstance(value, np.generic) else value
        return {"type": type(value).__name__, "value": tensorjson.finite_or_str(float(v))
                if isinstance(v, float) else (v if abs(v) < 2**53 else str(v))}  # fmt: skip
    if isinstance(value, str):
        return {"type": "str", "value": value}
    if isinstance(value, (torch.Size, torch.dtype, torch.device, complex)) or _is_return_type(value):
        return {"type": type(value).__name__, "repr": str(value)}
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        text = bounded_text(value, 2_000, as_repr=True, complete=False)  # iterative and bounded: lists can share rows
        return {"type": type(value).__name__, "repr": text if len(text) < 2_000 else text + " ..."}
    if isinstance(value, torch.nn.Module):
        n = sum(p.numel() for p in value.parameters())
        return {"type": "module", "class": type(value).__name__, "repr": _short(bounded_text(value, 4_000,
                complete=False)), "parameters": n}  # fmt: skip
    if isinstance(value, torch.optim.Optimizer):
        return {"type": "optimizer", "repr": _short(type(value).__name__)}
    if isinstance(value, (torch.utils.data.Dataset, torch.utils.data.DataLoader)):
        size = len(value) if hasattr(value, "__len__") else None
        return {"type": "data", "class": type(value).__name__, "repr": f"{type(value).__name__} ({size} items)"
                if size is not None else type(value).__name__}  # fmt: skip
    return None


def fit_answer(result: dict[str, Any]) -> dict[str, Any]:
    """Bound the answer's JSON to MAX_ANSWER_BYTES: lists of numbers give way to summaries, biggest first."""
    return _fit(result)[0]


def _fit(result: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """fit_answer, and the answer's JSON as it measured it last (b"" when it is not JSON): the worker sends
    those bytes instead of writing them again."""
    data = _encoded(result)
    if len(data) <= MAX_ANSWER_BYTES:
        return result, data
    return result, _trim(result, len(data))


def _trim(result: dict[str, Any], size: int) -> bytes:
    """Trim `result` in stages until its JSON fits; the JSON it was measured at last."""
    result.setdefault("stats", {})["trimmed_from_bytes"] = size
    # 1: backward steps beyond the last pass's keep only shapes; 2: every listed tensor becomes a summary
    steps = result.get("backward_steps") or []
    last = max((st.get("pass", 0) for st in steps), default=0)
    for st in steps:
        if st.get("pass", 0) != last:
            _summarise_step(st)
    data = _encoded(result)
    if len(data) <= MAX_ANSWER_BYTES:
        return data
    for st in steps:
        _summarise_step(st)
    for key in ("graph", "grad_graph"):
        for nd in (result.get(key) or {}).get("nodes", []):
            for k, skey in (("value", "summary"), ("grad", "grad_summary"), ("now", "now_summary")):
                if nd.get(k) is not None:
                    if skey not in nd:  # the numbers give way to their summary, never to nothing
                        nd[skey] = _list_summary(nd[k], str(nd.get("dtype") or ""))
                    nd[k] = None
                    nd[f"{k}_note"] = "trimmed: the answer would pass its size bound"
            if nd.get("saved"):
                nd["saved"] = {n: _trimmed_saved(v) for n, v in nd["saved"].items()}
    data = _encoded(result)
    if len(data) <= MAX_ANSWER_BYTES:
        return data
    for entry in (result.get("variables") or {}).values():
        for k in ("value", "grad"):
            if tensorjson.is_listed(entry.get(k)):
                entry[k] = None
                entry[f"{k}_note"] = "trimmed: the answer would pass its size bound"
    data = _encoded(result)
    if len(data) <= MAX_ANSWER_BYTES:
        return data
    result["stdout"] = result.get("stdout", "")[:10_000]
    result["backward_steps"] = []
    return _encoded(result)


def _trimmed_saved(v: Any) -> Any:
    """A saved value of a graph node with its numbers given way to their summary (graph._saved_json's form)."""
    if tensorjson.is_listed(v):  # a sequence of saved values
        return None
    if isinstance(v, dict) and v.get("value") is not None:
        return {**v, "value": None, "summary": _list_summary(v["value"], str(v.get("dtype") or "")),
                "value_note": "trimmed: the answer would pass its size bound"}  # fmt: skip
    return v


def _list_summary(nested: Any, dtype: str) -> dict[str, Any]:
    """The summary of listed numbers (as tensorjson writes them: NaN/inf as strings, complex as [re, im]; or
    packed)."""
    if isinstance(nested, tensorjson.Packed):
        nested = nested.tolist()

    def floats(v: Any) -> Any:
        return [floats(x) for x in v] if isinstance(v, list) else float(v)

    t = torch.tensor(floats(nested), dtype=torch.float64)
    if dtype.startswith("complex"):
        t = torch.view_as_complex(t.reshape(*t.shape[:-1], 2))
    return tensorjson.summary(t)


def _summarise_step(st: dict[str, Any]) -> None:
    for key in ("incoming", "outgoing"):
        if st.get(key):
            st[key] = [None for _ in st[key]]


def _encoded(obj: Any) -> bytes:
    """The answer as the worker will send it (the wire's JSON bytes); b"" when it is not JSON."""
    try:
        return encode_answer(obj)
    except TypeError:  # not JSON: the worker's own encoding reports it
        return b""


def _short(text: str, limit: int = 2_000) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def _is_return_type(value: Any) -> bool:
    return type(value).__module__ == "torch.return_types"
