"""Show a tensor's JSON record readably: scalars inline, small 1-D/2-D as tables, big 2-D as a heatmap."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core.numfmt import fmt_cells, fmt_number, fmt_tensor, is_float_dtype
from ui.common import tr

TABLE_MAX_CELLS = 400  # beyond this a 2-D tensor is drawn as a heatmap


def _summary_dtype(dtype: str) -> str:
    """Mean and std are computed in float64; shown in the look of the tensor's own float dtype (else float64)."""
    return dtype if is_float_dtype(dtype) else "float64"


def show_values(value: Any, summary: dict[str, Any] | None, shape: list[int], dtype: str, key: str) -> None:
    """Draw one tensor value (nested lists from the worker, or a summary when it was too big).

    Every number is text from core.numfmt in the look of its dtype (a float keeps its point, bools read
    True/False, tiny values are in scientific notation); 1-D and 2-D tables look the same."""
    complex_ = dtype.startswith("complex")
    ndim = len(shape)
    if value is None:
        if summary:
            cols = st.columns(4)
            for col, k in zip(cols, ("min", "max", "mean", "std")):
                shown = dtype if k in ("min", "max") else _summary_dtype(dtype)
                col.metric(tr(f"tv_{k}"), fmt_number(summary.get(k), shown))
        return
    if ndim == 0:
        st.code(fmt_number(value, dtype), language=None)
    elif ndim == 1 and not complex_:
        cells = fmt_cells(value, dtype)
        index, column = tr("tv_index"), tr("tv_value")
        st.dataframe(
            [{index: i, column: v} for i, v in enumerate(cells)] if len(cells) <= 12 else {column: cells},
            hide_index=True,
            width="content",
        )
    elif ndim == 2 and not complex_ and len(value) * len(value[0] or [0]) > TABLE_MAX_CELLS:
        fig = go.Figure(go.Heatmap(z=value, colorscale="RdBu", zmid=0))
        fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(autorange="reversed"))
        st.plotly_chart(fig, key=f"hm_{key}")
    elif ndim == 2:  # like 1-D: the row index first, then one column per index of the second dimension
        index = tr("tv_index")
        rows = [{index: i, **{str(j): c for j, c in enumerate(row)}} for i, row in enumerate(fmt_cells(value, dtype))]
        st.dataframe(rows, hide_index=True, width="content")
    else:
        st.code(fmt_tensor(value, dtype, shape), language=None)


def brief_values(values: Any, dtype: str | None) -> str:
    """A short text for a table cell: the numbers (flat), a summary "min … max … mean … std …", or nothing."""
    if values is None:
        return ""
    if isinstance(values, dict):
        shown = dtype if is_float_dtype(dtype) else "float64"
        return ", ".join(
            f"{tr(f'tv_{k}')} {fmt_number(values[k], dtype if k in ('min', 'max') else shown)}"
            for k in ("min", "max", "mean", "std")
            if k in values
        )
    return fmt_tensor(values, dtype)


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
