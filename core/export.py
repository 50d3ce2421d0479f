"""Export: a program as a self-contained .py or a Jupyter notebook, a training run as a plain-PyTorch .py.

Everything here builds text; nothing runs. The user's program goes into the script verbatim (it is their own
code); every other text (titles, notes) goes into comments through `comment()` or into markdown cells, never
into code. Variable names come from the sandbox's answer and are written into code only when they are plain
Python identifiers. The printed values follow the app's JSON: tensors as nested lists (complex as [re, im]) or
min/max/mean/std where the app showed a summary, so a test can compare them number for number.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import math
from collections.abc import Mapping, Sequence
from typing import Any

from core.sandbox.session import DEFAULT_SEED
from core.training import datasets
from core.training.presets import Preset

TORCH_VERSION = "2.13.0"  # requirements.txt's pin: the numbers are reproduced with this torch
SHOWN_TYPES = ("int", "float", "bool", "str")  # plain values the app lists with a value
LINE_BREAKS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"
TRAINABLE_DATA = ("linear", "linear_nn", *datasets.SHAPES_2D, "digits")  # CIFAR-10 needs the server's folder


def comment(text: str, limit: int = 300) -> str:
    """`text` as one safe comment line: line breaks and control characters become spaces, so it cannot end
    the comment and start code."""
    clean = "".join(" " if ch in LINE_BREAKS or not ch.isprintable() else ch for ch in str(text)[:limit])
    return "# " + " ".join(clean.split())


def _name_ok(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and name.isascii()


def _header(title: str, lines: Sequence[str]) -> str:
    out = [comment(title), *(comment(line) for line in lines)]
    return "\n".join(out) + "\n"


def _seed_code(device: str) -> str:
    """Imports and the state every sandbox run starts from (core.sandbox.session.program_context)."""
    lines = [
        "import random",
        "",
        "import numpy",
        "import torch",
        "import torch.nn.functional as F",
        "from torch import nn, optim",
        "",
        f"torch.manual_seed({DEFAULT_SEED})  # every run in the app starts from these seeds",
        f"random.seed({DEFAULT_SEED})",
        f"numpy.random.seed({DEFAULT_SEED})",
        "torch.set_num_threads(1)  # the app's workers run one thread: the same sums in the same order",
    ]
    if device != "cpu":
        lines.append(f"torch.set_default_device({device!r})  # the app ran this on {device}")
    return "\n".join(lines) + "\n"


SHOW_HELPERS = '''import json as _ae_json


def _ae_plain(value):
    """A value as the app lists it: a tensor as nested lists (complex as [re, im]), numpy as lists."""
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.is_complex():
            t = torch.view_as_real(t.resolve_conj())
        if t.dtype in (torch.float16, torch.bfloat16):
            t = t.float()
        return t.cpu().tolist()
    return value.tolist() if hasattr(value, "tolist") else value


def _ae_summary(value):
    """min / max / mean / std (in float64), as the app shows a tensor too big to list."""
    x = torch.as_tensor(value).detach()
    if x.is_complex():
        x = x.abs()
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    lo, hi = torch.aminmax(x.reshape(-1))
    x = x.to(device="cpu", dtype=torch.float64).reshape(-1)
    n = x.numel()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the app's worker sums: the same order, the same last digit
    try:
        mean = x.sum() / n
        d = x - mean
        spread = torch.sqrt((d * d).sum() / (n - 1)).item() if n > 1 else 0.0
    finally:
        torch.set_num_threads(threads)
    return {"min": float(lo.item()), "max": float(hi.item()), "mean": mean.item(), "std": spread}


def show(name, value, summary=False):
    print(name, "=", _ae_json.dumps(_ae_summary(value) if summary else _ae_plain(value)))
'''


def shown_lines(result: Mapping[str, Any] | None) -> list[str]:
    """`show(...)` calls for the values and gradients the app listed for this run (none when it failed)."""
    if not result or not result.get("ok"):
        return []
    variables = result.get("variables") or {}
    lines = []
    for name, rec in variables.items():
        if not _name_ok(name):
            continue
        if rec.get("same_as") in variables:  # a big tensor under several names: listed under its first name
            rec = {**variables[rec["same_as"]], **{k: v for k, v in rec.items() if k != "same_as"}}
        kind = rec.get("type")
        if kind in ("tensor", "ndarray"):
            if rec.get("value") is not None:
                lines.append(f"show({name!r}, {name})")
            elif rec.get("summary") is not None:
                lines.append(f"show({name!r}, {name}, summary=True)")
            if rec.get("grad") is not None:
                lines.append(f"show({name + '.grad'!r}, {name}.grad)")
            elif rec.get("grad_summary") is not None:
                lines.append(f"show({name + '.grad'!r}, {name}.grad, summary=True)")
        elif kind in SHOWN_TYPES and "value" in rec:
            lines.append(f"show({name!r}, {name})")
    return lines


def program_py(
    source: str, result: Mapping[str, Any] | None, device: str = "cpu", title: str = "Autograd Explorer program"
) -> str:
    """A script that runs `source` with plain PyTorch as the app ran it and prints what the app showed."""
    shows = shown_lines(result)
    parts = [
        _header(
            title,
            [
                f"Exported from Autograd Explorer. Plain PyTorch (torch=={TORCH_VERSION}): python this_file.py",
                "The seeds below are the app's, so the printed values and gradients are the ones the app showed.",
            ],
        ),
        _seed_code(device),
        "\n# --- the program ----------------------------------------------------------------------------\n",
        source if source.endswith("\n") else source + "\n",
    ]
    if shows:
        parts += [
            "\n# --- the values and gradients the app showed (tensors as lists, exact) -----------------------\n",
            SHOW_HELPERS,
            "\n" + "\n".join(shows) + "\n",
        ]
    return "".join(parts)


def cells(source: str) -> list[str]:
    """The program cut into notebook cells at blank lines between top-level statements (one cell if it does
    not parse). A statement's own blank lines (inside a function or a loop) never cut it."""
    lines = source.splitlines()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [source.strip("\n")] if source.strip() else []
    inside: set[int] = set()  # 1-based lines that belong to a statement
    for node in tree.body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        inside.update(range(first, (node.end_lineno or node.lineno) + 1))
    out: list[list[str]] = [[]]
    for i, line in enumerate(lines, start=1):
        if not line.strip() and i not in inside:
            if out[-1]:
                out.append([])
            continue
        out[-1].append(line)
    return ["\n".join(c) for c in out if any(x.strip() for x in c)]


