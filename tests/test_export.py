"""Exports against the app: every exported .py / .ipynb runs in a fresh interpreter and prints the numbers the
sandbox showed (bit for bit), a training script reproduces the Training Studio's loss curve and weights, other
text cannot leave its comment, and each page has its download buttons."""

from __future__ import annotations

import ast
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
import torch
from safetensors.torch import load_file

from core import export
from core.examples import GRAPH, PLAYGROUND
from core.lessons import LESSONS_DIR, read_lesson
from core.sandbox import run_program
from core.training.presets import PRESETS
from core.training.trainer import create
from tests.conftest import open_page

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
RUN_TIMEOUT_S = 120

# Programs with a known answer: the examples the app offers and tutorial programs from the corpus.
EXAMPLES = {f"example-{e.key}": e.code for e in [*PLAYGROUND, *GRAPH]}
CORPUS_PICK = [
    "03_numpy_bridge",
    "04_autograd_tutorial",
    "12_autograd_polynomial",
    "19_linear_sgd_momentum",
    "24_digits_classifier",
    "26_xor_mlp",
    "33_second_derivative",
    "34_jacobian_hessian",
]
# torch.empty: whatever sat in memory, in the app as in the script; only its shape can agree.
UNINITIALISED = {"example-create": {"x"}}
PROGRAMS = {**EXAMPLES, **{f"corpus-{n}": (CORPUS / f"{n}.py").read_text(encoding="utf-8") for n in CORPUS_PICK}}


