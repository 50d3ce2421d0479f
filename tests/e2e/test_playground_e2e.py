"""Browser journey: type a program in the playground, run it, see the result; screenshot saved."""

from __future__ import annotations

import pytest

from tests.e2e.server import wait_for_run

pytestmark = pytest.mark.e2e


def test_type_run_see_result(page, server, shots):
    page.goto(server.url)
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("heading", name="Tensor Playground").wait_for()
    editor = main.locator("textarea").first
    editor.fill("a = torch.tensor([2., 4.], requires_grad=True)\nb = torch.tensor([7., 5.], requires_grad=True)\n"
                "E = 3*a**3 - b**2\nE.backward(gradient=torch.tensor([1., 1.]))\nprint(a.grad, b.grad)")
    main.get_by_role("button", name="Run").click()
    wait_for_run(page)
    output = main.locator('[data-testid="stCode"]').first
    output.wait_for()
    assert "tensor([ 36., 144.]) tensor([-14., -10.])" in output.inner_text()
    assert main.get_by_text("Variables").count() >= 1
    page.screenshot(path=str(shots / "playground.png"), full_page=True)


def test_refused_program_shows_error(page, server):
    page.goto(server.url)
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    editor = main.locator("textarea").first
    editor.fill("import os\nos.system('touch /tmp/pwned')")
    main.get_by_role("button", name="Run").click()
    wait_for_run(page)
    alert = main.locator('[data-testid="stAlert"]').first
    alert.wait_for()
    assert "import os" in alert.inner_text()


def test_language_survives_clicks_and_page_changes(page, server):
    page.goto(server.url)
    wait_for_run(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("中文").click()
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    assert page.locator("h1").first.inner_text() == "张量游乐场"
    main.get_by_role("button", name="运行").click()  # a click inside the page must not reset the sidebar
    wait_for_run(page)
    assert page.locator("h1").first.inner_text() == "张量游乐场"
    page.locator('[data-testid="stSidebarNav"]').get_by_text("计算图探索").click()
    wait_for_run(page)
    assert page.locator("h1").first.inner_text() == "计算图探索"


def test_ctrl_enter_runs(page, server):
    page.goto(server.url)
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    editor = main.locator("textarea").first
    editor.fill("z = torch.arange(6).reshape(2, 3)\nprint(z.sum().item())")
    editor.press("Control+Enter")
    wait_for_run(page)
    assert "15" in main.locator('[data-testid="stCode"]').first.inner_text()