def output_name(result: Mapping[str, Any] | None) -> str | None:
    """The tensor whose graph the notebook draws: the graph's output node, else the last tensor with a grad_fn."""
    if not result:
        return None
    variables = result.get("variables") or {}
    for node in reversed((result.get("graph") or {}).get("nodes") or []):
        name = node.get("name")
        if node.get("kind") == "output" and isinstance(name, str) and _name_ok(name) and name in variables:
            return name
    for name, rec in reversed(list(variables.items())):
        if rec.get("type") == "tensor" and rec.get("grad_fn") and _name_ok(name):
            return name
    return None


GRAPH_CELL = '''# The autograd graph of `{name}`, drawn from grad_fn with the graphviz package (if it is installed).
try:
    import graphviz
except ImportError:
    graphviz = None
    print("pip install graphviz (and Graphviz's dot) to draw the graph")


def autograd_graph(root):
    """One box per autograd node (leaves show their shape), an arrow from each input to the node using it."""
    dot = graphviz.Digraph(graph_attr={{"rankdir": "BT"}}, node_attr={{"shape": "box", "fontsize": "10"}})
    seen, stack = set(), [root.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        leaf = getattr(fn, "variable", None)
        label = f"leaf {{tuple(leaf.shape)}}" if leaf is not None else type(fn).__name__
        dot.node(str(id(fn)), label, style="filled", fillcolor="lightblue" if leaf is not None else "lightgrey")
        for child, _ in fn.next_functions:
            if child is not None:
                dot.edge(str(id(child)), str(id(fn)))
                stack.append(child)
    return dot


graph = autograd_graph({name}) if graphviz is not None and {name}.grad_fn is not None else None
graph'''


