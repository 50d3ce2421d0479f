"""Lessons: over every file in lessons/ (found by glob), each loads, every snippet runs in the sandbox, quiz answers
match what it computes, both languages, no copied seed text; the loader names a broken file's place in both
languages; and AppTests of the page (pick, next/previous, run, quiz, language, deep link, a lesson added as a file,
broken files)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import lessons, links
from core.i18n import STRINGS
from core.lessons import Lesson, LessonError, Step
from core.sandbox.session import execute
from core.training.presets import PRESETS
from tests.conftest import open_page
from tools import seed_windows
from ui import state
from ui.common import PAGE_FILES
from ui.text import esc

PAGE_STRINGS = {k: v for k, v in STRINGS.items() if k.startswith("ls_")}  # the Lessons page's own strings

ROOT = Path(__file__).resolve().parents[1]
SEED_WINDOWS = ROOT / "tests" / "data" / "seed_windows.bin"  # fingerprints only: tools/seed_windows.py
FILES = lessons.lesson_files(lessons.LESSONS_DIR)  # every lesson file there is, not a fixed list of keys
# The lessons that load; a broken file fails its own test_every_lesson_file_loads... case, with the named message.
LESSONS: list[Lesson] = list(lessons.load_folder(lessons.LESSONS_DIR, PRESETS).lessons)
STEPS = [(ls.key, i, s) for ls in LESSONS for i, s in enumerate(ls.steps)]
CJK = re.compile(r"[\u4e00-\u9fff]")
CODE = re.compile(r"```.*?```|`[^`]*`", re.S)  # markdown code: fenced blocks and inline spans
NUMBER = re.compile(r"-?\d+(?:\.\d*)?")


@cache
def _run(key: str, i: int) -> dict:
    step = next(ls for ls in LESSONS if ls.key == key).steps[i]
    return execute(step.code, device="cpu", with_graph=step.graph)


def _ids(row: tuple[str, int, Step]) -> str:
    return f"{row[0]}-{row[1] + 1}"


# --- the content ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_lesson_file_loads_and_has_three_to_six_steps(path):
    lesson = lessons.read_lesson(path, PRESETS)
    assert lesson.file == path.name
    assert 3 <= len(lesson.steps) <= 6, lesson.key
    assert all(s in {"000", "001", "002", "003", "004"} for s in lesson.seeds)


def test_the_folder_loads_whole_and_covers_the_five_seeds():
    catalog = lessons.load_folder(lessons.LESSONS_DIR, PRESETS)
    assert catalog.problems == ()
    assert len(FILES) >= 5 and [ls.key for ls in catalog.lessons] == [ls.key for ls in LESSONS]
    assert len({ls.key for ls in LESSONS}) == len(LESSONS)
    assert {s for ls in LESSONS for s in ls.seeds} >= {"000", "001", "002", "003", "004"}
    assert lessons.by_key("autograd") == next(ls for ls in LESSONS if ls.key == "autograd")


@pytest.mark.parametrize("row", STEPS, ids=_ids)
def test_snippet_runs_in_the_sandbox(row):
    key, i, step = row
    assert step.code, "every step of these lessons has code to run"
    result = _run(key, i)
    assert result["ok"], result.get("error")
    if step.graph:
        assert result["graph"]["nodes"], "an autograd step draws a graph"


@pytest.mark.parametrize("row", [r for r in STEPS if r[2].quiz and r[2].quiz.check], ids=_ids)
def test_quiz_answer_is_what_the_sandbox_computes(row):
    key, i, step = row
    quiz, result = step.quiz, _run(key, i)
    assert lessons.agrees(quiz.check, result), (quiz.check, lessons.observed(result, quiz.check))
    got = lessons.observed(result, quiz.check)
    numbers = lessons._numbers(got)

    def says(choice: str) -> bool:  # does this choice's text state what the run produced?
        text = choice.replace(",", "") if numbers is not None else choice
        if numbers is None:
            return str(got) in text
        found = [float(n) for n in NUMBER.findall(text.replace("[", " ").replace("]", " "))]
        return len(found) == len(numbers) and all(abs(a - b) <= quiz.check.tol for a, b in zip(found, numbers))

    verdicts = [says(c.en) for c in quiz.choices]
    assert verdicts[quiz.answer], f"the right choice {quiz.choices[quiz.answer].en!r} does not say {got!r}"
    assert sum(verdicts) == 1, f"more than one choice fits {got!r}"


def test_quizzes_are_well_formed():
    quizzes = [s.quiz for _, _, s in STEPS if s.quiz]
    assert len(quizzes) >= 15
    for q in quizzes:
        assert 2 <= len(q.choices) <= 4 and 0 <= q.answer < len(q.choices)
        assert len({c.en for c in q.choices}) == len(q.choices)


def test_every_text_in_both_languages():
    for ls in LESSONS:
        for text in lessons.texts(ls):
            assert text.en.strip() and text.zh.strip()
            if CJK.search(text.zh) is None:  # numbers and code read the same in both languages; words do not
                assert text.zh == text.en and not re.search(r"[A-Za-z]{3,}", CODE.sub("", text.zh)), text
        prose = [ls.title, ls.summary] + [t for s in ls.steps for t in (s.title, s.body)]
        prose += [t for s in ls.steps if s.quiz for t in (s.quiz.question, s.quiz.why)]
        for text in prose:
            assert CJK.search(text.zh) and text.zh != text.en, text.en
    for key, entry in PAGE_STRINGS.items():
        assert entry["en"] and CJK.search(entry["zh"]) or key == "ls_step_head", key


def test_no_chinese_text_copies_a_seed():
    digests = seed_windows.load(SEED_WINDOWS)
    assert len(digests) > 20_000, "the fingerprints of all five seed articles"
    ours = [t.zh for ls in LESSONS for t in lessons.texts(ls)] + [e["zh"] for e in PAGE_STRINGS.values()]
    copied = []
    for text in ours:
        prose = CODE.sub("\x00", text)  # code (`torch.randn_like`, fenced blocks) is API, not wording: cut it out
        copied += seed_windows.copied(prose, digests)
    assert not copied, f"copied from a seed: {copied}"


def test_a_copied_window_is_detected(tmp_path):
    # A made-up article in a made-up seeds folder, fingerprinted by the same script that wrote the real fixture.
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    article = "张量是深度学习框架里最基本的数据结构，梯度沿着计算图反向传播。"
    (seeds / "000_made_up.txt").write_text(article, encoding="utf-8")
    fixture = tmp_path / "windows.bin"
    assert seed_windows.main([str(seeds), "-o", str(fixture)]) == 0
    data = fixture.read_bytes()
    assert article[:15].encode() not in data and len(data) == 8 + 8 * (len(article) - 14)
    digests = seed_windows.load(fixture)
    lesson = "我们换一种说法：" + article[3:19] + "。"  # 16 copied characters = two copied windows
    assert seed_windows.copied(lesson, digests) == [article[3:18], article[4:19]]
    assert seed_windows.copied("我们换一种说法：" + article[3:17] + "。", digests) == []  # 14 characters pass
    assert seed_windows.copied(CODE.sub("\x00", "`" + article[:20] + "`"), digests) == []  # code is cut out


def test_targets_and_handoff():
    """Every "open in" target is a page of the app, and its link carries the snippet (or the preset) exactly."""
    for _, _, step in STEPS:
        assert step.target is not None and step.target.page in PAGE_FILES
        assert (ROOT / PAGE_FILES[step.target.page]).exists()
        if step.target.page == "training":
            assert step.target.preset in PRESETS
            assert state.link("training", preset=step.target.preset) == {"preset": step.target.preset}
        else:
            query = state.link(step.target.page, code=step.code)
            assert list(query) == ["code"] and links.decode_program(query["code"]) == step.code


@pytest.mark.apptest
def test_handoff_link_runs_on_arrival():
    """The graph explorer opened by a lesson's link shows that snippet, already run, at its last backward step."""
    step = lessons.by_key("autograd").steps[1]
    at = open_page("pages/graph.py", **state.link("graph", code=step.code))
    assert at.session_state["gx_code"] == step.code
    result = at.session_state["gx_result"]
    assert result["ok"] and result["variables"]["a"]["grad"] == [36.0, 144.0]
    assert at.session_state["gx_step"] == len(result["backward_steps"])


