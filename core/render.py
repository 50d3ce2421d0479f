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
from core.i18n import LANGS, t
from core.limits import DEFAULT_NODE_BUDGET, DOT_BRIEF_ELEMENTS, DOT_TIMEOUT_S, FOLD_MODULES_ABOVE, MAX_REPEAT_PERIOD
from core.numfmt import fmt_number

# The DOT text is built as strings, not with graphviz.Digraph: Digraph quotes every attribute with a
# regex per call, which made drawing ~3x slower than the walk itself; our ids are "n<k>" and every label
# goes through _html(), so there is nothing left for Digraph to protect us from.

MORE_ID = "more"
MODULE_PREFIX = "mod:"  # a folded nn.Module call's box: "mod:m3"
MODULE_PARAMS_SHOWN = 3  # parameter names written on a module's box

_WORD_KEYS = (
    "value",
    "grad",
    "scalar",
    "more",
    "nodes",
    "leaves",
    "constant",
    "more_params",
    "changed",
    "at_forward",
    "now",
    "by_backward",
)
# The words on graph boxes, per language, from the catalog (graph_word_<name> in core/i18n).
WORDS: dict[str, dict[str, str]] = {lang: {w: t(f"graph_word_{w}", lang) for w in _WORD_KEYS} for lang in LANGS}

# (fill, border) per kind of box, from the Okabe-Ito colour-blind-safe palette: leaves blue, ops grey, outputs
# orange, folded repeats and modules reddish purple. The backward state never relies on hue alone: the current
# node has a thick double border and a "▶", done nodes a dashed border and a "✓"; borders are dark enough to
# read on a washed-out projector (each at least 4.5:1 against white).
PALETTE: dict[str, tuple[str, str]] = {
    "leaf": ("#d6eaf8", "#0072b2"),
    "op": ("#f2f2f2", "#555555"),
    "output": ("#fde9c4", "#a36b00"),
    "cluster": ("#f6e1ee", "#a3487d"),
    "module": ("#f6e1ee", "#a3487d"),
    "more": ("#ffffff", "#767676"),
    "cut": ("#ffffff", "#b84700"),  # a constant cut from the graph by no_grad / detach
    "done": ("#c9f0e2", "#007a5a"),  # gradient already computed in the step-through (bluish green)
    "step": ("#ffd2b3", "#b84700"),  # the node backward is at now (vermillion)
}
MARKS = {"step": "▶ ", "done": "✓ "}  # the second cue, drawn before the box's title
SHAPES = {
    "leaf": "box",
    "op": "ellipse",
    "output": "box",
    "cluster": "box3d",
    "module": "box3d",
    "more": "note",
    "cut": "box",
}
CUT_EDGE = 'style=dashed, color="#b84700", fontcolor="#b84700", arrowhead=tee'  # no gradient flows back here
VALUE_COLOR, GRAD_COLOR, SUB_COLOR = "#0b4f8a", "#9c3100", "#444444"

HEADER = """digraph autograd {
  graph [rankdir=TB, bgcolor="transparent", nodesep=0.25, ranksep=0.35];
  node [fontname="Helvetica", fontsize=12, margin="0.10,0.04", penwidth=1.4];
  edge [color="#767676", fontcolor="#444444", fontname="Helvetica", fontsize=10, arrowsize=0.6];
"""


@dataclass
class Cluster:
    """A collapsed run of a repeated block: `reps` times the `block` op names, standing for `members`."""

    id: str
    reps: int
    block: list[str]
    members: list[int]


@dataclass
class ModuleBox:
    """One nn.Module call drawn as one box: its name (`layers.3`), class and the graph nodes it made."""

    id: str
    name: str
    cls: str
    members: list[str]
    params: list[str] = field(default_factory=list)  # its parameters' names, without the module's own prefix


@dataclass
class Plan:
    """What gets drawn: for each node (by position) the id of the box it is drawn in.

    When module calls are folded, positions and ids are those of `skeleton` (the graph with one node per folded
    call); `origin` maps a skeleton id back to the graph's node ids.
    """

    ids: list[str]
    key: list[str]
    clusters: dict[str, Cluster] = field(default_factory=dict)
    hidden: int = 0  # nodes summarised in the "... K more nodes" box
    modules: dict[str, ModuleBox] = field(default_factory=dict)  # folded module calls, by box id
    opened: dict[str, str] = field(default_factory=dict)  # boxes the reader expanded: id -> what it was
    skeleton: dict[str, Any] | None = None

    def origin(self, sid: str) -> list[str]:
        """The graph's node ids a skeleton node stands for."""
        box = self.modules.get(sid)
        return box.members if box is not None else [sid]

    def box_of(self) -> dict[str, str]:
        """Each of the graph's node ids -> the id of the box it is drawn in (itself, a module, a cluster, more)."""
        out = {}
        for sid, k in zip(self.ids, self.key, strict=True):
            for nid in self.origin(sid):
                out[nid] = k
        return out

    def drawn_nodes(self) -> list[int]:
        """Positions of the nodes drawn as their own box."""
        return [i for i, (a, b) in enumerate(zip(self.ids, self.key, strict=True)) if a == b]

    @property
    def collapsed(self) -> bool:
        return bool(self.clusters) or self.hidden > 0


