"""Browser journey: a syntax error and a typo in 中文 and in English, at 1280x720 and 1400x1000; screenshots saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.server import RUN_COUNTER_JS, app_run, wait_for_run

pytestmark = pytest.mark.e2e

SIZES = {"1280x720": (1280, 720), "1400x1000": (1400, 1000)}


@pytest.fixture(params=list(SIZES))
def sized_page(request, browser, server):
    w, h = SIZES[request.param]
    ctx = browser.new_context(viewport={"width": w, "height": h})
    ctx.add_init_script(RUN_COUNTER_JS)
    pg = ctx.new_page()
    pg.goto(server.url)
    wait_for_run(pg)
    yield pg, request.param
    ctx.close()


def _run(page, source: str, button: str) -> None:  # noqa: ANN001
    main = page.locator('[data-testid="stMain"]')
    main.locator("textarea").first.fill(source)
    with app_run(page):
        main.get_by_role("button", name=button, exact=True).click()


def test_syntax_error_in_chinese(sized_page, shots):
    page, size = sized_page
    with app_run(page):
        page.locator('[data-testid="stSidebar"]').get_by_text("中文").click()
    expect(page.locator("h1").first).to_have_text("张量游乐场")
    _run(page, "a = torch.tensor([2., 4.]\nb = a * 3", "运行")
    alert = page.locator('[data-testid="stAlert"]').first
    expect(alert).to_contain_text("语法错误")
    expect(alert).to_contain_text("第 1 行")
    expect(alert).to_contain_text("'(' 没有闭合")
    expect(alert).to_contain_text("Python 原文")
    expect(alert).to_contain_text("was never closed")  # Python's own words stay visible
    alert.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"syntax-error-zh-{size}.png"))
    _run(page, "x = torch.tensr([1.0])", "运行")
    expect(alert).to_contain_text("你是不是想写 'tensor'")
    expect(alert).not_to_contain_text("不允许")
    alert.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"did-you-mean-zh-{size}.png"))


def test_syntax_error_in_english(sized_page, shots):
    page, size = sized_page
    _run(page, "a = torch.tensor([2., 4.]\nb = a * 3", "Run")
    alert = page.locator('[data-testid="stAlert"]').first
    expect(alert).to_contain_text("Syntax error (line 1): '(' was never closed")
    expect(alert).not_to_contain_text("Python's own words")
    _run(page, "prnt(1)", "Run")
    expect(alert).to_contain_text("Did you mean 'print'?")
    alert.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"did-you-mean-en-{size}.png"))


def test_uploader_words_in_chinese(sized_page, shots):
    page, size = sized_page
    page.goto(page.url.rstrip("/") + "/training")
    wait_for_run(page)
    with app_run(page):
        page.locator('[data-testid="stSidebar"]').get_by_text("中文").click()
    zone = page.locator('[data-testid="stFileUploaderDropzone"]').first
    zone.scroll_into_view_if_needed()
    after = "el => getComputedStyle(el, '::after').content"
    button = zone.locator('[data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p').first
    note = zone.locator('[data-testid="stFileUploaderDropzoneInstructions"] span').first
    expect(button).to_be_visible()
    assert button.evaluate(after) == '"上传文件"'
    assert "每个文件最大" in note.evaluate(after) and "SAFETENSORS" in note.evaluate(after)
    page.screenshot(path=str(shots / f"uploader-zh-{size}.png"))


def test_values_in_their_dtype_look(sized_page, shots):
    page, size = sized_page
    with app_run(page):
        page.locator('[data-testid="stSidebar"]').get_by_text("中文").click()
    _run(page, "p = torch.tensor(3.14159)\nv = torch.tensor([2.0, 4.0])\nm = torch.tensor([[True], [False]])", "运行")
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text("3.14159", exact=True).first).to_be_visible()
    expect(main.get_by_text("3.141590118408203")).to_have_count(0)
    grid = main.locator('[data-testid="stDataFrame"]').nth(1)  # v's table: header 下标 / 值, values 2.0 and 4.0
    grid.scroll_into_view_if_needed()
    expect(grid).to_be_visible()
    page.screenshot(path=str(shots / f"values-zh-{size}.png"), full_page=True)
