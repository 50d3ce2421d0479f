"""The autograd graph behind some tensors, walked iteratively from grad_fn, exported as JSON (DESIGN.md)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, MutableSequence, Sequence
from functools import cache
from typing import Any

import torch

from core import tensorjson
from core.gcpause import gc_paused
from core.limits import (
    DEEP_FREE_STACK_BYTES,
    DEFAULT_NODE_BUDGET,
    DOT_BRIEF_ELEMENTS,
    MAX_GRAPH_JSON_ELEMENTS,
    MAX_JSON_ELEMENTS,
)

Node = torch.autograd.graph.Node  # an autograd node: a tensor's grad_fn, or AccumulateGrad for a leaf
AccumulateGrad = torch._C._functions.AccumulateGrad  # type: ignore[attr-defined]  # the node that stores a leaf's .grad

SAVED_PREFIX = "_saved_"
SAVED_FREED = "saved tensors were freed by backward (use retain_graph=True, or record them before backward)"
NOT_RECORDED = "not recorded: computed inside a library call, or an older node beyond the recording budget"
LEAF_CHANGED_BIG = "changed in place after the forward pass; its value at forward was too big to keep"


@cache
def op_name(grad_fn_class: str) -> str:
    """Friendly op name of a grad_fn class: MulBackward0 -> mul, MseLossBackward0 -> mse_loss."""
    if grad_fn_class == "AccumulateGrad":
        return "accumulate_grad"
    base = re.sub(r"Backward\d*$", "", grad_fn_class) or grad_fn_class
    base = re.sub(r"(\d)D(?=[A-Z]|$)", r"\1d", base)  # MaxPool2DWithIndices -> max_pool2d_with_indices
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower()


@cache
def _dtype_name(dtype: torch.dtype) -> str:
    return tensorjson.dtype_name(dtype)


@cache
def _saved_names(cls: type) -> tuple[str, ...]:
    """The `_saved_*` attributes a grad_fn class exposes (same for every instance, so asked once)."""
    return tuple(a for a in dir(cls) if a.startswith(SAVED_PREFIX))


def read_saved(fn: Node) -> dict[str, Any] | None:
    """A node's saved values {name: tensor or python value} read live; None once backward freed them."""
    out: dict[str, Any] = {}
    for attr in _saved_names(type(fn)):
        try:
            out[attr[len(SAVED_PREFIX) :]] = getattr(fn, attr)
        except RuntimeError:
            return None
    return out


# Freeing deep graphs. Once Python has seen an autograd node (a grad_fn, next_functions), torch 2.13 frees
# that node through its Python object, recursively: dropping the last reference to a 50k-op chain then
# overflows an 8 MB C stack (segfault), even long after our walk. Two defences: what we hold we let go of
# outputs first (each release then frees one node), and `release` empties containers on a deep stack.


def release(*containers: MutableMapping[Any, Any] | MutableSequence[Any]) -> None:
    """Empty dicts/lists that may hold the last references to a deep autograd graph, on a deep C stack."""
    old = threading.stack_size(DEEP_FREE_STACK_BYTES)
    try:
        worker = threading.Thread(target=lambda: [c.clear() for c in containers], name="release-graph")
        worker.start()
    except RuntimeError:  # no thread allowed (process limits): clear here, fine for all but very deep graphs
        worker = None
    finally:
        threading.stack_size(old)
    if worker is None:
        for c in containers:
            c.clear()
    else:
        worker.join()


def reachable(roots: torch.Tensor | Sequence[torch.Tensor]) -> list[Node]:
    """Every autograd node reachable from the roots' grad_fn, breadth first, each once (no recursion)."""
    roots = [roots] if isinstance(roots, torch.Tensor) else list(roots)
    found: list[Node] = []
    seen: set[Node] = set()
    for t in roots:
        if t.grad_fn is not None and t.grad_fn not in seen:
            seen.add(t.grad_fn)
            found.append(t.grad_fn)
    k = 0
    while k < len(found):  # the list is its own queue
        for fn, _ in found[k].next_functions:
            if fn is not None and fn not in seen:
                seen.add(fn)
                found.append(fn)
        k += 1
    return found


