"""Real sandbox answers (programs, errors, a long loop, huge outputs) against docs/result.schema.json and the
5 MB bound on one answer."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from core.limits import MAX_ANSWER_BYTES
from core.sandbox.session import execute, execute_encoded
from core.sandbox.wire import decode_answer

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "result.schema.json").read_text())
CORPUS = sorted((ROOT / "tests" / "corpus").glob("*.py"))

PROGRAMS = {
    "seed-004": "a = torch.tensor([2., 3.], requires_grad=True)\nb = torch.tensor([6., 4.], requires_grad=True)\n"
    "Q = 3*a**3 - b**2\nQ.backward(gradient=torch.tensor([1., 1.]))",
    "nan-and-inf": "x = torch.tensor([0., 1.], requires_grad=True)\ny = torch.log(x)\ny.sum().backward()",
    "syntax": "x = = 1",
    "refused": "import os",
    "runtime": "x = torch.ones(2) @ torch.ones(3)",
    "limit": "x = torch.ones(10**12)",
    "many-passes": "w = torch.ones(3, requires_grad=True)\nfor i in range(30):\n    (w * i).sum().backward()",
    "big-aliases": "x = torch.rand(3000)\n" + "\n".join(f"v{i} = x" for i in range(1200)),
    "big-stdout": "for i in range(100000):\n    print(i, 'some words to fill the output')",
    "big-saved": "x = torch.rand(1000, 1000, requires_grad=True)\ny = x\nfor i in range(20):\n"
    "    y = torch.tanh(y * 1.01)\ny.sum().backward()",
    "many-big-variables": "\n".join(f"t{i} = torch.rand(9000, requires_grad=True)" for i in range(200)),
    "create-graph": "x = torch.tensor(2., requires_grad=True)\ny = x ** 3\n"
    "g, = torch.autograd.grad(y, x, create_graph=True)\ng.backward()",
}


def _check(source: str) -> None:
    """The worker's bytes are at most MAX_ANSWER_BYTES; the answer read from them (its shared lists back in
    each place) follows the schema."""
    data = execute_encoded(source, "cpu", with_graph=True)
    assert len(data) <= MAX_ANSWER_BYTES, len(data)
    result = decode_answer(data)
    json.dumps(result, ensure_ascii=False, allow_nan=False)  # plain JSON: no NaN, no objects
    jsonschema.validate(result, SCHEMA)


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_answers_follow_the_schema(name: str) -> None:
    _check(PROGRAMS[name])


@pytest.mark.parametrize("path", CORPUS[::4], ids=lambda p: p.stem)
def test_corpus_answers_follow_the_schema(path: Path) -> None:
    _check(path.read_text())


def test_a_long_loop_records_its_last_pass_and_lists_the_others() -> None:
    r = execute(PROGRAMS["many-passes"], "cpu", with_graph=True)
    passes = r["backward_passes"]
    assert len(passes) == 30 and passes[-1]["recorded"] and passes[-1]["count"] > 0
    assert not passes[15]["recorded"]
    last = [s for s in r["backward_steps"] if s["pass"] == 29]
    assert last and last[-1]["incoming"] == [[29.0, 29.0, 29.0]]  # what the last pass sent to w, from its run
    assert r["variables"]["w"]["grad"] == [float(sum(range(30)))] * 3


def test_the_schema_rejects_a_broken_answer() -> None:
    good = execute(PROGRAMS["seed-004"], "cpu", with_graph=True)
    bad = json.loads(json.dumps(good))
    bad["variables"]["a"].pop("shape")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"ok": False, "stdout": "", "stats": {}}, SCHEMA)
