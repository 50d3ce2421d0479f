"""The program's running `for` loops and how many iterations each has left.

A training loop's last backward pass is the one that runs while every running loop is on its last item. The
backward log (session.BackwardLog) asks `LoopWatch.left()` at each pass: when nothing is left, it records that
pass as it runs, where it would otherwise record it in a second run of the whole program. A guess that code
after the loops proves wrong (another pass) costs a recording; the log makes a few at most.

Counting never runs the program's own code: only iterators whose count is plain data are counted (the
built-in sequences', `enumerate` and `zip` over them, a DataLoader over tensors); any other running loop (a
generator, a dataset class of the program's) makes the count unknown, as does a `while` loop (its tick tells
the watch: `tick_of_while`). A loop whose iterator nobody but the watch holds any more has ended (or was left
with `break`) and is dropped.
"""

from __future__ import annotations

import ast
import operator
import sys
from typing import Any

import torch
from torch.utils import data as tud
from torch.utils.data.dataloader import _DatasetKind, _SingleProcessDataLoaderIter

# built-in iterators whose length_hint is exact: what is left of the list (or range...) as it is now
_EXAMPLES: tuple[Any, ...] = (
    iter(range(0)), iter(range(2**64)), iter([]), iter(()), iter({}), iter({}.values()), iter({}.items()),
    iter(set()), iter(""), iter("\u00e9"), iter(b""), reversed([]), reversed({}), reversed({}.values()),
    reversed({}.items()),
)  # fmt: skip
_COUNTED = frozenset(type(x) for x in _EXAMPLES)
_SAMPLERS = (tud.SequentialSampler, tud.RandomSampler)
KEEP = 64  # loops kept track of at once; past that, ended ones are dropped
DEPTH = 8  # enumerate(zip(...)) nesting counted through; deeper is unknown


def _probe() -> int:
    """The reference count an iterator has when only a watch's list holds it, read as LoopWatch._live reads
    it (the list, the loop variable, the argument): a loop running it (its frame's stack) holds one more."""
    running = [iter(())]
    for it in running:
        return sys.getrefcount(it)
    raise AssertionError


_ONLY_OURS = _probe()


def _data_len(dataset: Any) -> int | None:
    """len() of a dataset whose length is plain data (no code of the program's runs); None otherwise."""
    t = type(dataset)
    if t is tud.TensorDataset:
        return int(dataset.tensors[0].size(0))
    if t is tud.Subset and type(dataset.indices) in (list, tuple, range, torch.Tensor):
        return len(dataset.indices)
    return None


def _left(it: Any, depth: int = 0) -> int | None:
    """Items the iterator will still give; None when that cannot be known without running the program's code."""
    t = type(it)
    if t in _COUNTED:
        return operator.length_hint(it)
    if depth >= DEPTH:
        return None
    if t is enumerate:
        return _left(it.__reduce__()[1][0], depth + 1)
    if t is zip:
        counts = [_left(inner, depth + 1) for inner in it.__reduce__()[1]]
        if 0 in counts:  # the shortest ends it
            return 0
        return None if None in counts else min(counts, default=0)  # type: ignore[type-var]
    if t is _SingleProcessDataLoaderIter:
        return _loader_left(it)
    return None


def _loader_left(it: Any) -> int | None:
    if it._dataset_kind != _DatasetKind.Map or _data_len(it._dataset) is None:
        return None
    index = it._index_sampler
    sampler: Any = index.sampler if type(index) is tud.BatchSampler else index
    if type(sampler) not in _SAMPLERS or sampler.data_source is not it._dataset:
        return None
    if type(sampler) is tud.RandomSampler and sampler._num_samples is not None:
        return None  # num_samples given: not the dataset's length, yet plain data; kept simple
    return len(index) - it._num_yielded


