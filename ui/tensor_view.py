"""Show a tensor's JSON record readably: scalars inline, small 1-D/2-D as tables, big 2-D as a heatmap."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ui.common import tr

TABLE_MAX_CELLS = 400  # beyond this a 2-D tensor is drawn as a heatmap


def _depth(value: Any) -> int:
    d = 0
    while isinstance(value, list):
        if not value:
            return d + 1
        value = value[0]
        d += 1
    return d


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, list) and len(x) == 2 and all(isinstance(v, (int, float)) for v in x):
        return f"{x[0]:.4g}{x[1]:+.4g}j"  # complex values arrive as [re, im]
    return str(x)


def show_values(value: Any, summary: dict[str, Any] | None, shape: list[int], dtype: str, key: str) -> None:
    """Draw one tensor value (nested lists from the worker, or a summary when it was too big)."""
    complex_ = dtype.startswith("complex")
    ndim = len(shape)
    if value is None:
        if summary:
            cols = st.columns(4)
            for col, k in zip(cols, ("min", "max", "mean", "std")):
                col.metric(k, _fmt(summary.get(k)))
        return
    if ndim == 0:
        st.code(_fmt(value), language=None)
    elif ndim == 1 and not complex_:
        st.dataframe(
            [{"i": i, "value": v} for i, v in enumerate(value)] if len(value) <= 12 else {"value": value},
            hide_index=True,
            width="content",
        )
    elif ndim == 2 and not complex_ and len(value) * len(value[0] or [0]) > TABLE_MAX_CELLS:
        fig = go.Figure(go.Heatmap(z=value, colorscale="RdBu", zmid=0))
        fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(autorange="reversed"))
        st.plotly_chart(fig, key=f"hm_{key}")
    elif ndim == 2:
        st.dataframe([[_fmt(v) for v in row] for row in value], width="content")
    else:
        st.code(_nested(value, _depth(value)), language=None)


def _nested(value: Any, depth: int) -> str:
    if depth <= 1:
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    inner = (",\n" + "\n" * (depth - 2)).join(_nested(v, depth - 1) for v in value)
    return "[" + inner.replace("\n", "\n ") + "]"


def variables_table(variables: dict[str, Any]) -> None:
    """One row per tensor variable: name, shape, dtype, device, requires_grad, is_leaf, grad_fn."""
    rows = []
    for name, v in variables.items():
        if v.get("type") == "tensor":
            rows.append(
                {
                    tr("col_name"): name,
                    tr("col_shape"): str(v["shape"]),
                    "dtype": v["dtype"],
                    tr("col_device"): v["device"],
                    "requires_grad": v["requires_grad"],
                    "is_leaf": v["is_leaf"],
                    "grad_fn": v.get("grad_fn") or "",
                }
            )
        elif v.get("type") == "ndarray" and "shape" in v:
            rows.append(
                {
                    tr("col_name"): name,
                    tr("col_shape"): str(v["shape"]),
                    "dtype": v["dtype"],
                    tr("col_device"): "numpy",
                    "requires_grad": None,
                    "is_leaf": None,
                    "grad_fn": "",
                }
            )
        else:
            rows.append(
                {
                    tr("col_name"): name,
                    tr("col_shape"): "",
                    "dtype": v.get("type"),
                    tr("col_device"): "",
                    "requires_grad": None,
                    "is_leaf": None,
                    "grad_fn": str(v.get("value", v.get("repr", ""))),
                }
            )
    st.dataframe(rows, hide_index=True, width="stretch")
