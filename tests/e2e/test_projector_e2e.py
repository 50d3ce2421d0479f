"""Browser journeys for a projector (1280x720) and a laptop (1400x1000), in English and 中文: the graph fits its
column with the current node in view, ← → and PageUp/PageDown step, a click selects a node or opens a folded
module, presentation mode hides the editor and stays in the URL, the 20-layer MLP names its parameters and folds
by layer. Also writes the README's screenshots (docs/screenshots/, 1280x720)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.server import ROOT, app_run, svg_texts, wait_for_run
from tests.test_projector import MLP20 as MLP20_PROGRAM

pytestmark = pytest.mark.e2e

SIZES = {"720p": (1280, 720), "laptop": (1400, 1000)}
STEP = {"en": "Step {k} of {n}", "zh": "第 {k} / {n} 步"}
PRESENT = {"en": "Presentation mode", "zh": "演示模式"}
RUN = {"en": "Run and draw", "zh": "运行并绘图"}
PLAY = {"en": "Auto-play", "zh": "自动播放"}
DOCS = ROOT / "docs" / "screenshots"

MLP20 = MLP20_PROGRAM.rstrip("\n")  # the 20-layer MLP of the unit tests


@pytest.fixture
def sized(browser, server, request):
    """A page at the size the test is parametrized with (`size`), with the run counter installed."""
    from tests.e2e.server import RUN_COUNTER_JS

    w, h = SIZES[request.node.callspec.params["size"]]
    ctx = browser.new_context(viewport={"width": w, "height": h})
    ctx.add_init_script(RUN_COUNTER_JS)
    pg = ctx.new_page()
    yield pg
    ctx.close()


def _to_zh(page) -> None:  # noqa: ANN001
    """Pick 中文 in the sidebar (on a busy machine the page can still be inert from loading: retry, reloading)."""
    for attempt in range(3):
        try:
            with app_run(page):
                page.locator('[data-testid="stSidebar"]').get_by_text("中文").click(timeout=15_000)
            return
        except Exception:  # noqa: BLE001  Playwright's TimeoutError; the last attempt raises it
            if attempt == 2:
                raise
            page.reload()
            wait_for_run(page)


def _blur(page) -> None:  # noqa: ANN001
    """Focus out of any field, once the bridge (an iframe that loads after the run) listens for keys."""
    page.wait_for_function("() => typeof window.__aeBridgeOff === 'function'")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")


def _open(page, server, lang: str, query: str = "") -> None:  # noqa: ANN001
    page.goto(f"{server.url}/graph{query}")
    wait_for_run(page)
    if lang == "zh":
        _to_zh(page)
    expect(page.locator('.ae-graph[data-graph="main"] svg')).to_be_visible()


def _rect(page, selector: str) -> dict:  # noqa: ANN001
    return page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect(); return {l: r.left, "
                                 "r: r.right, t: r.top, b: r.bottom, w: r.width}; }")  # fmt: skip


def _current_in_view(page) -> None:  # noqa: ANN001
    """The box drawn as the current step (thick double border: its polygons come twice) lies inside the graph's
    scroll box, which lies inside the window."""
    box = _rect(page, '.ae-graph[data-graph="main"]')
    page.wait_for_function(
        """() => [...document.querySelectorAll('.ae-graph[data-graph="main"] g.node')].some(
             g => [...g.querySelectorAll('text')].some(t => t.textContent.startsWith('▶')))"""
    )
    node = page.evaluate(
        """() => { const g = [...document.querySelectorAll('.ae-graph[data-graph="main"] g.node')].find(
             g => [...g.querySelectorAll('text')].some(t => t.textContent.startsWith('▶')));
           const r = g.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom}; }"""
    )
    vw = page.viewport_size["width"]
    assert box["r"] <= vw + 1, (box, vw)
    assert box["l"] - 1 <= node["l"] and node["r"] <= box["r"] + 1, (node, box)
    assert box["t"] - 1 <= node["t"] and node["b"] <= box["b"] + 1, (node, box)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", list(SIZES))
def test_graph_fits_current_visible_keys_step(sized, server, lang, size):
    page = sized
    _open(page, server, lang)
    main = page.locator('[data-testid="stMain"]')
    svg = _rect(page, '.ae-graph[data-graph="main"] svg')
    col = _rect(page, '.ae-graph[data-graph="main"]')
    assert svg["w"] <= col["w"] + 1 and svg["r"] <= col["r"] + 1, (svg, col)  # the SVG fits its column
    expect(main.get_by_text(STEP[lang].format(k=6, n=6))).to_be_visible()
    _current_in_view(page)
    _blur(page)  # focus out of any field: the keys belong to the stepper
    with app_run(page):
        page.keyboard.press("ArrowLeft")
    expect(main.get_by_text(STEP[lang].format(k=5, n=6))).to_be_visible()
    with app_run(page):
        page.keyboard.press("PageUp")
    expect(main.get_by_text(STEP[lang].format(k=4, n=6))).to_be_visible()
    with app_run(page):
        page.keyboard.press("ArrowRight")
    expect(main.get_by_text(STEP[lang].format(k=5, n=6))).to_be_visible()
    _current_in_view(page)
    picker = main.locator('[data-testid="stSelectbox"]').filter(has_text=re.compile("^(Node|节点)"))
    expect(picker.locator("input")).to_have_value(re.compile("PowBackward0"))  # the inspector follows: step 5 is a**3
    main.locator("textarea").first.click()  # typing in the editor: arrows move the caret, not the step
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(500)
    expect(main.get_by_text(STEP[lang].format(k=5, n=6))).to_be_visible()
    _blur(page)
    with app_run(page):  # a click on a box selects it in the inspector
        page.locator('.ae-graph[data-graph="main"] g.node', has=page.locator("title", has_text=re.compile("^n0$"))
                     ).click()  # fmt: skip
    expect(picker.locator("input")).to_have_value(re.compile("^n0 "))
    if size == "720p":
        page.screenshot(path=str(ROOT / "test-results" / f"projector_graph_{lang}.png"))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["720p"])
def test_presentation_mode_hides_editor_and_stays_in_url(sized, server, lang, size):
    page = sized
    _open(page, server, lang)
    main = page.locator('[data-testid="stMain"]')
    expect(main.locator("textarea").first).to_be_visible()
    with app_run(page):
        main.get_by_text(PRESENT[lang]).click()
    expect(main.locator("textarea").first).to_be_hidden()
    assert "present=1" in page.url
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    _current_in_view(page)
    _blur(page)
    with app_run(page):
        page.keyboard.press("PageUp")
    expect(main.get_by_text(STEP[lang].format(k=5, n=6))).to_be_visible()
    page.screenshot(path=str(ROOT / "test-results" / f"present_{lang}.png"))
    with app_run(page):  # auto-play from step 5: one paced step to the end, then it stops
        main.get_by_text(PLAY[lang]).click()
    expect(main.get_by_text(STEP[lang].format(k=6, n=6))).to_be_visible()
    expect(main.locator(".st-key-gx_playing input")).not_to_be_checked()
    page.reload()  # the mode is in the URL
    wait_for_run(page)
    expect(main.locator(".ae-graph svg").first).to_be_visible()
    expect(main.locator("textarea").first).to_be_hidden()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["720p"])
def test_mlp20_names_parameters_and_folds_by_layer(sized, server, lang, size):
    page = sized
    _open(page, server, lang)
    main = page.locator('[data-testid="stMain"]')
    main.locator("textarea").first.fill(MLP20)
    with app_run(page):
        main.get_by_role("button", name=RUN[lang]).click()
    expect(page.locator('.ae-graph[data-graph="main"] svg text', has_text="layers.19").first).to_be_attached()
    texts = svg_texts(page)
    for i in range(20):
        assert f"layers.{i}" in texts
    assert "head" in texts and "bias, weight" in texts  # one box per layer, its parameters named
    assert "leaf0" not in texts and "layers.7.weight" not in texts  # folded: the layer's nodes are inside its box
    svg = _rect(page, '.ae-graph[data-graph="main"] svg')
    col = _rect(page, '.ae-graph[data-graph="main"]')
    assert svg["w"] <= col["w"] + 1
    box = page.locator('.ae-graph[data-graph="main"] g.node', has=page.locator("title", has_text=re.compile("^mod:")))
    target = box.filter(has=page.locator("text", has_text=re.compile(r"^layers\.7$"))).first
    target.scroll_into_view_if_needed()
    with app_run(page):  # a click opens the layer; it stays open while stepping
        target.click()
    expect(page.locator('.ae-graph[data-graph="main"] svg text', has_text="layers.7.weight").first).to_be_attached()
    _blur(page)
    with app_run(page):
        page.keyboard.press("ArrowLeft")
    assert "layers.7.weight" in svg_texts(page)
    page.screenshot(path=str(ROOT / "test-results" / f"mlp20_{lang}.png"))


PAGES = ["playground", "lessons", "graph", "training"]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["720p"])
def test_readme_screenshots(sized, server, lang, size):
    """Each page at 1280x720 in both languages, for the README (PNG, palette-reduced to stay small)."""
    from PIL import Image

    page = sized
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in PAGES:
        page.goto(f"{server.url}/{name}")
        wait_for_run(page)
        if lang == "zh":
            _to_zh(page)
        if name == "graph":
            expect(page.locator('.ae-graph[data-graph="main"] svg')).to_be_visible()
            page.locator(".ae-graph-wrap").first.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(400)
        path = DOCS / f"{name}_{lang}.png"
        page.screenshot(path=str(path))
        Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)
    page.goto(f"{server.url}/graph?present=1")
    wait_for_run(page)
    if lang == "zh":
        page.goto(f"{server.url}/graph")
        wait_for_run(page)
        _to_zh(page)
        with app_run(page):
            page.locator('[data-testid="stMain"]').get_by_text(PRESENT[lang]).click()
    expect(page.locator('.ae-graph[data-graph="main"] svg')).to_be_visible()
    page.wait_for_timeout(400)
    path = DOCS / f"graph_present_{lang}.png"
    page.screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)


@pytest.mark.parametrize("size", ["720p"])
def test_editor_is_monospaced_numbered_and_marks_the_error_line(sized, server, size):
    page = sized
    page.goto(f"{server.url}/")
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    area = main.locator("textarea").first
    area.fill("a = torch.ones(2)\nb = torch.ones(3)\nc = a + b\n")
    with app_run(page):
        area.press("Control+Enter")  # Ctrl+Enter still runs
    expect(main.get_by_text("line 3").first).to_be_visible()
    font = area.evaluate("e => getComputedStyle(e).fontFamily")
    assert "mono" in font.lower(), font
    a, b = area.evaluate("e => [getComputedStyle(e).backgroundImage, getComputedStyle(e).whiteSpace]")
    assert "%E2%96%B63" in a and b == "pre"  # the gutter numbers the lines and marks line 3 with a ▶
    page.screenshot(path=str(ROOT / "test-results" / "editor_error.png"))
