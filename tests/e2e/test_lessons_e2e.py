"""Browser journey: open /lessons, go to the autograd lesson, run seed 004 there, then open it in the Graph Explorer."""

from __future__ import annotations

import pytest

from tests.e2e.server import svg_texts, wait_for_run

pytestmark = pytest.mark.e2e


def test_autograd_lesson_runs_and_opens_in_graph_explorer(page, server, shots):
    page.goto(f"{server.url}/lessons")  # a deep link: the app shell must still wrap the page
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("heading", name="Lessons").wait_for()
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Lessons").wait_for()

    main.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="3. Autograd").click()
    wait_for_run(page)
    main.get_by_role("button", name="Next").click()  # step 2: backward with a gradient vector
    wait_for_run(page)
    main.get_by_text("Step 2 of 5").wait_for()
    main.get_by_role("button", name="Run here").click()
    wait_for_run(page)
    page.locator('.ae-graph[data-graph="lesson"] svg').wait_for()
    output = main.locator('[data-testid="stCode"]').last.inner_text()
    assert "36., 144." in output and "-14., -10." in output
    texts = svg_texts(page, "lesson")
    assert "36" in texts and "144" in texts

    main.get_by_text("[36., 144.]").first.click()  # the quiz's right answer
    wait_for_run(page)
    main.get_by_text("Right!").wait_for()
    page.set_viewport_size({"width": 1400, "height": 1800})  # the page scrolls inside stMain: show all of it
    page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "lessons.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})

    main.get_by_role("button", name="Open in Graph Explorer").click()
    wait_for_run(page)
    main.get_by_role("heading", name="Graph Explorer").wait_for()
    assert page.url.endswith("/graph")
    assert "E.backward(gradient=external_gradient)" in main.locator("textarea").first.input_value()
    page.locator('.ae-graph[data-graph="main"] svg').wait_for()
    texts = svg_texts(page, "main")
    assert "36" in texts and "144" in texts and "-14" in texts

    page.locator('[data-testid="stSidebarNav"]').get_by_text("Lessons").click()  # back: the lesson and step stay
    wait_for_run(page)
    main.get_by_text("Step 2 of 5").wait_for()
    main.get_by_role("heading", name="2. backward with a gradient vector").wait_for()
