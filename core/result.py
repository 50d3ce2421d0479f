"""The answer of one sandbox run, as typed dicts: the one definition of the result format.

docs/result.schema.json is the same format as a JSON Schema (tests/test_result_schema.py checks real answers
against it); docs/ARCHITECTURE.md describes it in words. A worker's answer is at most MAX_ANSWER_BYTES of JSON.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

Nested = Any  # a number, or nested lists of numbers; NaN/inf are the strings "nan", "inf", "-inf"


class Summary(TypedDict):
    min: float | str | None
    max: float | str | None
    mean: float | str | None
    std: float | str | None


class _ErrorBase(TypedDict):
    kind: Literal["refused", "syntax", "runtime", "limit", "timeout"]
    message: str  # in English (the CLI prints it); a page shows `key` with `args` in the user's language
    line: int | None


class Error(_ErrorBase, total=False):
    key: str  # a catalog key (core/i18n): the message in every language
    args: dict[str, str | int | float]  # the key's placeholders
    detail: str  # Python's own words, when the message translates one of Python's (a SyntaxError ...)
    code: str  # "busy" | "replaced": the pool's queue answers


class TensorVariable(TypedDict, total=False):
    type: Literal["tensor"]
    shape: list[int]
    dtype: str
    device: str
    requires_grad: bool
    is_leaf: bool
    grad_fn: str | None
    value: Nested | None  # null when over MAX_JSON_ELEMENTS (then "summary"), or under "same_as"
    summary: Summary
    grad: Nested | None
    grad_summary: Summary
    same_as: str  # a big tensor bound to several names: its numbers are under this first name


class OtherVariable(TypedDict, total=False):
    type: str  # int, float, bool, str, NoneType, ndarray, module, optimizer, data, list, dict ...
    value: Any
    repr: str
    shape: list[int]
    dtype: str
    parameters: int


class GraphNode(TypedDict, total=False):
    id: str
    kind: Literal["leaf", "op", "output", "cut"]
    name: str
    grad_fn: str | None
    label: str | None
    shape: list[int]
    dtype: str
    value: Nested | None
    summary: Summary
    grad: Nested | None
    grad_summary: Summary
    saved: dict[str, Any] | None
    module: str  # the innermost nn.Module call that created it: a key of Graph.modules
    value_note: str  # why value is null when there is no summary either (not recorded, changed in place ...)
    changed_later: Literal[True]  # a leaf changed in place after forward: value is at forward, now is now
    now: Nested | None
    now_summary: Summary
    by_backward: Literal[True]  # made by a backward pass with create_graph=True
    input: Literal[True]  # kind "cut": a batch of data in a training step's graph (x batch, y batch)


class GraphEdge(TypedDict, total=False):
    src: str
    dst: str
    shape: list[int] | None
    cut: str


class ModuleCallInfo(TypedDict):
    name: str  # "layers.3": named_modules() of the program's module variables (the variable for a root)
    # "class" in JSON: the module's class name
    parent: str | None


class Graph(TypedDict, total=False):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    modules: dict[str, ModuleCallInfo]  # nn.Module calls that made nodes, for folding (core/render.py)


class BackwardStep(TypedDict, total=False):
    index: int
    node: str | None
    name: str
    grad_fn: str
    incoming: list[Nested | None] | None
    outgoing: list[Nested | None] | None
    incoming_shapes: list[list[int] | None]
    outgoing_shapes: list[list[int] | None]
    rule: dict[str, Any] | None
    substituted: dict[str, Any]
    pass_: int  # "pass" in JSON
    detail: bool


class Stats(TypedDict, total=False):
    ops: int  # guarded tensor ops run
    steps: int  # interpreter steps (loop iterations, calls)
    gflop: float  # the compute budget spent
    ms: float  # this run's own time
    backward_passes: int
    recording: str  # how the last pass was recorded: "as it ran" | "foreseen" | "rolling" | "second run" | "unrecorded"
    first_run_ms: float  # with a second run: the first run's time
    total_ms: float
    trimmed_from_bytes: int  # the answer's size before fit_answer bounded it


class BackwardPass(TypedDict, total=False):
    kind: Literal["backward", "grad"]
    index: int
    start: int  # its first step in backward_steps
    count: int
    recorded: bool  # false: listed only; ask for it with detail_pass to have its steps
    detail: bool


class Result(TypedDict, total=False):
    ok: bool
    device: str
    error: Error
    variables: dict[str, TensorVariable | OtherVariable]
    graph: Graph
    grad_graph: Graph
    backward_order: list[str]
    backward_steps: list[BackwardStep]
    backward_passes: list[BackwardPass]
    backward_note: str
    stdout: str
    stats: Stats
    describe_error: str
