"""A light Streamlit client: speaks the browser's protocol on /_stcore/stream (protobuf BackMsg / ForwardMsg).

Enough of what the frontend does to drive this app from a script: open a session, run a page (with a query
string), set widget values and click buttons by their keys, and read back what the page showed (markdown,
alerts, exceptions) and how long each run took. Used by benchmarks/load_test.py; loopback only.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

TEXT_ELEMENTS = ("markdown", "alert", "exception", "heading", "code", "text")


@dataclass
class Run:
    """One script run as the browser saw it."""

    seconds: float
    status: str
    texts: list[str] = field(default_factory=list)  # markdown, alerts (error/warning/info/success), headings, code
    exceptions: list[str] = field(default_factory=list)
    widgets: dict[str, str] = field(default_factory=dict)  # user key -> widget id


class StreamlitClient:
    """One browser tab: `await c.connect()`, then `await c.run(page, ...)` as often as wanted."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        self.url = base.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.headers = dict(headers or {})  # e.g. a sticky-replica cookie set by the load balancer
        self.ws: Any = None
        self.widgets: dict[str, str] = {}
        self.page_hash = ""
        self.session_id = ""

    async def connect(self) -> None:
        self.ws = await websockets.connect(
            self.url,
            subprotocols=["streamlit"],
            max_size=64 * 1024**2,
            additional_headers=self.headers,
            open_timeout=30,
            ping_interval=None,
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def run(
        self,
        page: str,
        query: str = "",
        values: dict[str, Any] | None = None,
        click: str | None = None,
        timeout: float = 180,
    ) -> Run:
        """Rerun `page` with widget `values` (by key) and a click on the button keyed `click`."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = query
        cs.page_name = page
        cs.page_script_hash = self.page_hash
        for key, value in (values or {}).items():
            ws = cs.widget_states.widgets.add()
            ws.id = self.widgets[key]
            if isinstance(value, bool):
                ws.bool_value = value
            elif isinstance(value, int):
                ws.int_value = value
            elif isinstance(value, float):
                ws.double_value = value
            else:
                ws.string_value = str(value)
        if click is not None:
            ws = cs.widget_states.widgets.add()
            ws.id = self.widgets[click]
            ws.trigger_value = True
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        run = Run(0.0, "")
        deadline = start + timeout
        while True:
            data = await asyncio.wait_for(self.ws.recv(), timeout=max(0.1, deadline - time.perf_counter()))
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
            elif kind == "page_info_changed":
                pass
            elif kind == "navigation":
                self.page_hash = fwd.navigation.page_script_hash or self.page_hash
            elif kind == "delta":
                self._delta(fwd.delta, run)
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue
                run.seconds = time.perf_counter() - start
                run.status = status
                run.widgets = dict(self.widgets)
                return run

    def _delta(self, delta: Any, run: Run) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind in TEXT_ELEMENTS:
            body = getattr(el, kind)
            run.texts.append(getattr(body, "body", "") or getattr(body, "message", ""))
            if kind == "exception":
                run.exceptions.append(f"{body.type}: {body.message}")
            return
        body = getattr(el, kind, None) if kind else None
        wid = getattr(body, "id", "") if body is not None else ""
        if wid and "-" in wid:
            key = wid.rsplit("-", 1)[-1]  # "$$ID-<hash>-<user key>"
            self.widgets[key] = wid
