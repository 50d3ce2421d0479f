"""Guided lessons: the data model, the loader of the lesson files (lessons/*.yaml) and the quiz check helpers."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from core.i18n import t
from core.limits import MAX_LESSON_FILE_BYTES, MAX_SOURCE_CHARS
from core.messages import Message

# --- the data model -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One text in both UI languages (markdown)."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def same(text: str) -> Text:
    """A text that reads the same in both languages (numbers, code)."""
    return Text(text, text)


@dataclass(frozen=True)
class Check:
    """Where a run of the step's snippet holds the quiz's answer: `variables[name][field]` should equal `expected`.

    `field` is a key of the sandbox's variable record: "value", "grad", "shape", "dtype", "requires_grad".
    Numbers (and nested lists of numbers) compare within `tol`; anything else compares exactly.
    """

    name: str
    field: str
    expected: Any
    tol: float = 1e-4


@dataclass(frozen=True)
class Quiz:
    """A multiple-choice question: the index of the right choice and a one-line reason."""

    question: Text
    choices: tuple[Text, ...]
    answer: int
    why: Text
    check: Check | None = None


@dataclass(frozen=True)
class Target:
    """Where "try it" opens the step: the playground or the graph explorer (with the snippet), or a training preset."""

    page: str  # "playground" | "graph" | "training"
    preset: str = ""


@dataclass(frozen=True)
class Step:
    """One screen of a lesson. `graph`: a run here also draws the autograd graph."""

    title: Text
    body: Text
    code: str = ""
    target: Target | None = None
    quiz: Quiz | None = None
    graph: bool = False


@dataclass(frozen=True)
class Lesson:
    """A titled sequence of steps; `seeds` names the seed articles it teaches from; `file` the file it came from."""

    key: str
    title: Text
    summary: Text
    seeds: tuple[str, ...]
    steps: tuple[Step, ...]
    file: str = field(default="", compare=False)


# --- where lessons come from: one YAML file per lesson, both languages in it --------------------------------------

PLAYGROUND = Target("playground")
GRAPH = Target("graph")
TARGET_PAGES = ("playground", "graph", "training")  # where a step's "open in" can lead
CHECK_FIELDS = ("value", "grad", "shape", "dtype", "requires_grad", "is_leaf", "device")  # keys of a variable record

ROOT = Path(__file__).resolve().parents[1]
LESSONS_DIR = ROOT / "lessons"  # content, not code: a teacher adds a lesson by adding a file here
LESSONS_ENV = "AUTOGRAD_LESSONS_DIR"  # another folder instead (tests, a school's own set)
SCHEMA_FILE = ROOT / "docs" / "lesson.schema.json"
PATTERNS = ("*.yaml", "*.yml")  # lessons are shown in file-name order: 01_tensors.yaml, 02_...


@dataclass(frozen=True)
class Problem:
    """Why one lesson file was not loaded: the file, the line and the place in it, and what is wrong (i18n)."""

    file: str
    message: Message
    path: tuple[str | int, ...] = ()
    line: int | None = None

    def place(self, lang: str) -> str:
        """The place as a reader counts: `step 3 › quiz › answer` (steps and choices from 1)."""
        parts: list[str] = []
        prev: str | int | None = None
        for part in self.path:
            if isinstance(part, int) and prev in ("steps", "choices"):
                parts[-1] = t("ls_err_place_step" if prev == "steps" else "ls_err_place_choice", lang, n=part + 1)
            else:
                parts.append(str(part))
            prev = part
        return " › ".join(parts)

    def text(self, lang: str = "en") -> str:
        """One line naming the file, the line and the place, then the problem."""
        where = [t("ls_err_line", lang, line=self.line)] if self.line is not None else []
        if self.path:
            where.append(self.place(lang))
        args = {k: v.text(lang) if isinstance(v, Message) else v for k, v in self.message.args.items()}
        problem = t(self.message.key, lang, **args)
        sep = "，" if lang == "zh" else ", "
        return t("ls_err_file", lang, file=self.file, where=sep.join(where) or "-", problem=problem)

    def __str__(self) -> str:
        return self.text("en")


class LessonError(ValueError):
    """A lesson file that cannot be used; carries the Problem to show."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class Catalog:
    """The lessons found in a folder, in file-name order, and the files that could not be loaded."""

    folder: Path
    lessons: tuple[Lesson, ...]
    problems: tuple[Problem, ...]

    def by_key(self, key: str | None) -> Lesson | None:
        return next((ls for ls in self.lessons if ls.key == key), None)


def lessons_dir() -> Path:
    """The lessons folder: $AUTOGRAD_LESSONS_DIR when set, else lessons/ at the top of the repository."""
    return Path(os.environ.get(LESSONS_ENV) or LESSONS_DIR)


