"""The graph bridge: keys (←/→, PageUp/PageDown), clicks on graph boxes, zoom/pan and auto-play, as events.

A tiny Streamlit component (`ui/components/bridge/index.html`, plain HTML and JS, no build step, nothing
fetched) renders nothing itself; it listens on the page around it and sends each event back as its value.
`apply_event` turns an event into session-state changes, so the page logic is testable without a browser.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from core import render

_component = components.declare_component("ae_bridge", path=str(Path(__file__).parent / "components" / "bridge"))


def bridge(
    key: str, *, keys: bool, current: str | None, playing: bool, pace_ms: int, on_event: Callable[[], None]
) -> None:
    """Mount the bridge: `keys` turns the step keys on, `current` is the box kept in view, `playing` paces steps."""
    _component(keys=keys, current=current, playing=playing, pace_ms=pace_ms, key=key, default=None, on_change=on_event)
    st.html(
        '<style>.stElementContainer:has(> iframe[title="ui.bridge.ae_bridge"]),'
        '.stElementContainer:has(iframe[title="ui.bridge.ae_bridge"]){height:0;min-height:0;margin:0;'
        "overflow:hidden;position:absolute}</style>"
    )


def apply_event(
    event: Any, state: MutableMapping[str, Any], total: int, step_key: str, expand_key: str, pick_key: str,
    node_ids: set[str],
) -> str | None:  # fmt: skip
    """Apply one bridge event to `state`; returns what it did ("step", "pick", "expand", "fold") or None.

    step: move the step by ±1 within 0..total (auto-play stops at the end); pick: a node's box selects that node;
    a folded box (module call or repeated block) toggles open, an opened one closes.
    """
    if not isinstance(event, dict):
        return None
    kind = event.get("kind")
    if kind == "step" and event.get("delta") in (1, -1):
        k = state.get(step_key, total)
        state[step_key] = min(total, max(0, int(k) + int(event["delta"])))
        if event.get("auto") and state[step_key] >= total:
            state["gx_playing"] = False
        return "step"
    if kind != "pick" or not isinstance(event.get("id"), str):
        return None
    box = event["id"]
    if box in node_ids:
        state[pick_key] = box
        return "pick"
    if box.startswith((render.MODULE_PREFIX, "x:")):
        opened = list(state.get(expand_key) or [])
        if box in opened:
            opened.remove(box)
            state[expand_key] = opened
            return "fold"
        state[expand_key] = [*opened, box]
        return "expand"
    return None
