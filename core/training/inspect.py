"""One training step replayed through the programs' graph pipeline: the same graph JSON, values and backward steps.

A program's graph comes from core/sandbox/session.py; a training step's from here, with the same parts: every op's
forward value recorded as it runs (core.trace.ValueLog), the backward pass recorded in the engine's order with its
rules (core.backward.BackwardRecorder), the graph JSON within the same budgets (core.graph), and the answer bounded
like a program's (core.sandbox.session.fit_answer). The page draws it with ui/graph_view.py, like the Graph Explorer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import nn

from core.limits import MAX_GRAPH_JSON_ELEMENTS
from core.messages import Message
from core.training.trainer import Trainer

X_NAME, Y_NAME, LOSS_NAME = "x batch", "y batch", "loss"


@dataclass
class StepGraph:
    """Step k replayed: its loss, and the answer a program's run gives (graph, backward_steps, backward_passes)."""

    step: int
    loss: float
    result: dict[str, Any]

    @property
    def nodes(self) -> int:
        return len(self.result["graph"]["nodes"])


def step_graph(trainer: Trainer, k: int) -> StepGraph | Message:
    """Replay step `k` with its forward recorded, run its backward under the engine recorder, and describe it.

    Parameters are labelled by `model.named_parameters()` (`fc1.weight`), the batch as `x batch` / `y batch`,
    the objective as `loss`; every value is the one of step k's forward (the parameters before step k)."""
    from core import backward as bw
    from core import graph as gr
    from core import trace
    from core.sandbox.session import fit_answer

    values = trace.ValueLog()
    consumers: dict[Any, list[str]] = {}
    batch: dict[str, torch.Tensor] = {}
    layers: dict[str, torch.Tensor] = {}  # each layer's output, labelled by the layer's name ("fc1", "drop")

    @contextmanager
    def around(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Iterator[None]:
        batch.update({X_NAME: x, Y_NAME: y})
        hooks = [
            m.register_forward_hook(partial(_keep, layers, name))
            for name, m in model.named_modules()
            if name and not any(True for _ in m.children())
        ]
        try:
            with trace.recording(values, batch) as found:
                yield
        finally:
            for h in hooks:
                h.remove()
        consumers.update(found)

    replay = trainer.replay(k, around)
    if isinstance(replay, Message):
        return replay
    loss = replay.loss
    with trainer.lock, bw.BackwardRecorder(loss) as recorder:
        loss.backward()
    names: dict[str, Any] = {LOSS_NAME: loss, **replay.names, **layers}
    graph = gr.build(
        loss,
        names=names,
        values={**recorder.outputs, **values.values()},
        grads=recorder.grads,
        saved=recorder.saved,
        changed_leaves=values.changed_leaves(),
    )
    budget = [MAX_GRAPH_JSON_ELEMENTS]
    steps = bw.steps_to_json(recorder.steps, graph, budget=budget)
    for i, st in enumerate(steps):
        st["index"], st["pass"] = i, 0
    graph_dict = graph.to_json()
    _add_inputs(graph_dict, graph, batch, consumers)
    result = {
        "ok": True,
        "device": str(trainer.device),
        "graph": graph_dict,
        "backward_order": [st["node"] for st in steps if st["node"] is not None],
        "backward_steps": steps,
        "backward_passes": [
            {"kind": "backward", "index": 0, "start": 0, "count": len(steps), "recorded": True, "detail": True}
        ],
        "stdout": "",
        "stats": {"backward_passes": 1},
    }
    return StepGraph(k, loss.item(), fit_answer(result))


def _keep(into: dict[str, torch.Tensor], name: str, module: nn.Module, args: Any, out: Any) -> None:
    if isinstance(out, torch.Tensor) and out.grad_fn is not None:
        into[name] = out


def _add_inputs(
    graph_dict: dict[str, Any], graph: Any, batch: dict[str, torch.Tensor], consumers: dict[Any, list[str]]
) -> None:
    """The batch as constant nodes (no gradient reaches data), with an edge into each op that read it."""
    from core import graph as gr

    ids = {name: f"input_{i}" for i, name in enumerate(batch)}
    used = False
    for fn, names in consumers.items():
        dst = graph.id_of(fn)
        if dst is None:
            continue
        for name in names:
            t = batch[name]
            graph_dict["edges"].append({"src": ids[name], "dst": dst, "shape": list(t.shape)})
            used = True
    if not used:
        return
    linked = {e["src"] for e in graph_dict["edges"]}
    for name, t in batch.items():
        if ids[name] not in linked:
            continue
        graph_dict["nodes"].append(gr.constant_node(ids[name], "data", name, t, input=True))
