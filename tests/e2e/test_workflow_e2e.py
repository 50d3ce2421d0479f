"""Classroom workflow in a real browser: work survives page changes and a language switch, the share link opens
the same screen in a fresh browser, and back/forward walks the visited states."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.server import RUN_COUNTER_JS, app_run, svg_texts, wait_for_run

pytestmark = pytest.mark.e2e

NUMBERS = re.compile(r"-?\d+(?:\.\d+)?")
PROGRAM = """w = torch.tensor([1.5, -2.0], requires_grad=True)
loss = (w * w * 3).sum()
loss.backward()"""


def _nav(page, name: str) -> None:
    with app_run(page):
        page.locator('[data-testid="stSidebarNav"]').get_by_text(name).click()


@pytest.mark.parametrize("size", [(1400, 1000), (1280, 720)])
def test_program_survives_pages_and_language_and_its_link_opens_the_same_screen(browser, server, shots, size):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    ctx.add_init_script(RUN_COUNTER_JS)
    page = ctx.new_page()
    page.goto(f"{server.url}/graph")
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    main.locator("textarea").first.fill(PROGRAM)
    with app_run(page):
        main.get_by_role("button", name="Run and draw").click()
    expect(page.locator('.ae-graph[data-graph="main"] svg text', has_text="-12").first).to_be_attached()
    with app_run(page):
        main.get_by_role("button", name="Back").click()
    steps = page.evaluate("new URLSearchParams(location.search).get('step')")
    assert steps is not None
    drawn = svg_texts(page)

    _nav(page, "Lessons")
    _nav(page, "Training Studio")
    with app_run(page):
        page.locator('[data-testid="stSidebar"]').get_by_text("中文").click()
    _nav(page, "计算图探索")
    expect(main.locator("textarea").first).to_have_value(PROGRAM)
    assert page.evaluate("new URLSearchParams(location.search).get('step')") == steps
    expect(page.locator('.ae-graph[data-graph="main"] svg text', has_text="18.75").first).to_be_attached()
    assert NUMBERS.findall(svg_texts(page)) == NUMBERS.findall(drawn)  # the same graph at the same step
    page.screenshot(path=str(shots / f"workflow_back_zh_{size[0]}.png"))

    link = page.url
    fresh = browser.new_context(viewport={"width": size[0], "height": size[1]})
    fresh.add_init_script(RUN_COUNTER_JS)
    other = fresh.new_page()
    other.goto(link)
    wait_for_run(other)
    omain = other.locator('[data-testid="stMain"]')
    expect(omain.locator("textarea").first).to_have_value(PROGRAM)
    expect(other.locator('[data-testid="stSidebar"]').get_by_text("中文")).to_be_visible()
    # the link's own run draws the graph: waited for, as a person would (a first run can start late)
    expect(other.locator('.ae-graph[data-graph="main"] svg text', has_text="18.75").first).to_be_attached()
    assert svg_texts(other) == svg_texts(page)  # the same graph at the same step, in the link's language
    assert other.evaluate("new URLSearchParams(location.search).get('step')") == steps
    other.screenshot(path=str(shots / f"workflow_link_{size[0]}.png"))
    fresh.close()
    ctx.close()


def test_back_and_forward_walk_lesson_steps(page, server):
    page.goto(f"{server.url}/lessons")
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    for _ in range(2):
        with app_run(page):
            main.get_by_role("button", name="Next").click()
    expect(main.get_by_text("Step 3 of")).to_be_visible()
    with app_run(page):
        page.go_back()
    expect(main.get_by_text("Step 2 of")).to_be_visible()
    with app_run(page):
        page.go_forward()
    expect(main.get_by_text("Step 3 of")).to_be_visible()