def program_ipynb(
    source: str,
    result: Mapping[str, Any] | None,
    device: str = "cpu",
    title: str = "Autograd Explorer program",
    notes: Sequence[str] = (),
) -> str:
    """The program as a notebook (nbformat 4): a title cell, any lesson `notes` (markdown), the seeds, one cell
    per block of the program, the printed values and gradients, and a cell drawing the output's graph."""
    import nbformat
    from nbformat import v4

    heading = " ".join(str(title).split())[:300].replace("#", "\\#")
    intro = (
        f"# {heading}\n\nExported from Autograd Explorer. Plain PyTorch (torch=={TORCH_VERSION}): run the cells "
        "in order; the seeds are the app's, so the values and gradients printed at the end are the ones it showed."
    )
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(v4.new_markdown_cell(intro))
    nb.cells.extend(v4.new_markdown_cell(note) for note in notes if note.strip())
    nb.cells.append(v4.new_code_cell(_seed_code(device).rstrip("\n")))
    nb.cells.extend(v4.new_code_cell(c) for c in cells(source))
    shows = shown_lines(result)
    if shows:
        nb.cells.append(v4.new_code_cell(SHOW_HELPERS.rstrip("\n") + "\n\n\n" + "\n".join(shows)))
    name = output_name(result)
    if name is not None:
        nb.cells.append(v4.new_code_cell(GRAPH_CELL.format(name=name)))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # stable ids: the same program exports to the same bytes
    nbformat.validate(nb)
    return str(nbformat.writes(nb))


# --- a training run ----------------------------------------------------------------------------------------------


def can_export_training(preset: Preset) -> bool:
    """Whether `training_py` can write this preset (CIFAR-10 reads the server's folder: not exported)."""
    return preset.data in TRAINABLE_DATA and preset.model in ("line_ab", "linear_1x1", "mlp", "cnn")


def _literal(value: Any) -> str:
    """A setting value as a Python literal (settings are numbers, booleans, short choice texts, width tuples)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"setting value {value!r} is not finite")
    if isinstance(value, (bool, int, float)) or isinstance(value, str) and value.isascii() and value.isprintable():
        return repr(value)
    if isinstance(value, tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return repr(value)
    raise ValueError(f"setting value {value!r} cannot be exported")


def _data_code(preset: Preset) -> str:
    """The data generation of core/training/datasets.py for this preset, as plain code."""
    kind = preset.data
    split = '''

def split(x, y, train_ratio, g):
    """Shuffle once, then the first train_ratio of the rows train and the rest test (as the app splits)."""
    perm = torch.randperm(len(x), generator=g)
    n_train = min(len(x) - 1, max(1, round(train_ratio * len(x))))
    return (x[perm[:n_train]], y[perm[:n_train]]), (x[perm[n_train:]], y[perm[n_train:]])
'''
    if kind == "linear":
        body = """
g = torch.Generator().manual_seed(S["seed"])
x = torch.rand(S["n_points"], 1, generator=g)
y = 1 + 2 * x + S["noise"] * torch.randn(S["n_points"], 1, generator=g)  # y = 1 + 2x + noise
(x_train, y_train), (x_test, y_test) = split(x, y, S["train_ratio"], g)
"""
    elif kind == "linear_nn":
        body = """
g = torch.Generator().manual_seed(S["seed"])
x = 5 * torch.rand(S["n_points"], 1, generator=g)
y = 5 * x + 1.75 + S["noise"] * torch.randn(S["n_points"], 1, generator=g)  # y = 5x + 1.75 + noise
(x_train, y_train), (x_test, y_test) = split(x, y, S["train_ratio"], g)
"""
    elif kind in datasets.SHAPES_2D:
        maker = datasets.SHAPES_2D[kind]
        helpers = "\n\n".join(inspect.getsource(f) for f in (datasets._uniform, maker))
        body = (
            "\n\n"
            + helpers
            + f"""

g = torch.Generator().manual_seed(S["seed"])
x, y = {maker.__name__}(S["n_points"], S["noise"], g)
(x_train, y_train), (x_test, y_test) = split(x, y, S["train_ratio"], g)
"""
        )
    elif kind == "digits":
        body = """
