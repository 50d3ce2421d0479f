"""One-off: write the Python-literal lessons of core/lessons.py as lessons/NN_key.yaml (both languages per file)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import lessons_literals_old as old  # noqa: E402


def text(t: old.Text, allow_same: bool = False) -> Any:
    if allow_same and t.en == t.zh:
        return t.en
    return {"en": t.en, "zh": t.zh}


def step(s: old.Step) -> dict[str, Any]:
    out: dict[str, Any] = {"title": text(s.title), "body": text(s.body)}
    if s.target is not None:
        out["target"] = {"page": s.target.page, **({"preset": s.target.preset} if s.target.preset else {})}
    if s.graph:
        out["graph"] = True
    if s.code:
        out["code"] = s.code
    if s.quiz is not None:
        q = s.quiz
        quiz: dict[str, Any] = {
            "question": text(q.question),
            "choices": [text(c, allow_same=True) for c in q.choices],
            "answer": q.answer,
            "why": text(q.why),
        }
        if q.check is not None:
            c = q.check
            check: dict[str, Any] = {"name": c.name, "field": c.field, "expected": c.expected}
            if c.tol != 1e-4:
                check["tol"] = c.tol
            quiz["check"] = check
        out["quiz"] = quiz
    return out


class Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


Dumper.add_representer(str, _str)
def _list(dumper: yaml.SafeDumper, data: Any) -> yaml.Node:
    flat = all(not isinstance(v, (list, tuple, dict)) and not (isinstance(v, str) and ("`" in v or "\n" in v)) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(data), flow_style=flat)


Dumper.add_representer(tuple, _list)
Dumper.add_representer(list, _list)

HEADER = "# Lesson {n}: {title}. Format: README.md, 'Writing a lesson'; schema: docs/lesson.schema.json.\n"

for n, ls in enumerate(old.LESSONS, start=1):
    doc = {
        "key": ls.key,
        "title": text(ls.title),
        "summary": text(ls.summary),
        "seeds": list(ls.seeds),
        "steps": [step(s) for s in ls.steps],
    }
    body = yaml.dump(doc, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=100_000, indent=2)
    path = ROOT / "lessons" / f"{n:02d}_{ls.key}.yaml"
    path.write_text(HEADER.format(n=n, title=ls.title.en) + body, encoding="utf-8")
    print(path)
