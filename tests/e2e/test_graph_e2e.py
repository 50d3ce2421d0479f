"""Browser journey: type seed 004 in the Graph Explorer, run, see 36 and 144 in the SVG, step to the end."""

from __future__ import annotations

import pytest

from tests.e2e.server import svg_texts, wait_for_run

pytestmark = pytest.mark.e2e

SEED_004 = """a = torch.tensor([2., 4.], requires_grad=True)
b = torch.tensor([7., 5.], requires_grad=True)
E = 3*a**3 - b**2
E.backward(gradient=torch.tensor([1., 1.]))"""


def test_seed004_graph_and_stepper(page, server, shots):
    page.goto(f"{server.url}/graph")  # a deep link: the app shell must still wrap the page
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("heading", name="Graph Explorer").wait_for()
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Tensor Playground").wait_for()  # shell is there
    editor = main.locator("textarea").first
    editor.fill(SEED_004 + "\nc = a.grad * 1")  # a new program, not the preset text
    main.get_by_role("button", name="Run and draw").click()
    wait_for_run(page)
    page.locator('.ae-graph[data-graph="main"] svg').wait_for()
    texts = svg_texts(page)
    assert "36" in texts and "144" in texts and "-14" in texts
    page.screenshot(path=str(shots / "graph_final.png"), full_page=True)

    for _ in range(6):
        main.get_by_role("button", name="Back").click()
        wait_for_run(page)
    assert "144" not in svg_texts(page)  # before backward: no gradients drawn yet
    for _ in range(6):
        main.get_by_role("button", name="Next").click()
        wait_for_run(page)
    assert main.get_by_text("Step 6 of 6").count() == 1
    assert "144" in svg_texts(page)
    page.screenshot(path=str(shots / "graph_stepped.png"), full_page=True)