def lesson_files(folder: Path) -> list[Path]:
    """Every lesson file in `folder` (not below it), sorted by name."""
    if not folder.is_dir():
        return []
    return sorted({p for pattern in PATTERNS for p in folder.glob(pattern) if p.is_file()}, key=lambda p: p.name)


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _line(text: str, path: tuple[str | int, ...], key: str | None = None) -> int | None:
    """The 1-based line of `path` in the YAML `text` (of the key `key` inside it, when given), or None."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = [v for k, v in node.value if k.value == part]
            if not found:
                break
            node = found[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            break
    if key is not None and isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if k.value == key:
                return int(k.start_mark.line) + 1
    return None if node is None else int(node.start_mark.line) + 1


_TYPE_WORDS = ("object", "string", "integer", "number", "array", "boolean")


def _schema_message(error: Any) -> tuple[Message, str | None]:
    """A jsonschema error as a Message a teacher can act on, and the key it is about (for the line number)."""
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = next(r for r in value if r not in instance)
        return Message("ls_err_required", {"field": missing}), None
    if kind == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in instance if k not in known)[0]
        return Message("ls_err_unknown", {"field": extra, "known": ", ".join(known)}), extra
    if kind == "type" and value in _TYPE_WORDS:
        return Message("ls_err_type", {"expected": Message(f"ls_type_{value}")}), None
    if kind == "minItems":
        return Message("ls_err_min_items", {"n": value}), None
    if kind == "maxItems":
        return Message("ls_err_max_items", {"n": value}), None
    if kind == "minLength":
        return Message("ls_err_empty"), None
    if kind == "pattern":
        return Message("ls_err_pattern", {"value": str(instance)[:60], "pattern": value}), None
    if kind == "oneOf":
        return Message("ls_err_choice"), None
    return Message("ls_err_schema", {"detail": error.message[:200]}), None


def _is_data(value: Any) -> bool:
    """Numbers, text, booleans and (nested) lists of them: what a variable record can hold."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        elif not isinstance(v, (int, float, str, bool)):
            return False
    return True


def _text(raw: Any) -> Text:
    return same(raw) if isinstance(raw, str) else Text(raw["en"], raw["zh"])


def _step_problems(i: int, raw: dict[str, Any], presets: Collection[str] | None) -> Iterator[tuple[Message, tuple]]:
    """What a schema cannot say about step `i`: (message, path) for each problem."""
    at: tuple[str | int, ...] = ("steps", i)
    code = raw.get("code", "")
    if len(code) > MAX_SOURCE_CHARS:
        yield Message("ls_err_code_long", {"n": len(code), "max": MAX_SOURCE_CHARS}), (*at, "code")
    target = raw.get("target")
    if target is not None:
        page, preset = target["page"], target.get("preset")
        if page not in TARGET_PAGES:
            yield Message("ls_err_page", {"page": page, "known": ", ".join(TARGET_PAGES)}), (*at, "target", "page")
        elif page == "training" and not preset:
            yield Message("ls_err_preset_missing"), (*at, "target")
        elif page != "training" and preset:
            yield Message("ls_err_preset_page"), (*at, "target", "preset")
        elif page == "training" and presets is not None and preset not in presets:
            known = ", ".join(presets)
            yield Message("ls_err_preset", {"preset": preset, "known": known}), (*at, "target", "preset")
    quiz = raw.get("quiz")
    if quiz is None:
        return
    n = len(quiz["choices"])
    if not 0 <= quiz["answer"] < n:
        yield Message("ls_err_answer", {"answer": quiz["answer"], "n": n, "last": n - 1}), (*at, "quiz", "answer")
    seen = [_text(c).en for c in quiz["choices"]]
    if len(set(seen)) != len(seen):
        yield Message("ls_err_choices_same"), (*at, "quiz", "choices")
    check = quiz.get("check")
    if check is None:
        return
    if check["field"] not in CHECK_FIELDS:
        known = ", ".join(CHECK_FIELDS)
        yield Message("ls_err_field", {"field": check["field"], "known": known}), (*at, "quiz", "check", "field")
    if not code.strip():
        yield Message("ls_err_check_code"), (*at, "quiz", "check")
    if not _is_data(check["expected"]):
        yield Message("ls_err_expected"), (*at, "quiz", "check", "expected")


def _build(raw: dict[str, Any], file: str) -> Lesson:
    steps = []
    for s in raw["steps"]:
        target = Target(s["target"]["page"], s["target"].get("preset", "")) if "target" in s else None
        quiz = None
        if "quiz" in s:
            q = s["quiz"]
            c = q.get("check")
            check = None if c is None else Check(c["name"], c["field"], c["expected"], float(c.get("tol", 1e-4)))
            choices = tuple(_text(x) for x in q["choices"])
            quiz = Quiz(_text(q["question"]), choices, q["answer"], _text(q["why"]), check)
        steps.append(Step(_text(s["title"]), _text(s["body"]), s.get("code", ""), target, quiz, bool(s.get("graph"))))
    seeds = tuple(raw.get("seeds", ()))
    return Lesson(raw["key"], _text(raw["title"]), _text(raw["summary"]), seeds, tuple(steps), file=file)


