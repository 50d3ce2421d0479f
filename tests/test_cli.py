"""`python -m core run` (DESIGN.md "CLI contract"): the JSON fields, seed 004's gradients, exit 2 with an error
object for every kind of user error, --format text, programs from a file and from stdin.

A CLI start costs seconds on two cores, so only three tests start a process; the error kinds go through
`core.__main__.main` in this process, which is the same code behind the same exit code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import core.sandbox
from core.__main__ import main
from tests.seed_programs import SEED_004

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", "run", *args], input=stdin, capture_output=True, text=True, cwd=ROOT,
        timeout=120,
    )  # fmt: skip


@pytest.mark.slow
def test_run_file_prints_the_design_json(tmp_path: Path) -> None:
    pytest.importorskip("core.backward")
    program = tmp_path / "seed004.py"
    program.write_text(SEED_004, encoding="utf-8")
    proc = cli(str(program))
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["ok"] is True and r["device"] == "cpu"
    assert r["stdout"] == "tensor([ 36., 144.])\ntensor([-14., -10.])\n"
    a, b = r["variables"]["a"], r["variables"]["b"]
    for key in ("shape", "dtype", "device", "requires_grad", "is_leaf", "value", "grad"):
        assert key in a
    assert (a["shape"], a["dtype"], a["device"]) == ([2], "float32", "cpu")
    assert a["requires_grad"] is True and a["is_leaf"] is True
    assert a["value"] == [2.0, 4.0] and a["grad"] == [36.0, 144.0] and b["grad"] == [-14.0, -10.0]
    assert r["variables"]["E"]["value"] == [-25.0, 167.0] and r["variables"]["E"]["is_leaf"] is False
    nodes, edges = r["graph"]["nodes"], r["graph"]["edges"]
    ids = {n["id"] for n in nodes}
    for n in nodes:
        assert {"id", "kind", "name", "shape", "value", "grad"} <= set(n)
        assert n["kind"] in ("leaf", "op", "output")
    assert {n["kind"] for n in nodes} >= {"leaf", "op", "output"}
    assert edges and all(e["src"] in ids and e["dst"] in ids for e in edges)
    assert r["backward_order"] and set(r["backward_order"]) <= ids
    leaf_grads = sorted(n["grad"] for n in nodes if n["kind"] == "leaf")
    assert leaf_grads == [[-14.0, -10.0], [36.0, 144.0]]


@pytest.mark.slow
def test_run_stdin_as_text() -> None:
    proc = cli("-", "--format", "text", stdin="x = torch.tensor([1., 2.])\ny = x * 3\nprint('hello')\n")
    assert proc.returncode == 0, proc.stderr
    assert "hello" in proc.stdout
    assert "x: tensor [2] float32 on cpu" in proc.stdout and "[3.0, 6.0]" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_user_error_exits_2_with_an_error_object() -> None:
    proc = cli("-e", "x = 1\nimport os")
    assert proc.returncode == 2
    r = json.loads(proc.stdout)
    assert r["ok"] is False and r["error"]["kind"] == "refused" and r["error"]["line"] == 2
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("source", "kind", "line"),
    [
        ("x = 1\ny = = 2", "syntax", 2),
        ("x = 1\ny = open('/etc/passwd')", "refused", 2),
        ("x = torch.ones(2)\ny = x @ torch.ones(3)", "runtime", 2),
        ("x = torch.zeros(10**6, 10**6)", "limit", 1),
        ("a = torch.rand(10**7)\nfor i in range(50):\n    b = torch.sort(a)", "timeout", None),  # within budget
    ],
    ids=["syntax", "refused", "runtime", "limit", "timeout"],
)
def test_each_error_kind(
    source: str, kind: str, line: int | None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_program = core.sandbox.run_program
    monkeypatch.setattr(core.sandbox, "run_program", lambda src, **kw: run_program(src, timeout=2, **kw))
    assert main(["run", "-e", source]) == 2
    out = capsys.readouterr()
    r = json.loads(out.out)
    assert r["ok"] is False
    assert {"kind", "message", "line"} <= set(r["error"]) <= {"kind", "message", "line", "key", "args", "detail"}
    assert (r["error"]["kind"], r["error"]["line"]) == (kind, line)
    assert r["error"]["message"] and "Traceback" not in out.out + out.err


def test_error_as_text_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "-e", "x = 1\ny = (", "--format", "text"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.startswith("error: syntax (line 2): ")


def test_missing_file_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "nope.py")]) == 2
    r = json.loads(capsys.readouterr().out)
    assert r["ok"] is False and r["error"]["kind"] == "runtime" and "nope.py" in r["error"]["message"]


def test_text_format_reports_grads(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("core.backward")
    assert main(["run", "-e", SEED_004, "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "a: tensor [2] float32 on cpu, requires_grad, leaf" in text
    assert "grad  = [36.0, 144.0]" in text and "grad  = [-14.0, -10.0]" in text
    assert text.startswith("# output\ntensor([ 36., 144.])\ntensor([-14., -10.])\n")


@pytest.mark.slow
def test_program_bytes_bom_and_undecodable_input(tmp_path: Path) -> None:
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbfs = '(((' # ((( in text and a comment\nprint(len(s))\n")
    ok = subprocess.run([sys.executable, "-m", "core", "run", str(bom), "--format", "json"], capture_output=True,
                        cwd=ROOT, timeout=120)  # fmt: skip
    assert ok.returncode == 0 and json.loads(ok.stdout)["stdout"] == "3\n"
    bad = subprocess.run([sys.executable, "-m", "core", "run", "-", "--format", "json"], input=b"x = 1\n\xff\xfe\n",
                         capture_output=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert bad.returncode == 2
    err = json.loads(bad.stdout)["error"]
    assert err["kind"] == "syntax" and "UTF-8" in err["message"]


def test_brackets_in_strings_and_comments_do_not_count() -> None:
    from core.sandbox.validate import parse

    parse("s = '" + "(" * 200 + "'  # " + "[" * 200 + "\nt = 1")  # deeper than MAX_AST_DEPTH, but only as text
