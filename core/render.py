"""Graph JSON -> Graphviz DOT within a node budget (repeats collapse, backward highlights), and DOT -> SVG."""

from __future__ import annotations

import bisect
import re
import shutil
import subprocess
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.gcpause import gc_paused
from core.limits import DEFAULT_NODE_BUDGET, DOT_BRIEF_ELEMENTS, DOT_TIMEOUT_S, MAX_REPEAT_PERIOD

# The DOT text is built as strings, not with graphviz.Digraph: Digraph quotes every attribute with a
# regex per call, which made drawing ~3x slower than the walk itself; our ids are "n<k>" and every label
# goes through _html(), so there is nothing left for Digraph to protect us from.

MORE_ID = "more"

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "value": "value",
        "grad": "grad",
        "scalar": "scalar",
        "more": "… {k} more nodes",
        "nodes": "{k} nodes",
        "leaves": "+{k} leaves",
        "constant": "constant, no grad",
        "changed": "changed later",
        "at_forward": "value at forward",
        "now": "now",
        "by_backward": "made by backward",
    },
    "zh": {
        "value": "值",
        "grad": "梯度",
        "scalar": "标量",
        "more": "… 还有 {k} 个节点",
        "nodes": "{k} 个节点",
        "leaves": "+{k} 个叶子",
        "constant": "常量，无梯度",
        "changed": "之后被修改",
        "at_forward": "前向时的值",
        "now": "现在",
        "by_backward": "由反向传播创建",
    },
}

# (fill, border) per kind of box: leaves blue, ops grey, outputs amber, collapsed repeats violet.
PALETTE: dict[str, tuple[str, str]] = {
    "leaf": ("#dbeafe", "#2563eb"),
    "op": ("#f3f4f6", "#6b7280"),
    "output": ("#fef3c7", "#d97706"),
    "cluster": ("#ede9fe", "#7c3aed"),
    "more": ("#ffffff", "#9ca3af"),
    "cut": ("#ffffff", "#dc2626"),  # a constant cut from the graph by no_grad / detach
    "done": ("#dcfce7", "#16a34a"),  # gradient already computed in the step-through
    "step": ("#fecaca", "#dc2626"),  # the node backward is at now
}
SHAPES = {"leaf": "box", "op": "ellipse", "output": "box", "cluster": "box3d", "more": "note", "cut": "box"}
CUT_EDGE = 'style=dashed, color="#dc2626", fontcolor="#dc2626", arrowhead=tee'  # no gradient flows back here
VALUE_COLOR, GRAD_COLOR, SUB_COLOR = "#1e40af", "#b91c1c", "#6b7280"

HEADER = """digraph autograd {
  graph [rankdir=TB, bgcolor="transparent", nodesep=0.25, ranksep=0.35];
  node [fontname="Helvetica", fontsize=10, margin="0.10,0.04", penwidth=1.2];
  edge [color="#9ca3af", fontcolor="#6b7280", fontname="Helvetica", fontsize=8, arrowsize=0.6];
"""


@dataclass
class Cluster:
    """A collapsed run of a repeated block: `reps` times the `block` op names, standing for `members`."""

    id: str
    reps: int
    block: list[str]
    members: list[int]


@dataclass
class Plan:
    """What gets drawn: for each node (by position) the id of the box it is drawn in."""

    ids: list[str]
    key: list[str]
    clusters: dict[str, Cluster] = field(default_factory=dict)
    hidden: int = 0  # nodes summarised in the "... K more nodes" box

    def drawn_nodes(self) -> list[int]:
        """Positions of the nodes drawn as their own box."""
        return [i for i, (a, b) in enumerate(zip(self.ids, self.key, strict=True)) if a == b]

    @property
    def collapsed(self) -> bool:
        return bool(self.clusters) or self.hidden > 0


# --- planning: which nodes fit the budget ---------------------------------------------------------------


@gc_paused()
def fit(graph_json: dict[str, Any], max_nodes: int | None = DEFAULT_NODE_BUDGET, expand: Iterable[str] = ()) -> Plan:
    """Fit a graph into max_nodes boxes: collapse repeated blocks, then keep the nodes nearest the outputs."""
    nodes = graph_json["nodes"]
    ids = [nd["id"] for nd in nodes]
    budget = max(2, DEFAULT_NODE_BUDGET if max_nodes is None else max_nodes)
    p = Plan(ids, list(ids))
    if len(nodes) <= budget:
        return p
    pos = {nid: i for i, nid in enumerate(ids)}
    inputs: list[list[int]] = [[] for _ in nodes]
    consumers = [0] * len(nodes)
    for e in graph_json["edges"]:
        s, d = pos[e["src"]], pos[e["dst"]]
        inputs[d].append(s)
        consumers[s] += 1
    order = _preorder(inputs, consumers)
    count = _collapse(nodes, order, p, budget, set(expand))
    if count > budget:
        _keep_nearest_outputs(inputs, consumers, p, budget)
    return p


