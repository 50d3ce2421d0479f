"""Browser journeys: a lesson added as a file (README's example) next to a broken file, its step exported as .py
and .ipynb and the .py run in a fresh interpreter; a training run downloaded as a script; both languages, at
1400x1000 and 1280x720."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest
from playwright.sync_api import expect

from core import lessons
from tests.e2e.server import StreamlitServer, app_run, wait_for_run
from tests.test_lessons import _example

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lessons_server(tmp_path_factory):
    """A server whose lessons folder holds the shipped lessons, the README's example and a broken file."""
    folder = tmp_path_factory.mktemp("lessons")
    for path in lessons.lesson_files(lessons.LESSONS_DIR):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "06_chain_rule.yaml").write_text(_example(), encoding="utf-8")
    broken = (lessons.LESSONS_DIR / "03_autograd.yaml").read_text(encoding="utf-8")
    broken = broken.replace("key: autograd", "key: broken").replace("answer: 0", "answer: 7", 1)
    (folder / "07_broken.yaml").write_text(broken, encoding="utf-8")
    (lessons.ROOT / "test-results").mkdir(exist_ok=True)  # the server's log goes there
    old = os.environ.get(lessons.LESSONS_ENV)
    os.environ[lessons.LESSONS_ENV] = str(folder)
    try:
        srv = StreamlitServer()
    finally:
        if old is None:
            os.environ.pop(lessons.LESSONS_ENV)
        else:
            os.environ[lessons.LESSONS_ENV] = old
    try:
        srv.wait()
        yield srv
    finally:
        srv.stop()


def _run_fresh(path, cwd) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-I", str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_a_lesson_file_shows_runs_and_exports(browser, lessons_server, shots, tmp_path):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    from tests.e2e.server import RUN_COUNTER_JS

    ctx.add_init_script(RUN_COUNTER_JS)
    page = ctx.new_page()
    page.goto(f"{lessons_server.url}/lessons?lesson=chain_rule&step=1")
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_role("heading", name="1. Square, then triple")).to_be_visible()
    expect(main.get_by_text("could not be loaded")).to_be_visible()
    expect(main.get_by_text("07_broken.yaml (line 40, step 1 › quiz › answer): answer 7")).to_be_visible()
    expect(main.get_by_role("combobox").first).to_be_visible()
    page.screenshot(path=str(shots / "lessons_file_problem_en_1400.png"))
    with app_run(page):
        main.get_by_role("button", name="Run here").click()
    with app_run(page):
        main.get_by_text("12.0", exact=True).first.click()
    expect(main.get_by_text("The run agrees")).to_be_visible()
    page.screenshot(path=str(shots / "lessons_file_en_1400.png"), full_page=True)

    with page.expect_download() as info:
        main.get_by_role("button", name="Download .py").click()
    script = tmp_path / info.value.suggested_filename
    info.value.save_as(script)
    assert script.name == "chain_rule_step1.py"
    out = _run_fresh(script, tmp_path)
    assert "x.grad = 12.0" in out and "y = 12.0" in out
    with page.expect_download() as info:
        main.get_by_role("button", name="Download notebook (.ipynb)").click()
    nb = nbformat.reads(info.value.path().read_text(encoding="utf-8"), as_version=4)
    assert "6x" in nb.cells[1].source and nb.cells[-1].source.startswith("# The autograd graph of `y`")

    page.set_viewport_size({"width": 1280, "height": 720})
    with app_run(page):
        page.locator('[data-testid="stSidebar"]').get_by_text("中文").click()
    expect(main.get_by_role("heading", name="1. 先平方，再乘 3")).to_be_visible()
    expect(main.get_by_text("07_broken.yaml（第 40 行，第 1 步 › quiz › answer）出错")).to_be_visible()
    expect(main.get_by_role("button", name="下载 .py 脚本")).to_be_visible()
    expect(main.get_by_role("button", name="下载笔记本（.ipynb）")).to_be_visible()
    page.screenshot(path=str(shots / "lessons_file_zh_1280.png"), full_page=True)
    ctx.close()


def test_training_run_downloads_as_a_script(browser, server, shots, tmp_path):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, accept_downloads=True)
    from tests.e2e.server import RUN_COUNTER_JS

    ctx.add_init_script(RUN_COUNTER_JS)
    page = ctx.new_page()
    page.goto(f"{server.url}/training?preset=linear&steps=40")
    wait_for_run(page)
    main = page.locator('[data-testid="stMain"]')
    with app_run(page):
        main.get_by_role("button", name="Step").click()
    with app_run(page):
        main.get_by_role("button", name="Step").click()
    button = main.get_by_role("button", name="Download this run as a .py")
    button.scroll_into_view_if_needed()
    expect(button).to_be_visible()
    page.screenshot(path=str(shots / "training_export_en_1280.png"))
    with page.expect_download() as info:
        button.click()
    script = tmp_path / info.value.suggested_filename
    info.value.save_as(script)
    assert script.name == "train_linear.py"
    out = _run_fresh(script, tmp_path)
    assert "2 steps" in out
    assert len(json.loads((tmp_path / "linear_loss.json").read_text())) == 2
    ctx.close()