def test_seed_004_is_taught_as_written():
    result = _run("autograd", 1)
    assert result["variables"]["a"]["grad"] == [36.0, 144.0]
    assert result["variables"]["b"]["grad"] == [-14.0, -10.0]
    assert "tensor([ 36., 144.])" in result["stdout"]


# --- the page -----------------------------------------------------------------------------------------------------


def _page(**query: str) -> AppTest:
    return open_page("pages/lessons.py", **query)


def _heads(at: AppTest) -> list[str]:
    return [h.value for h in at.subheader]


@pytest.mark.apptest
def test_page_pick_navigate_run_and_quiz():
    at = _page()
    assert at.title[0].value == "Lessons"
    assert _heads(at)[0] == "1. What a tensor is"
    assert at.button(key="ls_prev").disabled
    at.selectbox(key="ls_pick").set_value("autograd").run()
    assert _heads(at)[0] == "1. Asking PyTorch to keep track"
    at.button(key="ls_next").click().run()
    assert _heads(at)[0] == "2. backward with a gradient vector"
    assert at.get("progress")[0].proto.text == "Step 2 of 5"
    assert at.query_params["lesson"] == "autograd" and at.query_params["step"] == "2"

    at.radio(key="ls_quiz_autograd_1").set_value(1).run()  # wrong, before running: hint to run
    assert at.warning and "Run here" in at.warning[0].value
    at.button(key="ls_run").click().run()
    assert not at.exception and not at.error
    assert any("tensor([ 36., 144.])" in c.value for c in at.code)
    names = set().union(*(df.value.get("name", []) for df in at.dataframe))
    assert {"a", "b", "E"} <= names
    html = "".join(m.value for m in at.markdown if 'class="ae-graph"' in m.value)
    assert "36" in html and "144" in html
    at.radio(key="ls_quiz_autograd_1").set_value(0).run()
    assert at.success and "9a²" in at.success[0].value
    assert any("The run agrees" in c.value and "144.0" in c.value for c in at.caption)

    at.button(key="ls_prev").click().run()
    assert _heads(at)[0] == "1. Asking PyTorch to keep track"
    assert any("Press **Run here**" in i.value for i in at.info)  # each step keeps its own result
    at.button(key="ls_next").click().run()
    assert any("tensor([ 36., 144.])" in c.value for c in at.code)