def _preorder(inputs: list[list[int]], consumers: list[int]) -> list[int]:
    """Depth-first order from the outputs, short side branches first, so a layer's nodes stay together."""
    n = len(inputs)
    left = consumers[:]
    topo = [i for i in range(n) if left[i] == 0]  # consumers before their inputs (Kahn)
    k = 0
    while k < len(topo):
        for j in inputs[topo[k]]:
            left[j] -= 1
            if left[j] == 0:
                topo.append(j)
        k += 1
    height = [0] * n  # longest path down to a leaf
    for i in reversed(topo):
        if inputs[i]:
            height[i] = 1 + max(height[j] for j in inputs[i])
    seen = [False] * n
    order: list[int] = []
    stack = [i for i in reversed(range(n)) if consumers[i] == 0]
    while stack:
        i = stack.pop()
        if seen[i]:
            continue
        seen[i] = True
        order.append(i)
        kids = inputs[i]
        if len(kids) > 1:
            kids = sorted(set(kids), key=lambda j: (height[j], j), reverse=True)  # lowest is popped first
        stack.extend(j for j in kids if not seen[j])
    return order


def _collapse(nodes: list[dict[str, Any]], order: list[int], p: Plan, budget: int, expand: set[str]) -> int:
    """Replace the longest runs of a repeated op sequence by one cluster box each until the budget holds."""
    alphabet: dict[str, str] = {}
    chars = []
    for i in order:
        nd = nodes[i]
        token = "leaf" if nd["kind"] == "leaf" else f"{nd['kind']}:{nd['name']}"
        ch = alphabet.get(token)
        if ch is None:
            ch = alphabet[token] = chr(0x100 + len(alphabet))
        chars.append(ch)
    text = "".join(chars)
    # (covered, period, start, reps); the regex engine does the O(n * period) scan in C
    found: list[tuple[int, int, int, int]] = []
    for period in range(1, MAX_REPEAT_PERIOD + 1):
        for m in re.finditer(rf"(.{{{period}}})\1+", text, re.S):
            reps = (m.end() - m.start()) // period
            found.append((reps * period, period, m.start(), reps))
    found.sort(key=lambda c: (-c[0], c[1], c[2]))

    def span(c: tuple[int, int, int, int]) -> tuple[int, int, int]:
        _, period, start, reps = c
        first = 1 if reps >= 3 else 0  # keep one repetition drawn so the reader sees what repeats
        return start + first * period, start + reps * period, reps - first

    starts: list[int] = []
    ends: list[int] = []

    def free(a: int, b: int) -> bool:
        k = bisect.bisect_right(starts, a)
        return (k == 0 or ends[k - 1] <= a) and (k == len(starts) or starts[k] >= b)

    def take(a: int, b: int) -> None:
        k = bisect.bisect_right(starts, a)
        starts.insert(k, a)
        ends.insert(k, b)

    def cid(a: int, period: int) -> str:
        return f"x:{p.ids[order[a]]}:{period}"

    if expand:  # clusters the reader opened stay open, and nothing else may swallow their nodes
        for c in found:
            a, b, _ = span(c)
            if cid(a, c[1]) in expand and free(a, b):
                take(a, b)
    count = len(nodes)
    for c in found:
        if count <= budget:
            break
        a, b, reps = span(c)
        if b - a < 2 or not free(a, b):
            continue
        take(a, b)
        cluster = Cluster(cid(a, c[1]), reps, [nodes[i]["name"] for i in order[a : a + c[1]]], order[a:b])
        for i in cluster.members:
            p.key[i] = cluster.id
        p.clusters[cluster.id] = cluster
        count -= b - a - 1
    return count


def _keep_nearest_outputs(inputs: list[list[int]], consumers: list[int], p: Plan, budget: int) -> None:
    """Keep the budget-1 boxes nearest the outputs (a cluster counts as one step); the rest become one box."""
    key = p.key
    n = len(key)
    dist = [n + 1] * n
    queue: deque[int] = deque()
    for i in range(n):
        if consumers[i] == 0:
            dist[i] = 0
            queue.append(i)
    while queue:  # 0-1 breadth first: moving inside a cluster costs nothing
        i = queue.popleft()
        for j in inputs[i]:
            w = 0 if key[j] == key[i] else 1
            if dist[i] + w < dist[j]:
                dist[j] = dist[i] + w
                (queue.appendleft if w == 0 else queue.append)(j)
    best: dict[str, tuple[int, int]] = {}
    for i in range(n):
        k = key[i]
        d = (dist[i], i)
        if k not in best or d < best[k]:
            best[k] = d
    keep = set(sorted(best, key=best.__getitem__)[: budget - 1])
    for i in range(n):
        if key[i] not in keep:
            key[i] = MORE_ID
            p.hidden += 1
    for k in [k for k in p.clusters if k not in keep]:
        del p.clusters[k]