class _Node:
    """One node while the graph is live: the grad_fn, what it computed, and where its inputs come from."""

    __slots__ = (
        "fn", "kind", "label", "name", "leaf", "value", "grad", "saved", "inputs", "shape", "dtype", "now",
        "by_backward",
    )  # fmt: skip

    def __init__(self, fn: Node | None, kind: str, leaf: torch.Tensor | None = None) -> None:
        self.fn = fn
        self.kind = kind  # "leaf" | "op" | "output"
        self.label: str | None = None  # the user's variable name
        self.name: str | None = None  # "leaf0", "leaf1", ... for leaves the user did not name
        self.leaf = leaf  # the leaf tensor itself (kind "leaf")
        self.value: torch.Tensor | None = leaf
        self.grad: torch.Tensor | None = None
        self.saved: Mapping[str, Any] | None = {}
        self.inputs: list[tuple[int, int]] = []  # (index of the input node, which of its outputs)
        self.shape: list[int] | None = None  # of output 0, read on first use
        self.dtype: str | None = None
        self.now: torch.Tensor | None = None  # a leaf changed in place after forward: its value now (value: at forward)
        self.by_backward = False  # created by a backward pass with create_graph=True


class Graph:
    """Nodes in discovery order from the roots ("n0", "n1", ...) and edges input -> consumer."""

    def __init__(self) -> None:
        self._nodes: list[_Node] = []
        self._index: dict[Node, int] = {}  # grad_fn object -> index
        self._leaf_index: dict[int, int] = {}  # id(leaf tensor) -> index; the graph keeps the tensor alive

    def __len__(self) -> int:
        return len(self._nodes)

    def __del__(self) -> None:
        """Let go of the nodes outputs first (see `release`): each drop then frees at most one node."""
        self._index = {}
        for node in getattr(self, "_nodes", []):
            node.fn = node.value = node.grad = node.saved = node.now = None

    def id_of(self, obj: Node | torch.Tensor) -> str | None:
        """The node id of an autograd node or a tensor (its grad_fn, or itself when a leaf); None if absent."""
        i = self._find(obj)
        return None if i is None else f"n{i}"

    def sequence_numbers(self) -> list[int | None]:
        """Each node's autograd sequence number (creation order; None for a leaf), as "n<i>" is listed."""
        return [None if n.kind == "leaf" or n.fn is None else n.fn._sequence_nr() for n in self._nodes]

    def leaf_tensors(self) -> list[torch.Tensor | None]:
        """Each node's leaf tensor (None for an op or output), as "n<i>" is listed."""
        return [n.leaf for n in self._nodes]

    # --- building ---------------------------------------------------------------------------
    def _find(self, obj: Any) -> int | None:
        if isinstance(obj, torch.Tensor):
            return self._index.get(obj.grad_fn) if obj.grad_fn is not None else self._leaf_index.get(id(obj))
        i = self._index.get(obj)
        if i is None and type(obj) is AccumulateGrad:
            i = self._leaf_index.get(id(obj.variable))
        return i

    def _add(self, fn: Node) -> int:
        i = len(self._nodes)
        if type(fn) is AccumulateGrad:
            var = fn.variable  # type: ignore[attr-defined]  # AccumulateGrad holds its leaf
            j = self._leaf_index.get(id(var))
            if j is not None:  # a leaf that was given as a root before its accumulator was seen
                self._nodes[j].fn = fn
                self._index[fn] = j
                return j
            self._leaf_index[id(var)] = i
            self._nodes.append(_Node(fn, "leaf", var))
        else:
            self._nodes.append(_Node(fn, "op"))
        self._index[fn] = i
        return i

    def _add_leaf_tensor(self, t: torch.Tensor) -> int:
        i = self._leaf_index.get(id(t))
        if i is None:
            i = len(self._nodes)
            self._leaf_index[id(t)] = i
            self._nodes.append(_Node(None, "leaf", t))
        return i

    def _walk(self) -> None:
        """Breadth first over next_functions; self._nodes is the queue, so ids follow discovery order."""
        nodes, index, add = self._nodes, self._index, self._add
        k = 0
        while k < len(nodes):
            node = nodes[k]
            if node.kind != "leaf":
                inputs = node.inputs
                assert node.fn is not None  # ops and outputs always have their grad_fn
                for fn, nr in node.fn.next_functions:
                    if fn is not None:
                        j = index.get(fn)
                        inputs.append((add(fn) if j is None else j, nr))
            k += 1

    # --- reading -----------------------------------------------------------------------------
    def _meta(self, node: _Node) -> None:
        """Fill a node's output shape and dtype (from the leaf, or the grad_fn's input metadata)."""
        if node.leaf is not None:
            node.shape, node.dtype = list(node.leaf.shape), _dtype_name(node.leaf.dtype)
            return
        assert node.fn is not None  # not a leaf: an op or output node has its grad_fn
        meta = node.fn._input_metadata
        if meta:
            node.shape, node.dtype = list(meta[0].shape), _dtype_name(meta[0].dtype)
        else:
            node.shape, node.dtype = None, None

    def _out_shape(self, i: int, nr: int = 0) -> list[int] | None:
        node = self._nodes[i]
        if nr == 0 or node.leaf is not None:
            if node.dtype is None:
                self._meta(node)
            return node.shape
        assert node.fn is not None  # not a leaf: an op or output node has its grad_fn
        meta = node.fn._input_metadata
        return list(meta[nr].shape) if nr < len(meta) else None

    def _head(self, i: int, meta: bool = True) -> dict[str, Any]:
        """The parts of a node's JSON that cost nothing: identity, names (and the output's shape and dtype)."""
        node = self._nodes[i]
        cls = "AccumulateGrad" if node.kind == "leaf" else type(node.fn).__name__
        return {
            "id": f"n{i}",
            "kind": node.kind,
            "name": (node.label or node.name) if node.kind == "leaf" else op_name(cls),
            "grad_fn": cls,
            "label": node.label,
            "shape": self._out_shape(i) if meta else None,
            "dtype": node.dtype if meta else None,
        }

    def _edges(self) -> list[dict[str, Any]]:
        shape = self._out_shape
        return [
            {"src": f"n{j}", "dst": f"n{i}", "shape": shape(j, nr)}
            for i, node in enumerate(self._nodes)
            for j, nr in node.inputs
        ]

    def _grad_of(self, node: _Node) -> torch.Tensor | None:
        if node.leaf is not None:  # a leaf shows its .grad, also once the program has set it to None
            return node.leaf.grad
        return node.grad

    @gc_paused()
    def to_json(self) -> dict[str, Any]:
        """{"nodes": [...], "edges": [...]} with values, grads and saved values (DESIGN.md)."""
        nodes = []
        budget = [MAX_GRAPH_JSON_ELEMENTS]  # numbers listed in full over the whole graph; summaries after that
        for i, node in enumerate(self._nodes):
            out = self._head(i)
            if node.now is not None:  # a leaf changed later: its value at forward, and its value now
                out["changed_later"] = True
                _put_tensor(out, "now", "now_summary", node.now, budget)
                if node.value is node.now:
                    node.value = None
                    out["value_note"] = LEAF_CHANGED_BIG
            _put_tensor(out, "value", "summary", node.value, budget)
            if node.value is None and "value_note" not in out and node.kind != "leaf":
                out["value_note"] = NOT_RECORDED
            _put_tensor(out, "grad", "grad_summary", self._grad_of(node), budget)
            if node.by_backward:
                out["by_backward"] = True
            if node.saved is None:
                out["saved"] = None
                out["saved_note"] = SAVED_FREED
            else:
                out["saved"] = {k.removeprefix(SAVED_PREFIX): _saved_json(v) for k, v in node.saved.items()}
            nodes.append(out)
        return {"nodes": nodes, "edges": self._edges()}

    @gc_paused()
    def to_dot(
        self,
        max_nodes: int | None = None,
        *,
        step: str | None = None,
        done: Iterable[str] = (),
        expand: Iterable[str] = (),
        lang: str = "en",
    ) -> str:
        """Graphviz DOT of the graph within a node budget; values are briefed only for the nodes drawn.

        A convenience kept for the benchmarks' API (DESIGN.md): drawing lives in core/render.py and depends on
        the graph's JSON, never the reverse, so the import is deferred to this call (tests/test_layers.py).
        """
        from core import render

        budget = DEFAULT_NODE_BUDGET if max_nodes is None else max_nodes
        nodes = self._nodes
        heads = [self._head(i, meta=False) for i in range(len(nodes))]  # shapes only where drawn, below
        edges: list[dict[str, Any]] = []
        ends: list[tuple[int, int, int]] = []
        for i, node in enumerate(nodes):
            dst = f"n{i}"
            for j, nr in node.inputs:
                edges.append({"src": f"n{j}", "dst": dst})
                ends.append((j, nr, i))
        skeleton = {"nodes": heads, "edges": edges}
        plan = render.fit(skeleton, budget, expand)
        key, shape_of = plan.key, self._out_shape
        for e, (j, nr, i) in zip(edges, ends, strict=True):
            if key[j] != key[i]:  # drawn: between two boxes
                e["shape"] = shape_of(j, nr)
        slots: list[tuple[dict[str, Any], str, str, torch.Tensor | None]] = []
        for i in plan.drawn_nodes():
            node, out = nodes[i], heads[i]
            out["shape"], out["dtype"] = shape_of(i), node.dtype
            slots += ((out, "value", "summary", node.value), (out, "grad", "grad_summary", self._grad_of(node)))
        _put_briefs(slots)
        return render.to_dot(skeleton, budget, step=step, done=done, expand=expand, lang=lang, plan=plan)


