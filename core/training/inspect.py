"""One recorded training step, replayed: its autograd graph (DOT, budgeted) with values and gradients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import tensorjson
from core.limits import DEFAULT_NODE_BUDGET
from core.messages import Message
from core.training.trainer import Trainer

SHOWN_ELEMENTS = 8  # a parameter with at most this many numbers is listed in full; bigger ones are summarised


@dataclass
class StepView:
    """What the page shows for step k: loss, DOT of its graph, each parameter's value and gradient."""

    step: int
    loss: float
    dot: str
    nodes: int
    params: list[dict[str, Any]]


def _brief(t: Any) -> Any:
    if t is None:
        return None
    if t.numel() <= SHOWN_ELEMENTS:
        return tensorjson.values(t.flatten())
    s = tensorjson.summary(t)
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in s.items()}


def step_view(trainer: Trainer, k: int, budget: int = DEFAULT_NODE_BUDGET, lang: str = "en") -> StepView | Message:
    """Replay step `k`, run its backward under the engine recorder and draw the graph within `budget` nodes."""
    try:
        from core import graph as core_graph
        from core.backward import BackwardRecorder
    except ImportError as e:
        return Message("tr_graph_unavailable", {"detail": str(e)[:120]})
    replay = trainer.replay(k)
    if isinstance(replay, Message):
        return replay
    with BackwardRecorder(replay.loss) as recorder:
        replay.loss.backward(retain_graph=True)
    g = core_graph.build(replay.loss, names=replay.names, grads=recorder.grads, saved=recorder.saved)
    params = [
        {
            "name": name,
            "shape": list(p.shape),
            "dtype": tensorjson.dtype_name(p.dtype),
            "value": _brief(p.detach()),
            "grad": _brief(p.grad),
        }
        for name, p in replay.names.items()
    ]
    return StepView(k, replay.loss.item(), g.to_dot(max_nodes=budget, lang=lang), len(g), params)