# --- drawing ------------------------------------------------------------------------------------------------


_HTML_SPECIAL = re.compile(r'[&<>"]')


def _html(s: str) -> str:
    if _HTML_SPECIAL.search(s) is None:
        return s
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _num(x: Any) -> str:
    return x if isinstance(x, str) else format(x, ".4g")


def _flat(v: Any) -> list[Any]:
    out, stack = [], [v]
    while stack:
        x = stack.pop()
        if isinstance(x, list):
            stack.extend(reversed(x))
        else:
            out.append(x)
    return out


def _nested(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_nested(x) for x in v) + "]"
    return _num(v)


def shape_text(shape: list[int] | None, words: dict[str, str]) -> str:
    """[2, 3] -> '[2, 3]' (as torch.Size prints it); [] -> 'scalar'."""
    if shape is None:
        return "?"
    return str(shape) if shape else words["scalar"]


def brief(value: Any, summary: dict[str, Any] | None, shape_s: str) -> str | None:
    """A short text for a value: the number, a few numbers, or the shape (as text) with min and max."""
    if value is None:
        if not summary:
            return None
        lo, hi = summary.get("min"), summary.get("max")
    elif type(value) is not list:
        return _num(value)
    else:
        flat = _flat(value)
        if len(flat) <= DOT_BRIEF_ELEMENTS:
            return _nested(value)
        nums = [x for x in flat if isinstance(x, (int, float))]
        lo, hi = (min(nums), max(nums)) if nums else ("nan", "nan")
    if type(lo) is float and type(hi) is float:
        return f"{shape_s} in [{lo:.4g}, {hi:.4g}]"
    return f"{shape_s} in [{_num(lo)}, {_num(hi)}]"


def _attrs(kind: str) -> str:
    """The DOT attributes shared by every box of one kind."""
    fill, border = PALETTE[kind]
    style = {"more": "filled,dashed", "op": "filled", "cluster": "filled", "cut": "rounded,filled,dashed"}.get(
        kind, "rounded,filled"
    )
    extra = ", peripheries=2" if kind == "output" else ""
    return f'shape={SHAPES[kind]}, style="{style}", fillcolor="{fill}", color="{border}"{extra}'


ATTRS = {kind: _attrs(kind) for kind in SHAPES}
STATE_ATTRS = {  # added to a box whose gradient is computed ("done") or being computed ("step")
    "plain": "",
    "done": ', fillcolor="{}", color="{}", penwidth=1.6'.format(*PALETTE["done"]),
    "step": ', fillcolor="{}", color="{}", penwidth=3'.format(*PALETTE["step"]),
}

BY_BACKWARD_ATTRS = {"op": ', style="filled,dashed"', "output": ', style="rounded,filled,dashed"'}


def _state(ids: Iterable[str], step: str | None, done: set[str]) -> str:
    ids = list(ids)
    if step is not None and step in ids:
        return "step"
    if done and ids and all(i in done for i in ids):
        return "done"
    return "plain"


_SUB = f'<BR/><FONT POINT-SIZE="8" COLOR="{SUB_COLOR}">'
_VALUE = f'<BR/><FONT COLOR="{VALUE_COLOR}">'
_GRAD = f'<BR/><FONT COLOR="{GRAD_COLOR}">'


def _node_label(nd: dict[str, Any], words: dict[str, str]) -> str:
    """Title (the user's name and the op), grad_fn and shape, then value and grad in brief.

    Only names are escaped: the rest is digits, brackets, identifiers and "nan"/"inf".
    """
    get = nd.get
    shape = get("shape")
    shape_s = "?" if shape is None else str(shape) if shape else words["scalar"]
    name = get("name") or ""
    changed = bool(get("changed_later"))
    if nd["kind"] == "leaf":
        title = _html(f"{name} ({words['changed']})" if changed else name)
        head = f"<B>{title}</B>{_SUB}{shape_s} {get('dtype') or ''}</FONT>"
    elif nd["kind"] == "cut":  # a constant: its name, and that no gradient reaches it
        head = f"<B>{_html(get('label') or '')}</B>{_SUB}{words['constant']} · {shape_s}</FONT>"
    else:
        label = get("label")
        title = _html(f"{label} = {name}" if label else name)
        made = f" · {words['by_backward']}" if get("by_backward") else ""  # a create_graph pass made this node
        head = f"<B>{title}</B>{_SUB}{_html(get('grad_fn') or '')} · {shape_s}{made}</FONT>"
    value, grad = get("value"), get("grad")
    if value is not None or "summary" in nd:
        text = brief(value, get("summary"), shape_s)
        if text is not None:
            head = f"{head}{_VALUE}{words['at_forward' if changed else 'value']} {text}</FONT>"
    if changed and (get("now") is not None or "now_summary" in nd):
        text = brief(get("now"), get("now_summary"), shape_s)
        if text is not None:
            head = f"{head}{_VALUE}{words['now']} {text}</FONT>"
    if grad is not None or "grad_summary" in nd:
        text = brief(grad, get("grad_summary"), shape_s)
        if text is not None:
            head = f"{head}{_GRAD}{words['grad']} {text}</FONT>"
    return head