from sklearn.datasets import load_digits  # scikit-learn's bundled 8x8 digits (no download)

bunch = load_digits()
x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
y = torch.tensor(bunch.target, dtype=torch.long)
(x_train, y_train), (x_test, y_test) = split(x, y, S["train_ratio"], torch.Generator().manual_seed(S["seed"]))
"""
    else:
        raise ValueError(f"preset {preset.name!r} cannot be exported")
    return split + body


def _model_code(preset: Preset, values: Mapping[str, Any], input_shape: Sequence[int], n_out: int) -> str:
    """The model of core/training/models.py, built right after torch.manual_seed(seed) as the app builds it."""
    if preset.model == "line_ab":
        return '''

class LineAB(nn.Module):
    """Two raw parameters drawn with torch.randn(1); the prediction is a + b * x."""

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.randn(1))
        self.b = nn.Parameter(torch.randn(1))

    def forward(self, x):
        return self.a + self.b * x


torch.manual_seed(S["seed"])
model = LineAB()
'''
    if preset.model == "linear_1x1":
        return """
torch.manual_seed(S["seed"])
model = nn.Sequential(OrderedDict(linear=nn.Linear(1, 1)))
"""
    if preset.model == "cnn":
        c_in, h, w = (int(d) for d in input_shape)
        ch = int(values["channels"])
        rows = [f'("conv", nn.Conv2d({c_in}, {ch}, 3, padding=1))', '("act", nn.ReLU())', '("pool", nn.MaxPool2d(2))']
        if values["batch_norm"]:
            rows.append(f'("bn", nn.BatchNorm2d({ch}))')
        rows += [f'("drop", nn.Dropout({float(values["dropout"])!r}))', '("flatten", nn.Flatten())']
        rows.append(f'("out", nn.Linear({ch * (h // 2) * (w // 2)}, {n_out}))')
        return _sequential_code(rows)
    act = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()"}[values["activation"]]
    rows = []
    if len(input_shape) != 1:
        rows.append('("flatten", nn.Flatten())')
    width = math.prod(input_shape)
    for i, h in enumerate(values["hidden"], start=1):
        rows += [f'("fc{i}", nn.Linear({width}, {int(h)}))', f'("act{i}", {act})']
        width = int(h)
    rows.append(f'("out", nn.Linear({width}, {n_out}))')
    return _sequential_code(rows)


def _sequential_code(rows: Sequence[str]) -> str:
    """An nn.Sequential of named layers (each row a `("name", nn.Layer(...))` literal), built after the seed."""
    layers = "".join(f"    {r},\n" for r in rows)
    return f"""
