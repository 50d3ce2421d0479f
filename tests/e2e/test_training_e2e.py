"""Browser journey: the Training Studio's loss curve grows while playing and stops on pause."""

from __future__ import annotations

import pytest

from tests.e2e.server import wait_for_run

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
    main.get_by_role("heading", name="Training Studio").wait_for()
    assert "2274 parameters" in main.get_by_text("parameters").first.inner_text()  # spiral: a 3x32 MLP
    main.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({POINTS_JS})() > 5", timeout=60_000)
    first = _points(page)
    page.wait_for_function(f"({POINTS_JS})() > {first}", timeout=60_000)
    grown = _points(page)
    assert grown > first
    page.screenshot(path=str(shots / "training_playing.png"), full_page=True)
    main.get_by_role("button", name="Pause").click()
    wait_for_run(page)
    paused = _points(page)
    page.wait_for_timeout(2_000)
    assert _points(page) == paused  # nothing advances while paused
    page.locator('[data-testid="stGraphVizChart"] svg, .ae-graph svg').first.wait_for(timeout=60_000)
    page.screenshot(path=str(shots / "training_paused.png"), full_page=True)


def test_click_on_loss_curve_opens_that_step(page, server):
    page.goto(f"{server.url}/training?preset=linear")
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    for _ in range(20):
        main.get_by_role("button", name="Step").click()
        wait_for_run(page, quiet_ms=300)
    drag = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first
    box = drag.bounding_box()
    where = {"x": box["width"] * 0.5, "y": box["height"] * 0.3}
    drag.hover(position=where)
    page.wait_for_timeout(300)
    drag.click(position=where)
    wait_for_run(page)
    page.wait_for_timeout(500)
    wait_for_run(page)
    step = int(page.locator("input[type=number]").evaluate_all("els => els.map(e => e.value)")[-1])
    assert 5 <= step <= 15  # the middle of a 20-step curve
    assert main.get_by_text(f"Step {step} replayed").count() == 1
