"""One helper for every browser test: start `streamlit run app.py` on a free port, wait, stop its process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """A real app server on localhost; `url` once started."""

    def __init__(self, script: str = "app.py") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(ROOT / "test-results" / f"server-{self.port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def wait(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise TimeoutError("streamlit did not become healthy")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


# Streamlit 1.67 marks its root `[data-testid="stApp"]` with `data-test-script-state` ("initial", "running",
# "rerunRequested", "notRunning", ...) and `data-test-connection-state`. A run can start and finish between two
# polls, so an observer installed before the app loads counts every change to "notRunning" (and a root element
# that React mounts anew already finished): a wait asks for a run finished *after* an action.
RUN_COUNTER_JS = """
window.__aeRunsDone = 0;
let root = null;
new MutationObserver((changes) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (app !== root) {
    root = app;
    if (app && app.getAttribute('data-test-script-state') === 'notRunning') window.__aeRunsDone += 1;
  }
  for (const c of changes) {
    if (c.type === 'attributes' && c.target === app
        && app.getAttribute('data-test-script-state') === 'notRunning') window.__aeRunsDone += 1;
  }
}).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""
UNSEEN_RUN_MS = 5_000  # an idle app that showed no new run this long after an action: go on, expect() checks it
SETTLE_MS = 150  # React re-renders just after the state flips; Streamlit's own e2e helper waits 100 ms here too
SETTLED_JS = """([after, since, unseen]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  return (window.__aeRunsDone > after || Date.now() - since > unseen) && app !== null
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && app.getAttribute('data-test-connection-state') === 'CONNECTED';
}"""


def runs_done(page) -> int:  # noqa: ANN001
    """Script runs (fragment runs included) the page has seen finish since it loaded."""
    return page.evaluate("window.__aeRunsDone")


def wait_for_run(page, after: int = 0, timeout_ms: int = 90_000) -> None:  # noqa: ANN001
    """Wait until more than `after` runs have finished (or none showed for UNSEEN_RUN_MS) and none is running."""
    page.wait_for_function(SETTLED_JS, arg=[after, page.evaluate("Date.now()"), UNSEEN_RUN_MS], timeout=timeout_ms)
    page.wait_for_timeout(SETTLE_MS)


@contextmanager
def app_run(page, timeout_ms: int = 90_000) -> Iterator[None]:  # noqa: ANN001
    """`with app_run(page): button.click()` returns once the run that the action started has finished."""
    before = runs_done(page)
    yield
    wait_for_run(page, before, timeout_ms)


def svg_texts(page, graph: str = "main") -> str:  # noqa: ANN001
    """The text of a server-drawn graph (`.ae-graph[data-graph=...]`): SVG text has no inner_text."""
    sel = f'.ae-graph[data-graph="{graph}"] svg text'
    return " ".join(page.eval_on_selector_all(sel, "els => els.map(e => e.textContent)"))