# --- planning: which nodes fit the budget ---------------------------------------------------------------


@gc_paused()
def fit(graph_json: dict[str, Any], max_nodes: int | None = DEFAULT_NODE_BUDGET, expand: Iterable[str] = ()) -> Plan:
    """Fit a graph into max_nodes boxes: fold module calls (big graphs), collapse repeated blocks, then keep the
    nodes nearest the outputs. `expand` names boxes the reader opened (clusters, modules); they stay open."""
    expand = set(expand)
    folded = _fold_modules(graph_json, expand)
    if folded is None:
        return _fit(graph_json, max_nodes, expand)
    skeleton, boxes, opened = folded
    p = _fit(skeleton, max_nodes, expand)
    p.modules, p.skeleton = boxes, skeleton
    p.opened.update(opened)
    return p


def _fold_modules(
    graph_json: dict[str, Any], expand: set[str]
) -> tuple[dict[str, Any], dict[str, ModuleBox], dict[str, str]] | None:
    """The graph with each module call (below the program's top-level modules) as one node; None: nothing folds.

    A node belongs to the outermost call on its chain of calls, below the top level, that the reader has not
    opened; an opened call shows its own child calls folded. Graphs of FOLD_MODULES_ABOVE nodes or fewer are
    drawn in full.
    """
    table = graph_json.get("modules")
    nodes = graph_json["nodes"]
    if not table or len(nodes) <= FOLD_MODULES_ABOVE:
        return None
    chains: dict[str, list[str]] = {}

    def chain(cid: str) -> list[str]:  # root first
        got = chains.get(cid)
        if got is None:
            parent = table[cid].get("parent")
            got = chains[cid] = [*(chain(parent) if parent in table else []), cid]
        return got

    group: list[str | None] = []
    opened: dict[str, str] = {}
    for nd in nodes:
        cid = nd.get("module")
        g = None
        if cid in table:
            for c in chain(cid)[1:]:
                if MODULE_PREFIX + c not in expand:
                    g = c
                    break
                opened[MODULE_PREFIX + c] = table[c]["name"]
        group.append(g)
    members: dict[str, list[str]] = {}
    for nd, g in zip(nodes, group, strict=True):
        if g is not None:
            members.setdefault(g, []).append(nd["id"])
    members = {g: m for g, m in members.items() if len(m) > 1}  # a one-node call is drawn as that node
    if not members:
        return None
    boxes: dict[str, ModuleBox] = {}
    key: dict[str, str] = {}
    out_nodes: list[dict[str, Any]] = []
    for nd, g in zip(nodes, group, strict=True):
        if g in members:
            bid = MODULE_PREFIX + g
            key[nd["id"]] = bid
            if bid not in boxes:
                entry = table[g]
                boxes[bid] = ModuleBox(bid, entry["name"], entry.get("class") or "", members[g])
                cls = entry.get("class") or ""
                out_nodes.append({"id": bid, "kind": "module", "name": cls, "label": entry["name"]})
            if nd["kind"] == "leaf":
                name = nd.get("label") or nd.get("name") or ""
                boxes[bid].params.append(name.removeprefix(boxes[bid].name + "."))
        else:
            key[nd["id"]] = nd["id"]
            out_nodes.append(nd)
    edges: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for e in graph_json["edges"]:
        src, dst = key.get(e["src"], e["src"]), key.get(e["dst"], e["dst"])
        if src == dst:
            continue
        if src != e["src"] or dst != e["dst"]:
            if (src, dst) in seen:
                continue
            seen.add((src, dst))
            e = {**e, "src": src, "dst": dst}
        edges.append(e)
    return {"nodes": out_nodes, "edges": edges}, boxes, opened


def _fit(graph_json: dict[str, Any], max_nodes: int | None, expand: set[str]) -> Plan:
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
    count = _collapse(nodes, order, p, budget, expand)
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
            a, b, reps = span(c)
            if cid(a, c[1]) in expand and free(a, b):
                take(a, b)
                p.opened[cid(a, c[1])] = f"x{reps}"
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


def _num(x: Any, dtype: str | None = None) -> str:
    return fmt_number(x, dtype)  # the app's one look for numbers (core/numfmt.py)


def _flat(v: Any) -> list[Any]:
    out, stack = [], [v]
    while stack:
        x = stack.pop()
        if isinstance(x, list):
            stack.extend(reversed(x))
        else:
            out.append(x)
    return out


