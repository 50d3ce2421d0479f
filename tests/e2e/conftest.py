"""Fixtures for browser tests: one streamlit server per session, a fresh chromium page per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, ROOT, RUN_COUNTER_JS, StreamlitServer

OUT = ROOT / "test-results"
expect.set_options(timeout=60_000)  # expect() retries until this; a run on 2 busy cores can take seconds


@pytest.fixture(scope="session")
def server():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian chromium is missing: apt-get install chromium (make test installs it)")
    OUT.mkdir(exist_ok=True)
    srv = StreamlitServer()
    try:
        srv.wait()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.add_init_script(RUN_COUNTER_JS)  # counts finished script runs: tests/e2e/server.py wait_for_run
    pg = ctx.new_page()
    yield pg
    ctx.close()


@pytest.fixture
def shots() -> Path:
    OUT.mkdir(exist_ok=True)
    return OUT