def read_lesson(path: Path, presets: Collection[str] | None = None) -> Lesson:
    """Parse (yaml.safe_load), validate (docs/lesson.schema.json, then the checks above) and build one lesson.

    Raises LessonError naming the file, the line and the place. `presets`: the training presets a target may
    name (the page passes the table; core.lessons sits below core.training and cannot import it).
    """
    name = path.name

    def fail(message: Message, at: tuple[str | int, ...] = (), line: int | None = None) -> LessonError:
        return LessonError(Problem(name, message, at, line))

    try:
        size = path.stat().st_size
        if size > MAX_LESSON_FILE_BYTES:
            raise fail(Message("ls_err_too_big", {"n": size, "max": MAX_LESSON_FILE_BYTES}))
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise fail(Message("ls_err_encoding", {"at": e.start})) from None
    except OSError as e:
        raise fail(Message("ls_err_read", {"detail": e.strerror or type(e).__name__})) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = " ".join(filter(None, [e.context, e.problem]))
        raise fail(Message("ls_err_yaml", {"detail": detail[:200]}), line=line) from None
    except yaml.YAMLError as e:
        raise fail(Message("ls_err_yaml", {"detail": str(e)[:200]})) from None
    if not isinstance(raw, dict):
        raise fail(Message("ls_err_top"), line=1)
    errors = list(_validator().iter_errors(raw))
    if errors:
        import jsonschema.exceptions

        error = jsonschema.exceptions.best_match(errors)
        at = tuple(error.absolute_path)
        message, key = _schema_message(error)
        raise fail(message, at, _line(text, at, key))
    for i, step in enumerate(raw["steps"]):
        for message, at in _step_problems(i, step, presets):
            raise fail(message, at, _line(text, at))
    return _build(raw, name)


def load_folder(folder: Path, presets: Collection[str] | None = None) -> Catalog:
    """Every lesson file of `folder`: the good lessons in file-name order and a Problem for each bad file."""
    found: list[Lesson] = []
    problems: list[Problem] = []
    for path in lesson_files(folder):
        try:
            lesson = read_lesson(path, presets)
        except LessonError as e:
            problems.append(e.problem)
            continue
        other = next((ls for ls in found if ls.key == lesson.key), None)
        if other is not None:
            problems.append(Problem(path.name, Message("ls_err_duplicate", {"name": lesson.key, "other": other.file})))
            continue
        found.append(lesson)
    if not found and not problems:
        problems.append(Problem(str(folder), Message("ls_err_none")))
    return Catalog(folder, tuple(found), tuple(problems))


_CACHE: dict[tuple[Any, ...], Catalog] = {}
_CACHE_LOCK = threading.Lock()


def catalog(folder: Path | None = None, presets: Collection[str] | None = None) -> Catalog:
    """The lessons of `folder` (default `lessons_dir()`), read again only when a file was added, changed or removed."""
    folder = folder or lessons_dir()
    files = lesson_files(folder)
    stamp = []
    for p in files:
        try:
            st = p.stat()
        except OSError:
            continue
        stamp.append((p.name, st.st_mtime_ns, st.st_size))
    key = (str(folder), None if presets is None else tuple(presets), tuple(stamp))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    result = load_folder(folder, presets)
    with _CACHE_LOCK:
        if len(_CACHE) >= 16:
            _CACHE.clear()
        _CACHE[key] = result
    return result


def __getattr__(name: str) -> Any:
    """`core.lessons.LESSONS`: the lessons of the lessons folder as it is now."""
    if name == "LESSONS":
        return catalog().lessons
    raise AttributeError(name)


# --- helpers ----------------------------------------------------------------------------------------------------------


def by_key(key: str | None) -> Lesson | None:
    """The lesson called `key` in the lessons folder, or None."""
    return catalog().by_key(key)


def texts(lesson: Lesson) -> list[Text]:
    """Every text of a lesson (title, summary, step titles and bodies, quiz questions, choices and reasons)."""
    out = [lesson.title, lesson.summary]
    for step in lesson.steps:
        out += [step.title, step.body]
        if step.quiz is not None:
            out += [step.quiz.question, *step.quiz.choices, step.quiz.why]
    return out


def observed(result: dict[str, Any], check: Check) -> Any:
    """What a run's result says at `check`'s place (None when the variable or field is missing)."""
    record = (result.get("variables") or {}).get(check.name)
    return None if record is None else record.get(check.field)


def _numbers(value: Any) -> list[float] | None:
    """A number or a nested list of numbers, flattened; None for anything else (bools are not numbers here)."""
    stack, out = [value], []
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(reversed(v))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v))
        else:
            return None
    return out


def agrees(check: Check, result: dict[str, Any]) -> bool:
    """Whether the run's value at `check` equals the expected answer (numbers within `check.tol`)."""
    got = observed(result, check)
    want, have = _numbers(check.expected), _numbers(got)
    if want is not None and have is not None:
        return len(want) == len(have) and all(abs(w - h) <= check.tol for w, h in zip(want, have))
    return got == check.expected
