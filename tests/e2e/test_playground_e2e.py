"""Browser journey: type a program in the playground, run it, see the result; screenshot saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.server import app_run, wait_for_run

pytestmark = pytest.mark.e2e


def _open(page, server):  # noqa: ANN001, ANN202
    page.goto(server.url)
    wait_for_run(page)
    return page.locator('[data-testid="stMain"]')


def _run(page, main, source: str) -> None:  # noqa: ANN001
    main.locator("textarea").first.fill(source)
    with app_run(page):
        main.get_by_role("button", name="Run").click()


def test_type_run_see_result(page, server, shots):
    main = _open(page, server)
    expect(main.get_by_role("heading", name="Tensor Playground")).to_be_visible()
    _run(
        page,
        main,
        "a = torch.tensor([2., 4.], requires_grad=True)\nb = torch.tensor([7., 5.], requires_grad=True)\n"
        "E = 3*a**3 - b**2\nE.backward(gradient=torch.tensor([1., 1.]))\nprint(a.grad, b.grad)",
    )
    expect(main.locator('[data-testid="stCode"]').first).to_contain_text("tensor([ 36., 144.]) tensor([-14., -10.])")
    expect(main.get_by_text("Variables").first).to_be_visible()
    page.screenshot(path=str(shots / "playground.png"), full_page=True)


def test_refused_program_shows_error(page, server):
    main = _open(page, server)
    _run(page, main, "import os\nos.system('touch /tmp/pwned')")
    expect(main.locator('[data-testid="stAlert"]').first).to_contain_text("import os")


def test_language_survives_clicks_and_page_changes(page, server):
    main = _open(page, server)
    title = page.locator("h1").first
    with app_run(page):
        page.locator('[data-testid="stSidebar"]').get_by_text("中文").click()
    expect(title).to_have_text("张量游乐场")
    with app_run(page):
        main.get_by_role("button", name="运行").click()  # a click inside the page must not reset the sidebar
    expect(title).to_have_text("张量游乐场")
    with app_run(page):
        page.locator('[data-testid="stSidebarNav"]').get_by_text("计算图探索").click()
    expect(title).to_have_text("计算图探索")


def test_ctrl_enter_runs(page, server):
    main = _open(page, server)
    editor = main.locator("textarea").first
    editor.fill("z = torch.arange(6).reshape(2, 3)\nprint(z.sum().item())")
    with app_run(page):
        editor.press("Control+Enter")
    expect(main.locator('[data-testid="stCode"]').first).to_contain_text("15")