def _put_tensor(
    out: dict[str, Any], key: str, summary_key: str, t: torch.Tensor | None, budget: list[int] | None = None
) -> None:
    """out[key] = nested list, or null plus out[summary_key] when the tensor is too big to list, or when
    the graph's shared `budget` of listed numbers is spent (a 3,000-op chain of big tensors stays small)."""
    if t is not None and budget is not None:
        if t.numel() > budget[0]:
            out[key] = None
            out[summary_key] = tensorjson.summary(t)
            return
        budget[0] -= t.numel()
    out[key] = tensorjson.values(t)
    if t is not None and out[key] is None:
        out[summary_key] = tensorjson.summary(t)


def _put_briefs(slots: list[tuple[dict[str, Any], str, str, torch.Tensor | None]]) -> None:
    """For each (out, key, summary_key, tensor): just enough for a label, the numbers of a tiny tensor
    in out[key], else null there and {"min", "max"} in out[summary_key].

    Tensors of one shape and dtype are stacked and reduced together: one torch call per tensor costs
    more than the reduction itself here (~2 us each), and a graph carries hundreds of them.
    """
    groups: dict[tuple[Any, ...], list[tuple[dict[str, Any], str, str, torch.Tensor]]] = {}
    for slot in slots:
        t = slot[3]
        if t is None:
            slot[0][slot[1]] = None
        else:
            groups.setdefault((t.dtype, t.shape, t.device), []).append((slot[0], slot[1], slot[2], t))
    with torch.no_grad():
        for (dtype, shape, _), members in groups.items():
            n = shape.numel()
            if n <= DOT_BRIEF_ELEMENTS:
                for out, key, _, t in members:
                    out[key] = t.tolist()
                continue
            group = [t for _, _, _, t in members]
            if dtype.is_complex:
                group = [t.abs() for t in group]
            elif not dtype.is_floating_point:
                group = [t.double() for t in group]
            if n > MAX_JSON_ELEMENTS:  # big: reduce each alone rather than copy them all into a stack
                pairs = [torch.aminmax(t) for t in group]
                los, his = [lo.item() for lo, _ in pairs], [hi.item() for _, hi in pairs]
            else:
                x = torch.stack(group).flatten(1)
                his, los = x.amax(1).tolist(), x.amin(1).tolist()
            for (out, key, skey, _), lo, hi in zip(members, los, his, strict=True):
                out[key] = None
                out[skey] = {"min": lo, "max": hi}