def _fresh_python(script: str, cwd: Path) -> subprocess.CompletedProcess:
    """`script` in a new interpreter with no GPU visible and nothing of this repository on its path."""
    path = cwd / "exported.py"
    path.write_text(script, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["CUDA_VISIBLE_DEVICES"] = ""
    return subprocess.run(
        [sys.executable, "-I", str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )


def _app_json(value: Any) -> Any:
    """A printed value in the app's JSON encoding (NaN and infinities as strings)."""
    if isinstance(value, list):
        return [_app_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _app_json(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _expected(result: dict[str, Any]) -> dict[str, Any]:
    """What the app listed: name -> value (or summary), name.grad -> gradient (or its summary)."""
    variables = result["variables"]
    out: dict[str, Any] = {}
    for name, rec in variables.items():
        if rec.get("same_as"):
            rec = {**variables[rec["same_as"]], **rec}
        if rec["type"] in ("tensor", "ndarray"):
            if rec.get("value") is not None or rec.get("summary") is not None:
                out[name] = rec["value"] if rec.get("value") is not None else rec["summary"]
            if rec.get("grad") is not None or rec.get("grad_summary") is not None:
                out[f"{name}.grad"] = rec["grad"] if rec.get("grad") is not None else rec["grad_summary"]
        elif rec["type"] in export.SHOWN_TYPES and "value" in rec:
            out[name] = rec["value"]
    return out


def _printed(stdout: str, program_stdout: str) -> dict[str, Any]:
    """The exported script's own lines (after the program's output): name -> value."""
    assert stdout.startswith(program_stdout), "the program prints exactly what it printed in the app"
    shown = {}
    for line in stdout[len(program_stdout) :].splitlines():
        name, _, text = line.partition(" = ")
        shown[name] = _app_json(json.loads(text))
    return shown


def _same(a: Any, b: Any) -> bool:
    """Equal bit for bit (-0.0 is not 0.0; an int and a float of the same value are not the same)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return type(a) is type(b) and a == b


def _check(result: dict[str, Any], proc: subprocess.CompletedProcess, garbage: set[str] = frozenset()) -> None:
    assert proc.returncode == 0, proc.stderr[-2000:]
    want, got = _expected(result), _printed(proc.stdout, result["stdout"])
    assert got.keys() == want.keys()
    for k in garbage:
        assert torch.tensor(got[k]).shape == torch.tensor(want[k]).shape
    bad = [k for k in want if k not in garbage and not _same(got[k], want[k])]
    assert not bad, {k: (got[k], want[k]) for k in bad[:3]}


@pytest.fixture(scope="module")
def answers() -> dict[str, dict[str, Any]]:
    """The app's answers: each program through the sandbox's worker pool, as the pages run it."""
    return {key: run_program(src, device="cpu", graph=True) for key, src in PROGRAMS.items()}


# --- programs --------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("key", list(PROGRAMS))
def test_exported_py_prints_the_apps_numbers(key, answers, tmp_path):
    result = answers[key]
    script = export.program_py(PROGRAMS[key], result, "cpu", f"test {key}")
    proc = _fresh_python(script, tmp_path)
    if not result["ok"]:  # the pitfalls and .cuda() on a CPU machine: the same error, no prints
        assert proc.returncode != 0 and "show(" not in script
        return
    assert "show(" in script or not _expected(result)
    _check(result, proc, UNINITIALISED.get(key, set()))


@pytest.mark.slow
@pytest.mark.parametrize("key", ["example-seed004", "example-mlp", "corpus-26_xor_mlp", "corpus-34_jacobian_hessian"])
def test_exported_notebook_cells_in_order_print_the_apps_numbers(key, answers, tmp_path):
    result = answers[key]
    nb = nbformat.reads(export.program_ipynb(PROGRAMS[key], result, "cpu", key), as_version=4)
    nbformat.validate(nb)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 4  # seeds, at least two blocks of the program, the prints (and the graph)
    graph_cell = code.pop() if code[-1].startswith("# The autograd graph") else None
    proc = _fresh_python("\n\n".join(code) + "\n", tmp_path)
    _check(result, proc)
    if graph_cell is not None:  # without graphviz the last cell reports it; it never fails
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        proc = subprocess.run(
            [sys.executable, "-I", "-c", "\n\n".join([*code, graph_cell, "print(graph is not None)"])],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.slow
def test_notebook_runs_in_a_jupyter_kernel_and_draws_the_graph(answers, tmp_path):
    nbclient = pytest.importorskip("nbclient")
    lesson = read_lesson(LESSONS_DIR / "03_autograd.yaml")
    step = lesson.steps[1]
    result = run_program(step.code, device="cpu", graph=True)
    text = export.program_ipynb(step.code, result, "cpu", lesson.title.en, [f"## {step.title.en}\n\n{step.body.en}"])
    nb = nbformat.reads(text, as_version=4)
    assert nb.cells[1].cell_type == "markdown" and step.body.en in nb.cells[1].source
    nbclient.NotebookClient(
        nb, timeout=RUN_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    out = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "a.grad = [36.0, 144.0]" in out and "b.grad = [-14.0, -10.0]" in out
    last = nb.cells[-1].outputs
    try:
        import graphviz  # noqa: F401
    except ImportError:
        assert "pip install graphviz" in "".join(o.get("text", "") for o in last)
        return
    if shutil.which("dot"):
        svg = next(o["data"]["image/svg+xml"] for o in last if o["output_type"] == "execute_result")
        assert "SubBackward0" in svg and "PowBackward0" in svg and "leaf (2,)" in svg


def test_cells_cut_at_blank_lines_between_statements_only():
    src = (
        "import torch\n\nx = torch.ones(2)\ny = x * 2\n\n\n"
        "def f(a):\n    b = a + 1\n\n    return b\n\n# a comment\nz = f(y)\n"
    )
    assert export.cells(src) == [
        "import torch",
        "x = torch.ones(2)\ny = x * 2",
        "def f(a):\n    b = a + 1\n\n    return b",
        "# a comment\nz = f(y)",
    ]
    assert export.cells("x = (\n") == ["x = ("]  # does not parse: one cell, as typed
    assert export.cells("") == []


def test_other_text_stays_in_its_comment_and_odd_names_are_not_written():
    title = "evil\nimport os\rimport sys\u2028print('pwned')\x00\x0c#"
    fake = {
        "ok": True,
        "stdout": "",
        "variables": {
            "x": {"type": "tensor", "value": [1.0], "grad": None},
            "__import__('os')": {"type": "tensor", "value": [1.0], "grad": None},
            "x.y": {"type": "int", "value": 1},
            "class": {"type": "int", "value": 1},
        },
    }
    script = export.program_py("x = torch.ones(1)\n", fake, "cpu", title)
    tree = ast.parse(script)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "os" not in imported and "sys" not in imported
    assert script.splitlines()[0].startswith("# evil import os")
    assert "pwned" not in "".join(s for s in script.splitlines() if not s.startswith("#"))
    assert export.shown_lines(fake) == ["show('x', x)"]
    nb = nbformat.reads(export.program_ipynb("x = 1\n", None, "cpu", "# Title\n\n<script>x</script>"), as_version=4)
    assert nb.cells[0].source.startswith("# \\# Title <script>x</script>")  # one heading line; markdown is inert


# --- training runs ----------------------------------------------------------------------------------------------

RUNS = {
    "linear": {"steps": 60},
    "linear_nn": {"steps": 40},
    "circle": {"steps": 25},
    "xor": {"steps": 20, "loss": "mse", "reg": "l2", "reg_rate": 0.01, "optimizer": "sgd", "momentum": 0.5},
    "spiral": {"steps": 15, "batch_size": 64, "reg": "l1", "reg_rate": 0.001, "activation": "relu"},
    "digits": {"steps": 30},
    "digits_cnn": {"steps": 12},  # conv, pool, batch norm, and dropout masks seeded per step as the app does
    "gauss": {"steps": 12, "batch_size": 50, "shuffle": False, "activation": "sigmoid", "hidden": "3,2"},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RUNS))
def test_training_export_reproduces_the_loss_curve_and_weights(name, tmp_path):
    trainer, problems = create(name, RUNS[name])
    assert trainer is not None and not problems
    trainer.advance(RUNS[name]["steps"])
    assert trainer.step == RUNS[name]["steps"]
    proc = _fresh_python(export.training_py_for(trainer), tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    curve = json.loads((tmp_path / f"{name}_loss.json").read_text())
    assert len(curve) == trainer.step
    assert curve == pytest.approx(trainer.history.loss, rel=1e-6, abs=1e-9)
    saved = load_file(str(tmp_path / f"{name}.safetensors"))
    state = trainer.model.state_dict()
    assert saved.keys() == state.keys()
    for k, v in state.items():
        torch.testing.assert_close(saved[k], v.detach().cpu(), rtol=1e-6, atol=1e-7)


def test_cifar_is_not_exported():
    assert not export.can_export_training(PRESETS["cifar10"])
    assert all(export.can_export_training(p) for n, p in PRESETS.items() if n != "cifar10")
    with pytest.raises(ValueError):
        export.training_py(PRESETS["cifar10"], PRESETS["cifar10"].defaults(), 1, (3, 32, 32), 10)


# --- the pages -------------------------------------------------------------------------------------------------


def _downloads(at) -> set[str]:
    return {e.proto.label for e in at.get("download_button")}


@pytest.mark.apptest
@pytest.mark.parametrize(
    ("page", "query", "labels"),
    [
        ("pages/playground.py", {}, {"Download .py", "Download notebook (.ipynb)"}),
        ("pages/graph.py", {}, {"Download .py", "Download notebook (.ipynb)"}),
        ("pages/lessons.py", {"lesson": "autograd", "step": "2"}, {"Download .py", "Download notebook (.ipynb)"}),
        ("pages/training.py", {"preset": "linear"}, {"Download this run as a .py"}),
    ],
)
def test_each_page_has_its_download_buttons(page, query, labels):
    at = open_page(page, **query)
    assert labels <= _downloads(at)
    at_zh = open_page(page, lang="zh", **query)
    zh = _downloads(at_zh)
    assert zh and not (labels & zh)
