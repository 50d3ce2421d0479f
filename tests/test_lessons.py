"""Lessons: every snippet runs in the sandbox, quiz answers match what it prints, both languages, no copied seed
text, and an AppTest of the page (pick, next/previous, run, quiz, language, deep link)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import lessons
from core.i18n import STRINGS
from core.lessons import LESSONS, Step
from core.sandbox.session import execute
from core.training.presets import PRESETS
from tests.conftest import open_page
from tools import seed_windows

PAGE_STRINGS = {k: v for k, v in STRINGS.items() if k.startswith("ls_")}  # the Lessons page's own strings

ROOT = Path(__file__).resolve().parents[1]
SEED_WINDOWS = ROOT / "tests" / "data" / "seed_windows.bin"  # fingerprints only: tools/seed_windows.py
STEPS = [(ls.key, i, s) for ls in LESSONS for i, s in enumerate(ls.steps)]
CJK = re.compile(r"[\u4e00-\u9fff]")
CODE = re.compile(r"```.*?```|`[^`]*`", re.S)  # markdown code: fenced blocks and inline spans
NUMBER = re.compile(r"-?\d+(?:\.\d*)?")


@cache
def _run(key: str, i: int) -> dict:
    step = lessons.by_key(key).steps[i]
    return execute(step.code, device="cpu", with_graph=step.graph)


def _ids(row: tuple[str, int, Step]) -> str:
    return f"{row[0]}-{row[1] + 1}"


# --- the content ------------------------------------------------------------------------------------------------


def test_five_lessons_of_three_to_six_steps():
    assert [ls.key for ls in LESSONS] == ["tensors", "operations", "autograd", "loop", "classifier"]
    assert len({ls.key for ls in LESSONS}) == len(LESSONS)
    for ls in LESSONS:
        assert 3 <= len(ls.steps) <= 6, ls.key
        assert ls.seeds and all(s in {"000", "001", "002", "003", "004"} for s in ls.seeds)
    assert {s for ls in LESSONS for s in ls.seeds} == {"000", "001", "002", "003", "004"}


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
    for _, _, step in STEPS:
        assert step.target is not None and step.target.page in lessons.PAGE_FILES
        page, values, drop = lessons.handoff(step)
        assert (ROOT / page).exists()
        if step.target.page == "training":
            assert step.target.preset in PRESETS and values == {"tr_preset": step.target.preset}
        else:
            assert list(values.values()) == [step.code]
    graph_step = lessons.by_key("autograd").steps[1]
    assert lessons.handoff(graph_step) == (
        "pages/graph.py",
        {"gx_code": graph_step.code},
        ("gx_result", "gx_step", "gx_check", "gx_expand"),
    )


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