@pytest.mark.apptest
def test_page_last_step_offers_next_lesson_and_language_switch():
    at = _page(lesson="loop", step="4")
    assert _heads(at)[0] == "4. Let PyTorch do the chores"
    assert at.button(key="ls_open").label == "Open in Training Studio"
    assert "ls_next" not in [b.key for b in at.button]
    at.button(key="ls_next_lesson").click().run()
    assert at.session_state["ls_lesson"] == "classifier" and at.session_state["ls_step"] == 0
    assert _heads(at)[0] == "1. Data in mini-batches"
    at.session_state["lang"] = "zh"
    at.run()
    assert at.title[0].value == "课程"
    assert _heads(at)[0] == "1. 按小批量取数据"
    assert at.button(key="ls_run").label == "在此运行"
    assert at.button(key="ls_open").label == "在张量游乐场中打开"
    assert at.get("progress")[0].proto.text == "第 1 步，共 5 步"


# --- the loader: a broken file is named, with its line and place, in both languages -----------------------------

GOOD = (lessons.LESSONS_DIR / "03_autograd.yaml").read_text(encoding="utf-8")


def _example() -> str:
    """The complete example file of README.md's 'Writing a lesson' section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Writing a lesson", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def _problem(tmp_path: Path, text: str, name: str = "07_broken.yaml") -> lessons.Problem:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LessonError) as caught:
        lessons.read_lesson(path, PRESETS)
    return caught.value.problem


BROKEN = {
    # name: (how the good file is broken, English words the message must hold, its line, its place)
    "bad_yaml": (lambda s: s.replace("  zh: 自动求导：E = 3a³ − b²", "  zh: [自动求导"), "not valid YAML", 6, None),
    "not_a_mapping": (lambda s: "- just\n- a list\n", "mapping", 1, None),
    "missing_zh": (
        lambda s: s.replace("    zh: 让 PyTorch 记下每一步运算\n", ""),
        "'zh' is missing",
        12,
        "step 1 › title",
    ),
    "unknown_field": (
        lambda s: s.replace("  graph: true\n", "  graph: true\n  grpah: true\n", 1),
        "unknown field 'grpah'",
        26,
        "step 1",
    ),
    "wrong_type": (lambda s: s.replace("    answer: 0\n", "    answer: first\n", 1), "whole number", 40, None),
    "answer_out_of_range": (
        lambda s: s.replace("    answer: 0\n", "    answer: 3\n", 1),
        "answer 3 is not one of the 3 choices",
        40,
        "step 1 › quiz › answer",
    ),
    "unknown_page": (
        lambda s: s.replace("    page: graph\n", "    page: grahp\n", 1),
        "unknown page 'grahp'",
        24,
        "step 1 › target › page",
    ),
    "unknown_check_field": (
        lambda s: s.replace("      field: value\n", "      field: values\n", 1),
        "cannot read 'values'",
        46,
        "step 1 › quiz › check › field",
    ),
}


def test_the_broken_cases_break_the_file_they_say():
    for name, (edit, *_rest) in BROKEN.items():
        assert edit(GOOD) != GOOD, name


@pytest.mark.parametrize("case", list(BROKEN), ids=str)
def test_a_broken_file_is_named_with_its_line_and_place(tmp_path, case):
    edit, words, line, place = BROKEN[case]
    problem = _problem(tmp_path, edit(GOOD))
    text = problem.text("en")
    assert text.startswith("07_broken.yaml (") and words in text, text
    assert problem.line == line, text
    if place is not None:
        assert problem.place("en") == place, text
    zh = problem.text("zh")
    assert zh.startswith("07_broken.yaml（") and CJK.search(zh) and zh != text
    if place is not None and "step 1" in place:
        assert "第 1 步" in zh


def test_unknown_preset_and_misplaced_preset(tmp_path):
    loop = (lessons.LESSONS_DIR / "04_loop.yaml").read_text(encoding="utf-8")
    problem = _problem(tmp_path, loop.replace("preset: linear_nn", "preset: linear_nm"))
    assert "unknown training preset 'linear_nm'" in problem.text("en") and "linear_nn" in problem.text("en")
    problem = _problem(tmp_path, loop.replace("preset: linear_nn", "preset: ''"))
    assert "needs a preset" in problem.text("en")
    problem = _problem(tmp_path, GOOD.replace("    page: graph\n", "    page: graph\n    preset: linear\n", 1))
    assert "only with page: training" in problem.text("en")


def test_folder_keeps_the_good_lessons_and_names_each_bad_file(tmp_path):
    (tmp_path / "01_good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "02_same_key.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "03_bad.yml").write_text("key: [", encoding="utf-8")
    (tmp_path / "04_binary.yaml").write_bytes(b"key: \xff\xfe")
    (tmp_path / "notes.txt").write_text("not a lesson", encoding="utf-8")
    catalog = lessons.load_folder(tmp_path, PRESETS)
    assert [ls.key for ls in catalog.lessons] == ["autograd"]
    assert [p.file for p in catalog.problems] == ["02_same_key.yaml", "03_bad.yml", "04_binary.yaml"]
    assert "already used by 01_good.yaml" in catalog.problems[0].text("en")
    assert "UTF-8" in catalog.problems[2].text("en")
    empty = lessons.load_folder(tmp_path / "nothing", PRESETS)
    assert empty.lessons == () and "no lesson files" in empty.problems[0].text("en")


def test_catalog_rereads_a_changed_folder(tmp_path):
    (tmp_path / "01_a.yaml").write_text(GOOD, encoding="utf-8")
    first = lessons.catalog(tmp_path, PRESETS)
    assert lessons.catalog(tmp_path, PRESETS) is first  # nothing changed: not read again
    (tmp_path / "02_example.yaml").write_text(_example(), encoding="utf-8")
    assert [ls.key for ls in lessons.catalog(tmp_path, PRESETS).lessons] == ["autograd", "chain_rule"]


def test_the_readme_example_is_a_working_lesson(tmp_path):
    path = tmp_path / "06_chain_rule.yaml"
    path.write_text(_example(), encoding="utf-8")
    lesson = lessons.read_lesson(path, PRESETS)
    step = lesson.steps[0]
    result = execute(step.code, device="cpu", with_graph=step.graph)
    assert result["ok"] and lessons.agrees(step.quiz.check, result)
    assert result["variables"]["x"]["grad"] == 12.0 and step.quiz.choices[step.quiz.answer].en == "12.0"
    assert step.target is not None and step.target.page == "graph"


def test_the_schema_is_valid_json_schema():
    import jsonschema

    schema = json.loads(lessons.SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.apptest
def test_page_shows_a_lesson_added_as_a_file(tmp_path, monkeypatch):
    for path in FILES:
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "06_chain_rule.yaml").write_text(_example(), encoding="utf-8")
    monkeypatch.setenv(lessons.LESSONS_ENV, str(tmp_path))
    at = _page(lesson="chain_rule")
    assert _heads(at)[0] == "1. Square, then triple"
    assert at.selectbox(key="ls_pick").options[-1] == "6. The chain rule"
    assert not at.error and not at.warning
    at.button(key="ls_run").click().run()
    at.radio(key="ls_quiz_chain_rule_0").set_value(1).run()
    assert at.success and "6 · x = 6 · 2 = 12." in at.success[0].value
    assert any("The run agrees" in c.value and "12.0" in c.value for c in at.caption)
    at.session_state["lang"] = "zh"
    at.run()
    assert _heads(at)[0] == "1. 先平方，再乘 3"


@pytest.mark.apptest
def test_page_names_a_broken_file_and_still_shows_the_rest(tmp_path, monkeypatch):
    (tmp_path / "01_autograd.yaml").write_text(GOOD, encoding="utf-8")
    broken = GOOD.replace("key: autograd", "key: other").replace("answer: 0", "answer: 9")
    (tmp_path / "02_broken.yaml").write_text(broken, encoding="utf-8")
    (tmp_path / "03_[x](https:evil).yaml").write_text("key: [")
    monkeypatch.setenv(lessons.LESSONS_ENV, str(tmp_path))
    at = _page()
    assert _heads(at)[0] == "1. Asking PyTorch to keep track"
    assert at.selectbox(key="ls_pick").options == ["1. Autograd: E = 3a³ − b²"]
    assert "could not be loaded" in at.warning[0].value
    errors = [e.value for e in at.error]
    assert len(errors) == 2
    assert errors[0] == esc(
        "02_broken.yaml (line 40, step 1 › quiz › answer): answer 9 is not one of the 3 choices: "
        "count from 0, so use 0 to 2"
    )
    assert "](" not in errors[1] and esc("03_[x](https:evil).yaml (line 1") in errors[1]  # echoed as plain text
    at.session_state["lang"] = "zh"
    at.run()
    assert "无法载入" in at.warning[0].value and "第 40 行" in at.error[0].value and "第 1 步" in at.error[0].value