def _cluster_label(c: Cluster, nodes: list[dict[str, Any]], words: dict[str, str]) -> str:
    ops: list[str] = []
    leaves = 0
    for i in c.members[: len(c.block)]:
        if nodes[i]["kind"] == "leaf":
            leaves += 1
        elif not ops or ops[-1] != nodes[i]["name"]:
            ops.append(nodes[i]["name"])
    body = " → ".join(ops) + (" " + words["leaves"].format(k=leaves) if leaves else "")
    return f"<B>x{c.reps}</B><BR/>{_html(body)}{_SUB}{words['nodes'].format(k=len(c.members))}</FONT>"


@gc_paused()
def to_dot(
    graph_json: dict[str, Any],
    max_nodes: int | None = DEFAULT_NODE_BUDGET,
    step: str | None = None,
    done: Iterable[str] = (),
    expand: Iterable[str] = (),
    lang: str = "en",
    plan: Plan | None = None,
) -> str:
    """DOT source of a graph JSON: leaves, ops and outputs styled apart, values and grads on the boxes."""
    words = WORDS.get(lang, WORDS["en"])
    nodes = graph_json["nodes"]
    p = plan if plan is not None else fit(graph_json, max_nodes, expand)
    done = set(done)
    out = [HEADER]
    boxes: dict[str, list[str]] = {"output": [], "op": [], "leaf": [], "cluster": [], "more": [], "cut": []}
    for nd, k in zip(nodes, p.key, strict=True):
        if k == nd["id"]:
            state = STATE_ATTRS["step" if k == step else "done" if k in done else "plain"]
            if nd.get("by_backward"):  # made by a create_graph backward pass: a dashed border
                state += BY_BACKWARD_ATTRS.get(nd["kind"], "")
            boxes[nd["kind"]].append(f'    "{k}" [label=<{_node_label(nd, words)}>{state}];')
    for c in p.clusters.values():
        state = STATE_ATTRS[_state((p.ids[i] for i in c.members), step, done)]
        boxes["cluster"].append(f'    "{c.id}" [label=<{_cluster_label(c, nodes, words)}>{state}];')
    if p.hidden:
        state = STATE_ATTRS[_state((i for i, k in zip(p.ids, p.key, strict=True) if k == MORE_ID), step, done)]
        text = _html(words["more"].format(k=p.hidden))
        boxes["more"].append(f'    "{MORE_ID}" [label=<<B>{text}</B>>{state}];')
    for kind, lines in boxes.items():
        if lines:  # an anonymous subgraph scopes the kind's style to its boxes, without changing the layout
            out.append(f"  {{ node [{ATTRS[kind]}];")
            out.extend(lines)
            out.append("  }")
    keymap = dict(zip(p.ids, p.key, strict=True)) if p.collapsed else None
    drawn: set[tuple[str, str]] = set()
    for e in graph_json["edges"]:
        src, dst = e["src"], e["dst"]
        if keymap is not None:
            src, dst = keymap[src], keymap[dst]
            if src == dst:
                continue
            if src != e["src"] or dst != e["dst"]:  # an edge into or out of a box that stands for many
                if (src, dst) in drawn:
                    continue
                drawn.add((src, dst))
        shape = e.get("shape")
        if e.get("cut"):
            out.append(f'  "{src}" -> "{dst}" [label="✂ {e["cut"]}", {CUT_EDGE}];')
        elif shape is None:
            out.append(f'  "{src}" -> "{dst}";')
        else:
            out.append(f'  "{src}" -> "{dst}" [label="{shape_text(shape, words)}"];')
    out.append("}\n")
    return "\n".join(out)


def to_svg(dot_source: str, timeout: float = DOT_TIMEOUT_S) -> str | None:
    """Lay out DOT with `dot -Tsvg`; None when dot is missing, fails or runs past the timeout."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, "-Tsvg"], input=dot_source.encode("utf-8"), capture_output=True, timeout=timeout, check=False
        )
    except (subprocess.TimeoutExpired, OSError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")
