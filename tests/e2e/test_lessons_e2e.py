"""Browser journey: open /lessons, go to the autograd lesson, run seed 004 there, then open it in the Graph Explorer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.server import app_run, svg_texts, wait_for_run

pytestmark = pytest.mark.e2e


def test_autograd_lesson_runs_and_opens_in_graph_explorer(page, server, shots):
    page.goto(f"{server.url}/lessons")  # a deep link: the app shell must still wrap the page
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(main.get_by_role("heading", name="Lessons")).to_be_visible()
    expect(nav.get_by_text("Lessons")).to_be_visible()

    main.locator('[data-testid="stSelectbox"]').first.click()
    with app_run(page):
        page.get_by_role("option", name="3. Autograd").click()
    with app_run(page):
        main.get_by_role("button", name="Next").click()  # step 2: backward with a gradient vector
    expect(main.get_by_text("Step 2 of 5")).to_be_visible()
    with app_run(page):
        main.get_by_role("button", name="Run here").click()
    output = main.locator('[data-testid="stCode"]').last
    expect(output).to_contain_text("36., 144.")
    expect(output).to_contain_text("-14., -10.")
    expect(page.locator('.ae-graph[data-graph="lesson"] svg text', has_text="144").first).to_be_attached()
    assert "36" in svg_texts(page, "lesson")

    with app_run(page):
        main.get_by_text("[36., 144.]").first.click()  # the quiz's right answer
    expect(main.get_by_text("Right!")).to_be_visible()
    page.set_viewport_size({"width": 1400, "height": 1800})  # the page scrolls inside stMain: show all of it
    page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    page.screenshot(path=str(shots / "lessons.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})

    with app_run(page):
        main.get_by_role("button", name="Open in Graph Explorer").click()
    expect(main.get_by_role("heading", name="Graph Explorer")).to_be_visible()
    assert "/graph?" in page.url and "code=" in page.url  # the hand-off is a link: it can be shared as it is
    expect(main.locator("textarea").first).to_have_value(
        re.compile(re.escape("E.backward(gradient=external_gradient)"))
    )
    expect(page.locator('.ae-graph[data-graph="main"] svg text', has_text="144").first).to_be_attached()
    texts = svg_texts(page, "main")
    assert "36" in texts and "-14" in texts

    with app_run(page):
        nav.get_by_text("Lessons").click()  # back: the lesson and step stay
    expect(main.get_by_text("Step 2 of 5")).to_be_visible()
    expect(main.get_by_role("heading", name="2. backward with a gradient vector")).to_be_visible()
