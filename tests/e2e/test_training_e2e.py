"""Browser journey: the Training Studio's loss curve grows while playing and stops on pause."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.server import app_run, wait_for_run

pytestmark = pytest.mark.e2e

# The last step drawn on the loss chart (the curve is thinned to a bounded number of points, so its
# point count stops growing; its x range does not).
POINTS_JS = """() => {
  for (const el of document.querySelectorAll('.js-plotly-plot')) {
    const layout = el.layout || {};
    const title = String((layout.title && (layout.title.text || layout.title)) || '');
    if (title.replace(/<[^>]*>/g, '').startsWith('Loss')) {
      const xs = ((el._fullData || [])[0] || {}).x || [];
      return xs.length ? Number(xs[xs.length - 1]) : 0;
    }
  }
  return -1;
}"""


def _points(page) -> int:  # noqa: ANN001
    return page.evaluate(POINTS_JS)


def test_curve_grows_while_playing_and_stops_on_pause(page, server, shots):
    page.goto(f"{server.url}/training?preset=spiral")
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_role("heading", name="Training Studio")).to_be_visible()
    expect(main.get_by_text("parameters").first).to_contain_text("2274 parameters")  # spiral: a 3x32 MLP
    main.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({POINTS_JS})() > 5", timeout=60_000)
    first = _points(page)
    page.wait_for_function(f"({POINTS_JS})() > {first}", timeout=60_000)
    page.screenshot(path=str(shots / "training_playing.png"), full_page=True)
    with app_run(page):
        main.get_by_role("button", name="Pause").click()
    paused = _points(page)
    page.wait_for_timeout(2_000)  # a time window on purpose: the claim is that nothing happens in it
    assert _points(page) == paused  # nothing advances while paused
    expect(page.locator('[data-testid="stGraphVizChart"] svg, .ae-graph svg').first).to_be_attached()
    page.screenshot(path=str(shots / "training_paused.png"), full_page=True)


def test_click_on_loss_curve_opens_that_step(page, server):
    page.goto(f"{server.url}/training?preset=linear")
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    for _ in range(20):
        with app_run(page):
            main.get_by_role("button", name="Step").click()
    drag = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first
    box = drag.bounding_box()
    where = {"x": box["width"] * 0.5, "y": box["height"] * 0.3}
    drag.hover(position=where)  # plotly picks the point under the hover, then the click selects it
    with app_run(page):
        drag.click(position=where)  # the chart's run sets the step, then reruns the whole page for the inspector
    replayed = main.get_by_text(re.compile(r"^Step ([5-9]|1[0-5]) replayed"))  # the middle of a 20-step curve
    expect(replayed).to_have_count(1)  # (before the click it said "Step 19 replayed")
    step = re.match(r"Step (\d+)", replayed.inner_text()).group(1)
    expect(main.get_by_label("Step to replay (or click a point of the loss curve)")).to_have_value(step)


@pytest.mark.parametrize(("lang", "width", "height"), [("en", 1400, 1000), ("zh", 1280, 720)])
def test_cnn_step_graph_with_stepper(page, server, shots, lang, width, height):
    """The CNN preset's step graph: the Graph Explorer's renderer with values on every node, and its stepper."""
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{server.url}/training?preset=digits_cnn")
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    words = {"en": ("Step", "Back", "Node inspector"), "zh": ("单步", "后退", "节点详情")}[lang]
    expect(main.get_by_text("1386 parameters")).to_be_attached()  # the CNN's settings are in
    if lang == "zh":
        with app_run(page):
            page.locator('[data-testid="stSidebar"]').get_by_text("中文").click()
        expect(page.locator("h1").first).to_have_text("训练工作室")
        wait_for_run(page)
        expect(main.get_by_text("1386 个参数")).to_be_attached()  # the language changed, not the preset
    for _ in range(2):
        with app_run(page):
            main.get_by_role("button", name=words[0], exact=True).click()
    graph = main.locator('.ae-graph[data-graph="training"] svg')
    expect(graph).to_be_attached()
    for text in ("conv = convolution", "pool = max_pool2d_with_indices", "bn = native_batch_norm", "x batch"):
        expect(graph.locator("text", has_text=text).first).to_be_attached()
    value = "value [32, 8, 8, 8] in" if lang == "en" else "值 [32, 8, 8, 8] in"
    expect(graph.locator("text", has_text=value).first).to_be_attached()  # an intermediate node shows its value
    expect(main.get_by_role("heading", name=words[2])).to_be_attached()
    with app_run(page):
        main.get_by_role("button", name=words[1]).click()
    graph.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"training_cnn_graph_{lang}_{width}.png"), full_page=False)
