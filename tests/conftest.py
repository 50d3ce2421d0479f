"""Shared test helpers: run a page in AppTest, and walk torch's own autograd graph (the oracle graph tests use).

Browser fixtures (a real server, chromium) are in tests/e2e/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APPTEST_TIMEOUT = 120  # seconds per AppTest run: a page's first run imports torch and forks workers on 2 cores


def open_page(script: str, *, lang: str | None = None, **query: str) -> AppTest:
    """Run `script` (e.g. "pages/graph.py") once in AppTest, with URL query settings and a language."""
    at = AppTest.from_file(str(ROOT / script), default_timeout=APPTEST_TIMEOUT)
    if lang is not None:
        at.session_state["lang"] = lang
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def mul_chain(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y): a leaf and the output of `n` multiplications of it, an autograd chain n + 1 nodes deep."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return x, y


def grad_fns(roots: Iterable[torch.Tensor]) -> list[Any]:
    """Every autograd node reachable from the roots' grad_fn, by our own depth-first walk over next_functions.

    Independent of core.graph on purpose: the graph tests compare what core.graph found with this.
    """
    found: list[Any] = []
    seen: set[Any] = set()
    stack = [r.grad_fn for r in roots if r.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        found.append(fn)
        stack.extend(n for n, _ in fn.next_functions if n is not None)
    return found