def _saved_json(v: Any) -> Any:
    """A saved value as JSON: tensors as {"shape", "dtype", "value" | "summary"}, sequences as lists."""
    if isinstance(v, torch.Tensor):
        out: dict[str, Any] = {"shape": list(v.shape), "dtype": tensorjson.dtype_name(v.dtype)}
        _put_tensor(out, "value", "summary", v)
        return out
    if isinstance(v, (list, tuple)):
        return [_saved_json(x) for x in v]
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return tensorjson.finite_or_str(v)
    if isinstance(v, torch.dtype):
        return tensorjson.dtype_name(v)
    return str(v)[:100]


def _named(names: Mapping[str, Any] | None) -> Iterator[tuple[str, torch.Tensor]]:
    for label, t in (names or {}).items():
        if isinstance(t, torch.Tensor):
            yield label, t


@gc_paused()
def build(
    roots: torch.Tensor | Sequence[torch.Tensor],
    names: Mapping[str, Any] | None = None,
    values: Mapping[Node, torch.Tensor] | None = None,
    grads: Mapping[Node, torch.Tensor | None] | None = None,
    saved: Mapping[Node, Mapping[str, Any] | None] | None = None,
    changed_leaves: Mapping[int, tuple[torch.Tensor, torch.Tensor | None]] | None = None,
    by_backward: Iterable[Node] = (),
) -> Graph:
    """The graph reachable from the roots, labelled with the user's names, carrying values and grads.

    values / grads / saved map autograd nodes to their output, the gradient of that output and their
    saved values (as recorded by core.backward.BackwardRecorder); nodes missing from `saved` are read live, and
    a node with no recorded value shows the tensor a consumer saved of it (that tensor at forward: torch refuses
    to unpack a saved tensor changed since). changed_leaves: id(leaf) -> (leaf, its copy at forward) for leaves
    changed in place later (core.trace.ValueLog.changed_leaves). by_backward: nodes a create_graph pass made.
    """
    roots = [roots] if isinstance(roots, torch.Tensor) else list(roots)
    g = Graph()
    for t in roots:
        if t.grad_fn is not None:
            i = g._index.get(t.grad_fn)
            g._nodes[g._add(t.grad_fn) if i is None else i].kind = "output"
        elif t.requires_grad:
            g._add_leaf_tensor(t)
    g._walk()
    nodes = g._nodes

    for fn, t in (values or {}).items():
        i = g._index.get(fn)
        if i is not None and t is not None:
            nodes[i].value = t
    for fn, grad in (grads or {}).items():
        i = g._index.get(fn)
        if i is not None:
            nodes[i].grad = grad

    named = list(_named(names))
    for label, t in named:  # a name labels its tensor's node only when the node's value is that tensor
        i = g._find(t) if t.output_nr == 0 else None  # not the 2nd.. output of a multi-output op (split, unbind)
        if i is not None and nodes[i].label is None:
            nodes[i].label = label
    for t in [*roots, *(t for _, t in named)]:  # fall back to the tensors we were given
        i = g._find(t) if t.grad_fn is not None and t.output_nr == 0 else None
        if i is not None:
            node = nodes[i]
            if node.value is None:
                node.value = t
            if t.retains_grad:  # what .grad holds, like a leaf: summed over passes, or cleared by the program
                node.grad = t.grad

    unnamed = 0
    for node in nodes:
        if node.kind == "leaf":
            node.saved = {}
            if node.label is None:
                node.name = f"leaf{unnamed}"
                unnamed += 1
        elif node.fn is None:  # never: ops and outputs come from grad_fns (this tells the type checker)
            node.saved = {}
        elif saved is not None and node.fn in saved:
            node.saved = saved[node.fn]  # as given (snapshots); "_saved_" prefixes are dropped in to_json
        else:
            node.saved = read_saved(node.fn)
            for v in (node.saved or {}).values():  # what a consumer saved of its input is that input's value
                if isinstance(v, torch.Tensor) and v.grad_fn is not None and v.output_nr == 0:
                    j = g._index.get(v.grad_fn)
                    if j is not None and nodes[j].value is None:
                        nodes[j].value = v
    for node in nodes:
        if node.kind == "leaf" and node.leaf is not None and changed_leaves:
            hit = changed_leaves.get(id(node.leaf))
            if hit is not None and hit[0] is node.leaf:
                node.now = node.leaf
                node.value = hit[1] if hit[1] is not None else node.leaf
    for node in nodes:  # x.t() inside a library call (nn.Linear): its value is its input's, transposed
        if node.value is None and type(node.fn).__name__ == "TBackward0" and len(node.inputs) == 1:
            src = nodes[node.inputs[0][0]]
            if src.value is not None and src.value is not src.now and src.value.dim() <= 2:
                node.value = src.value.detach().t()
    for fn in by_backward:
        i = g._index.get(fn)
        if i is not None and nodes[i].kind != "leaf":
            nodes[i].by_backward = True
    return g


def constant_node(node_id: str, name: str, label: str, t: torch.Tensor, **extra: Any) -> dict[str, Any]:
    """A drawn node for a tensor no gradient reaches (a constant cut from the graph, a batch of data): its
    numbers, or a summary when they are too many."""
    node: dict[str, Any] = {
        "id": node_id, "kind": "cut", "name": name, "grad_fn": None, "label": label, **extra,
        "shape": list(t.shape), "dtype": tensorjson.dtype_name(t.dtype), "value": tensorjson.values(t),
        "grad": None, "saved": {},
    }  # fmt: skip
    if node["value"] is None:
        node["summary"] = tensorjson.summary(t)
    return node