class LoopWatch:
    """The iterators of the program's running for loops (and comprehensions), as `__sb_loop__` makes them."""

    def __init__(self) -> None:
        self._running: list[Any] = []
        self.blind = False  # too many loops at once (deep recursion): what is left is no longer known
        self._spun = False  # a while loop ticked since the pass before this one began: its count is unknown
        self._spinning = False  # a while loop ticked since this pass began

    def started(self, it: Any) -> None:
        running = self._running
        running.append(it)
        if len(running) > KEEP:
            running[:] = self._live()
            if len(running) > KEEP // 2:
                self.blind = True
                running.clear()

    def _live(self) -> list[Any]:
        live = []
        for it in self._running:
            if sys.getrefcount(it) > _ONLY_OURS:
                live.append(it)
        return live

    def pass_starts(self) -> None:
        """A backward pass begins: while-loop ticks from now on are this pass's iteration's."""
        self._spun, self._spinning = self._spinning, False

    def tick_of_while(self) -> None:
        self._spinning = True

    def left(self) -> int | None:
        """Iterations left over all running loops (0: each is on its last item, or none runs); None when some
        running loop's count is unknown, or a while loop ticked since the pass before this one began."""
        if self.blind or self._spun or self._spinning:
            return None
        self._running = live = self._live()
        total = 0
        for it in live:
            try:
                n = _left(it)
            except Exception:  # noqa: BLE001  an iterator not as expected: its count is unknown, the run goes on
                return None
            if n is None:
                return None
            total += n
        return total


# calls that cannot run a backward pass: a loop of only these may be left early without hiding a last pass
_PLAIN_CALLS = frozenset({
    "print", "len", "range", "enumerate", "zip", "str", "int", "float", "bool", "list", "tuple", "dict", "set",
    "min", "max", "sum", "abs", "round", "sorted", "reversed", "isinstance", "type", "format", "repr",
})  # fmt: skip
_LIBRARIES = frozenset({"torch", "nn", "F", "np", "numpy", "math", "random"})
_BACKWARD = frozenset({"backward", "grad"})


def _runs_no_backward(node: ast.AST) -> bool:
    """Nothing in `node` can run a backward pass: its calls are plain builtins, or library functions other
    than backward and grad (a method of a value, a function of the program's might run one)."""
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Call):
            continue
        f = sub.func
        if isinstance(f, ast.Name) and f.id in _PLAIN_CALLS:
            continue
        root = f
        while isinstance(root, ast.Attribute):
            if root.attr in _BACKWARD:
                return False
            root = root.value
        if not (isinstance(f, ast.Attribute) and isinstance(root, ast.Name) and root.id in _LIBRARIES):
            return False
    return True


def run_to_their_end(tree: ast.Module) -> bool:
    """Every loop that may run a backward pass ends only by running out of items (or by an error that ends the
    program): no `break` or `continue` in such a loop, no `try` around one, no `return` inside a loop. Its
    passes can then be foreseen from the first. (A loop that only prints may break: the Quickstart's look at
    its first batch.)"""
    # Only statements are walked (about 1 in 30 nodes): break, continue, try, return, loops and functions are
    # all statements, and an expression holds none (a lambda's body is an expression).
    stack: list[tuple[ast.AST, ast.AST | None, bool]] = [(tree, None, False)]  # (node, its loop, in a function's loop)
    while stack:
        node, loop, in_loop = stack.pop()
        kind = type(node)
        if (kind is ast.Break or kind is ast.Continue) and (loop is None or not _runs_no_backward(loop)):
            return False
        if (kind is ast.Try or kind is ast.TryStar) and not _runs_no_backward(node):
            return False
        if kind is ast.Return and in_loop:
            return False
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            loop, in_loop = None, False  # a return in a function called from a loop ends the call, not the loop
        if kind is ast.For or kind is ast.AsyncFor or kind is ast.While:
            loop, in_loop = node, True
        for field in _BLOCKS:
            for child in getattr(node, field, ()):
                stack.append((child, loop, in_loop))  # a statement, an except handler or a match case
    return True


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")  # the fields that hold statements (or hold blocks)
