"""Browser journey: type seed 004 in the Graph Explorer, run, see 36 and 144 in the SVG, step to the end."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.server import app_run, svg_texts, wait_for_run

pytestmark = pytest.mark.e2e

SEED_004 = """a = torch.tensor([2., 4.], requires_grad=True)
b = torch.tensor([7., 5.], requires_grad=True)
E = 3*a**3 - b**2
E.backward(gradient=torch.tensor([1., 1.]))"""


def test_seed004_graph_and_stepper(page, server, shots):
    page.goto(f"{server.url}/graph")  # a deep link: the app shell must still wrap the page
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_role("heading", name="Graph Explorer")).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]').get_by_text("Tensor Playground")).to_be_visible()
    main.locator("textarea").first.fill(SEED_004 + "\nc = a.grad * 1")  # a new program, not the preset text
    with app_run(page):
        main.get_by_role("button", name="Run and draw").click()
    svg = page.locator('.ae-graph[data-graph="main"] svg')
    expect(svg.locator("text", has_text="144").first).to_be_attached()
    texts = svg_texts(page)
    assert "36" in texts and "144" in texts and "-14" in texts
    page.screenshot(path=str(shots / "graph_final.png"), full_page=True)

    for _ in range(6):
        with app_run(page):
            main.get_by_role("button", name="Back").click()
    expect(main.get_by_text("Before backward")).to_be_visible()
    assert "144" not in svg_texts(page)  # before backward: no gradients drawn yet
    for _ in range(6):
        with app_run(page):
            main.get_by_role("button", name="Next").click()
    expect(main.get_by_text("Step 6 of 6")).to_have_count(1)
    assert "144" in svg_texts(page)
    page.screenshot(path=str(shots / "graph_stepped.png"), full_page=True)