def _nested(v: Any, dtype: str | None = None) -> str:
    if isinstance(v, list) and not (dtype or "").startswith("complex"):
        return "[" + ", ".join(_nested(x, dtype) for x in v) + "]"
    if isinstance(v, list) and v and isinstance(v[0], list):
        return "[" + ", ".join(_nested(x, dtype) for x in v) + "]"
    return _num(v, dtype)


def shape_text(shape: list[int] | None, words: dict[str, str]) -> str:
    """[2, 3] -> '[2, 3]' (as torch.Size prints it); [] -> 'scalar'."""
    if shape is None:
        return "?"
    return str(shape) if shape else words["scalar"]


def brief(value: Any, summary: dict[str, Any] | None, shape_s: str, dtype: str | None = None) -> str | None:
    """A short text for a value: the number, a few numbers, or the shape (as text) with min and max."""
    if value is None:
        if not summary:
            return None
        lo, hi = summary.get("min"), summary.get("max")
    elif type(value) is not list:
        return _num(value, dtype)
    else:
        flat = _flat(value)
        if len(flat) <= DOT_BRIEF_ELEMENTS:
            return _nested(value, dtype)
        nums = [x for x in flat if isinstance(x, (int, float))]
        lo, hi = (min(nums), max(nums)) if nums else ("nan", "nan")
    return f"{shape_s} in [{_num(lo, dtype)}, {_num(hi, dtype)}]"


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
    "done": ', fillcolor="{}", color="{}", penwidth=2, style="rounded,filled,dashed"'.format(*PALETTE["done"]),
    "step": ', fillcolor="{}", color="{}", penwidth=4, peripheries=2'.format(*PALETTE["step"]),
}

BY_BACKWARD_ATTRS = {"op": ', style="filled,dashed"', "output": ', style="rounded,filled,dashed"'}


def _state(ids: Iterable[str], step: str | None, done: set[str]) -> str:
    ids = list(ids)
    if step is not None and step in ids:
        return "step"
    if done and ids and all(i in done for i in ids):
        return "done"
    return "plain"


_SUB = f'<BR/><FONT POINT-SIZE="10" COLOR="{SUB_COLOR}">'
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
        text = brief(value, get("summary"), shape_s, get("dtype"))
        if text is not None:
            head = f"{head}{_VALUE}{words['at_forward' if changed else 'value']} {text}</FONT>"
    if changed and (get("now") is not None or "now_summary" in nd):
        text = brief(get("now"), get("now_summary"), shape_s)
        if text is not None:
            head = f"{head}{_VALUE}{words['now']} {text}</FONT>"
    if grad is not None or "grad_summary" in nd:
        text = brief(grad, get("grad_summary"), shape_s, get("dtype"))
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


def _module_label(box: ModuleBox, words: dict[str, str]) -> str:
    sub = words["nodes"].format(k=len(box.members))
    if box.params:
        shown = ", ".join(box.params[:MODULE_PARAMS_SHOWN])
        more = len(box.params) - MODULE_PARAMS_SHOWN
        sub += " · " + (shown if more <= 0 else f"{shown} " + words["more_params"].format(k=more))
    return f"<B>{_html(box.name)}</B><BR/>{_html(box.cls)}{_SUB}{sub}</FONT>"


def _marked(label: str, state: str) -> str:
    mark = MARKS.get(state)
    return f"<B>{mark}</B>{label}" if mark else label


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
    p = plan if plan is not None else fit(graph_json, max_nodes, expand)
    if p.skeleton is not None:
        graph_json = p.skeleton
    nodes = graph_json["nodes"]
    done = set(done)
    out = [HEADER]
    boxes: dict[str, list[str]] = {k: [] for k in ("output", "op", "leaf", "cluster", "module", "more", "cut")}
    for nd, k in zip(nodes, p.key, strict=True):
        if k == nd["id"]:
            if nd["kind"] == "module":
                box = p.modules[k]
                st = _state(box.members, step, done)
                label = _module_label(box, words)
                extra = ""
            else:
                st = "step" if k == step else "done" if k in done else "plain"
                label = _node_label(nd, words)
                extra = BY_BACKWARD_ATTRS.get(nd["kind"], "") if nd.get("by_backward") else ""  # made by create_graph
            boxes[nd["kind"]].append(f'    "{k}" [label=<{_marked(label, st)}>{STATE_ATTRS[st]}{extra}];')
    for c in p.clusters.values():
        st = _state((n for i in c.members for n in p.origin(p.ids[i])), step, done)
        label = _marked(_cluster_label(c, nodes, words), st)
        boxes["cluster"].append(f'    "{c.id}" [label=<{label}>{STATE_ATTRS[st]}];')
    if p.hidden:
        hid = (n for i, k in zip(p.ids, p.key, strict=True) if k == MORE_ID for n in p.origin(i))
        st = _state(hid, step, done)
        text = _html(words["more"].format(k=p.hidden))
        boxes["more"].append(f'    "{MORE_ID}" [label=<{_marked(f"<B>{text}</B>", st)}>{STATE_ATTRS[st]}];')
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
