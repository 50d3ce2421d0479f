"""Plotly figures of a Trainer's record: loss curves, gradient norms, decision boundary, fit line, confusion."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from core.limits import BOUNDARY_GRID, MAX_CHART_POINTS
from core.training.trainer import Trainer

CLASS_COLOURS = ("#f59e0b", "#2563eb")  # class 0 orange, class 1 blue, as in TF Playground
LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "height": 320, "legend": {"orientation": "h", "y": -0.2}}


def strided(n: int, max_points: int = MAX_CHART_POINTS) -> range:
    """Indices 0..n-1 thinned to at most `max_points` (always keeping the last one)."""
    stride = max(1, math.ceil(n / max_points))
    return range((n - 1) % stride, n, stride)


def log_ticks(values: Sequence[float]) -> dict[str, list]:
    """Tick values and texts for a log axis over `values`: every digit within one decade, 1-2-5 steps within
    three, decades beyond, each
    written in full ("0.02", "5", "1e-05"), never Plotly's bare minor digits ("1, 5, 2, 0.1, 5, 2")."""
    pos = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v) and v > 0]
    if not pos:
        return {}
    lo, hi = math.floor(math.log10(min(pos))), math.ceil(math.log10(max(pos)))
    if hi == lo:
        hi += 1
    steps = (1,) if hi - lo > 3 else (1, 2, 5) if hi - lo > 1 else (1, 2, 3, 4, 5, 6, 7, 8, 9)
    stride = max(1, math.ceil((hi - lo) / 8))
    ticks = [m * 10.0**e for e in range(lo, hi + 1, stride if len(steps) == 1 else 1) for m in steps]
    ticks = [t for t in ticks if 10.0**lo <= t <= 10.0**hi]
    return {"tickvals": ticks, "ticktext": [format(t, ".3g") for t in ticks]}


def _axes(fig: go.Figure, xs: Sequence[float], ys: Sequence[float]) -> None:
    """Log y with readable ticks; before any step the x axis starts at 0 (not Plotly's empty -1..1)."""
    fig.update_yaxes(type="log", **log_ticks(ys))
    if not xs:
        fig.update_xaxes(range=[0, 1])
    else:
        fig.update_xaxes(rangemode="tozero")


def loss_figure(trainer: Trainer, labels: Mapping[str, str]) -> go.Figure:
    """Per-step training loss and the test loss at each evaluation, log scale."""
    h = trainer.history
    idx = strided(len(h.loss))
    fig = go.Figure()
    fig.add_scatter(
        x=[i for i in idx], y=[h.loss[i] for i in idx], mode="lines+markers", name=labels["train"], marker={"size": 3}
    )  # markers make points clickable (click opens the step)
    evals = [e for e in h.evals if e.test_loss is not None]
    if evals:
        fig.add_scatter(
            x=[e.step for e in evals],
            y=[e.test_loss for e in evals],
            mode="lines+markers",
            name=labels["test"],
            marker={"size": 4},
        )
    fig.update_layout(title=labels["title"], xaxis_title=labels["x"], **LAYOUT)
    _axes(fig, list(idx), [h.loss[i] for i in idx] + [e.test_loss for e in evals if e.test_loss is not None])
    fig.update_layout(hovermode="x", clickmode="event+select")  # a click anywhere picks that step's points
    return fig


def accuracy_figure(trainer: Trainer, labels: Mapping[str, str]) -> go.Figure:
    """Test accuracy at each evaluation."""
    evals = [e for e in trainer.history.evals if e.accuracy is not None]
    fig = go.Figure()
    fig.add_scatter(
        x=[e.step for e in evals],
        y=[e.accuracy for e in evals],
        mode="lines+markers",
        name=labels["test"],
        marker={"size": 4},
    )
    fig.update_layout(title=labels["title"], xaxis_title=labels["x"], yaxis_range=[0, 1.02], **LAYOUT)
    return fig


def norms_figure(trainer: Trainer, labels: Mapping[str, str]) -> go.Figure:
    """Each layer's gradient norm per step (log scale): vanishing or exploding gradients show here."""
    h = trainer.history
    idx = strided(len(h.grad_norms))
    fig = go.Figure()
    for j, layer in enumerate(h.layers):
        fig.add_scatter(x=[i for i in idx], y=[h.grad_norms[i][j] for i in idx], mode="lines", name=layer)
    fig.update_layout(title=labels["title"], xaxis_title=labels["x"], **LAYOUT)
    _axes(fig, list(idx), [v for i in idx for v in h.grad_norms[i]])
    return fig


def boundary_figure(trainer: Trainer, labels: Mapping[str, str], n: int = BOUNDARY_GRID) -> go.Figure:
    """P(class 1) over the plane as a heatmap, training points as dots and test points as crosses."""
    xs, ys, z = trainer.decision_grid(n)
    fig = go.Figure(
        go.Heatmap(
            x=xs,
            y=ys,
            z=z,
            zmin=0,
            zmax=1,
            showscale=False,
            opacity=0.55,
            colorscale=[[0, CLASS_COLOURS[0]], [0.5, "#ffffff"], [1, CLASS_COLOURS[1]]],
        )
    )
    sets = [(trainer.data.train, labels["train"], "circle")]
    if trainer.data.test is not None:
        sets.append((trainer.data.test, labels["test"], "x"))
    for ds, name, symbol in sets:
        y = ds.y.tolist()
        fig.add_scatter(
            x=ds.x[:, 0].tolist(),
            y=ds.x[:, 1].tolist(),
            mode="markers",
            name=name,
            marker={
                "symbol": symbol,
                "size": 6,
                "color": [CLASS_COLOURS[c] for c in y],
                "line": {"width": 0.5, "color": "#111827"},
            },
        )
    fig.update_layout(title=labels["title"], xaxis={"scaleanchor": "y"}, **{**LAYOUT, "height": 420})
    return fig


def fit_figure(trainer: Trainer, labels: Mapping[str, str], n: int = 50) -> go.Figure:
    """Regressions: the data and the model's current line."""
    train = trainer.data.train
    lo, hi = float(train.x.min()), float(train.x.max())
    xs = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    fig = go.Figure()
    fig.add_scatter(
        x=train.x[:, 0].tolist(), y=train.y[:, 0].tolist(), mode="markers", name=labels["train"], marker={"size": 5}
    )
    fig.add_scatter(x=xs, y=trainer.predict_rows([[x] for x in xs]), mode="lines", name=labels["model"])
    fig.update_layout(title=labels["title"], **LAYOUT)
    return fig


def confusion_figure(confusion: Sequence[Sequence[int]], names: Sequence[str], labels: Mapping[str, str]) -> go.Figure:
    """Rows: true class, columns: predicted class, counts written in the cells."""
    fig = go.Figure(
        go.Heatmap(z=confusion, x=list(names), y=list(names), colorscale="Blues", texttemplate="%{z}", showscale=False)
    )
    fig.update_layout(
        title=labels["title"],
        xaxis_title=labels["x"],
        yaxis_title=labels["y"],
        yaxis_autorange="reversed",
        **{**LAYOUT, "height": 420},
    )
    return fig


def per_class_figure(per_class: Sequence[float], names: Sequence[str], labels: Mapping[str, str]) -> go.Figure:
    """Test accuracy of each class."""
    fig = go.Figure(go.Bar(x=list(names), y=list(per_class)))
    fig.update_layout(title=labels["title"], yaxis_range=[0, 1], **LAYOUT)
    return fig