torch.manual_seed(S["seed"])
model = nn.Sequential(OrderedDict([
{layers}]))
"""


TRAIN_LOOP = '''
model.to(DEVICE).train()
x_train, y_train = x_train.to(DEVICE), y_train.to(DEVICE)
if S["optimizer"] == "adam":
    opt = torch.optim.Adam(model.parameters(), lr=S["lr"], weight_decay=S["weight_decay"])
else:
    opt = torch.optim.SGD(model.parameters(), lr=S["lr"], momentum=S["momentum"], weight_decay=S["weight_decay"])
reg_params = [p for name, p in model.named_parameters() if not name.endswith("bias")]


def data_loss(out, y):
    if TASK == "regression":
        return F.mse_loss(out, y)
    if S.get("loss") == "mse":  # squared error between the softmax and the one-hot target
        return (out.softmax(1) - F.one_hot(y, out.shape[1]).to(out.dtype)).pow(2).mean(1).mean()
    return F.cross_entropy(out, y)


RANDOM_LAYERS = any(isinstance(m, nn.Dropout) and m.p > 0 for m in model.modules())


def forward(x, step):
    """The model's output; with dropout, the step's masks come from a generator seeded by the step (as the app)."""
    if not RANDOM_LAYERS:
        return model(x)
    with torch.random.fork_rng(devices=[torch.device(DEVICE).index or 0] if DEVICE.startswith("cuda") else []):
        torch.manual_seed(S["seed"] * 1_000_003 + step + 1)
        return model(x)


def objective(x, y, step):
    loss = data_loss(forward(x, step), y)
    rate = S.get("reg_rate", 0.0)
    if S.get("reg", "none") == "l1" and rate != 0.0:
        loss = loss + rate * sum(p.abs().sum() for p in reg_params)
    elif S.get("reg", "none") == "l2" and rate != 0.0:
        loss = loss + rate * sum(p.pow(2).sum() for p in reg_params)
    return loss


n = len(x_train)
batch_size = n if S.get("batch_size", 0) <= 0 or S.get("batch_size", 0) >= n else S["batch_size"]
batches_per_epoch = math.ceil(n / batch_size)


def batch(step):
    """The rows of `step`: the whole set, or the step's slice of its epoch's order (seeded per epoch)."""
    if batch_size == n:
        return x_train, y_train
    epoch, b = divmod(step, batches_per_epoch)
    if S.get("shuffle", True):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(S["seed"] * 1_000_003 + epoch))
    else:
        order = torch.arange(n)
    idx = order[b * batch_size : (b + 1) * batch_size]
    return x_train[idx], y_train[idx]


losses = []
for step in range(STEPS):
    x, y = batch(step)
    opt.zero_grad(set_to_none=True)
    loss = objective(x, y, step)
    loss.backward()
    grads_finite = all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    if not (math.isfinite(loss.item()) and grads_finite):
        print(f"step {step}: the loss or a gradient is not finite; training stops here (as in the app)")
        break
    opt.step()
    losses.append(loss.item())
    if step % max(1, STEPS // 10) == 0 or step == STEPS - 1:
        print(f"step {step:5d}  loss {loss.item():.6g}")

with open(NAME + "_loss.json", "w") as f:
    json.dump(losses, f)
state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
try:
    from safetensors.torch import save_file

    save_file(state, NAME + ".safetensors")
    print(f"{len(losses)} steps; loss curve in {NAME}_loss.json, weights in {NAME}.safetensors")
except ImportError:
    torch.save(state, NAME + ".pt")
    print(f"{len(losses)} steps; loss curve in {NAME}_loss.json, weights in {NAME}.pt")
'''


def training_py(
    preset: Preset,
    values: Mapping[str, Any],
    steps: int,
    input_shape: Sequence[int],
    n_out: int,
    device: str = "cpu",
) -> str:
    """A plain-PyTorch script that trains `preset` with `values` for `steps` steps as the Training Studio does
    (same data, initial weights, optimizer and batch order), writes the loss curve and saves the weights.

    `input_shape` and `n_out` are the model's input shape and outputs (the Trainer's data knows them)."""
    if not can_export_training(preset):
        raise ValueError(f"preset {preset.name!r} cannot be exported")
    settings = {s.name: values.get(s.name, s.default) for s in preset.settings if s.type != "path"}
    body = "".join(f"    {k!r}: {_literal(v)},\n" for k, v in settings.items())
    head = _header(
        f"Training Studio run: preset {preset.name}",
        [
            f"Exported from Autograd Explorer. Plain PyTorch (torch=={TORCH_VERSION}): python this_file.py",
            "Same data, initial weights, optimizer and batch order as the app: the loss curve is the app's.",
        ],
    )
    return (
        head
        + f"""import json
import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

NAME = {preset.name!r}
TASK = {preset.task!r}
DEVICE = {str(device)!r}
STEPS = {int(steps)}
S = {{  # the run's settings
{body}}}
torch.set_num_threads(1)
"""
        + _data_code(preset)
        + _model_code(preset, values, tuple(int(d) for d in input_shape), int(n_out))
        + TRAIN_LOOP
    )


def training_py_for(trainer: Any, steps: int | None = None) -> str:
    """`training_py` for a core.training Trainer: its preset, settings, device and the steps it has run."""
    data = trainer.data
    n_out = data.n_classes if data.task == "classification" else 1
    done = trainer.step if steps is None else steps
    return training_py(
        trainer.preset, trainer.values, done or trainer.step_limit, data.input_shape, n_out, str(trainer.device)
    )
