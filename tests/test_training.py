"""Training core: convergence, determinism, divergence, replay, weights I/O safety, CIFAR-10 reader, CLI."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

from core.i18n import STRINGS
from core.limits import MAX_UPLOAD_BYTES
from core.messages import Message
from core.training import cifar, devices, weights
from core.training.cli import presets_command, train_command
from core.training.presets import PRESETS
from core.training.trainer import Trainer, create

ROOT = Path(__file__).resolve().parents[1]


def _trainer(preset: str, **settings: object) -> Trainer:
    trainer, notes = create(preset, settings)
    assert trainer is not None, [m.text() for m in notes]
    return trainer


def _trained(preset: str, **settings: object) -> Trainer:
    trainer = _trainer(preset, **settings)
    trainer.advance(trainer.step_limit)
    assert trainer.divergence is None
    return trainer


def _ols(trainer: Trainer) -> tuple[float, float]:
    """Least squares (intercept, slope) of the training rows, in float64, from torch.linalg.lstsq."""
    x, y = trainer.data.train.x.double(), trainer.data.train.y.double()
    sol = torch.linalg.lstsq(torch.cat([torch.ones_like(x), x], 1), y).solution.flatten()
    return float(sol[0]), float(sol[1])


# --- presets converge -------------------------------------------------------------------------------------------


def test_linear_seed000_finds_a_1_b_2():
    trainer = _trained("linear")
    p = trainer.params()
    assert abs(p["a"] - 1) < 0.1 and abs(p["b"] - 2) < 0.1  # the seed's facts: y = 1 + 2x + noise
    a, b = _ols(trainer)  # gradient descent reached the least-squares line
    assert p["a"] == pytest.approx(a, abs=1e-3) and p["b"] == pytest.approx(b, abs=1e-3)


def test_linear_nn_seed001_predicts_about_21_75_at_4():
    trainer = _trained("linear_nn")
    assert trainer.values["lr"] == 0.011 and trainer.values["momentum"] == 0.89  # the seed's optimizer
    bias, slope = _ols(trainer)
    prediction = trainer.predict([4.0])
    assert prediction == pytest.approx(bias + 4.0 * slope, abs=1e-2)
    assert abs(prediction - 21.75) < 0.5  # the seed reports 21.75


@pytest.mark.slow
def test_digits_reach_90_percent():
    trainer = _trained("digits", steps=180)  # 4 epochs of batch 32 through the DataLoader
    ev = trainer.evaluate()
    assert ev.accuracy >= 0.9
    confusion = torch.tensor(ev.confusion)
    assert int(confusion.sum()) == len(trainer.data.test)
    assert float(confusion.diag().sum()) / len(trainer.data.test) == pytest.approx(ev.accuracy)
    assert len(ev.per_class) == 10 and all(0 <= v <= 1 for v in ev.per_class)


def test_spiral_reaches_90_percent():
    trainer = _trained("spiral", steps=800)  # hidden 32,32,32 tanh, Adam, full batch
    assert trainer.evaluate().accuracy >= 0.9


def test_every_2d_set_and_mse_loss_learn():
    for name in ("circle", "xor", "gauss"):
        trainer = _trained(name)
        assert trainer.evaluate().accuracy >= 0.85, name
    trainer = _trained("gauss", loss="mse", optimizer="sgd", lr=0.5, momentum=0.9)
    assert trainer.evaluate().accuracy >= 0.85


# --- determinism, records, replay -------------------------------------------------------------------------------


def test_same_seed_same_curves_bit_for_bit_whatever_the_chunks():
    one = _trainer("digits", steps=100)
    one.advance(100)
    chunked = _trainer("digits", steps=100)
    while not chunked.finished:
        chunked.advance(7)
    assert one.history.loss == chunked.history.loss
    assert one.history.grad_norms == chunked.history.grad_norms
    assert [e.test_loss for e in one.history.evals] == [e.test_loss for e in chunked.history.evals]
    other = _trainer("digits", steps=100, seed=1)
    other.advance(100)
    assert other.history.loss != one.history.loss


def test_records_per_step_and_per_eval():
    trainer = _trainer("circle", steps=40, eval_every=10)
    trainer.advance(40)
    h = trainer.history
    assert len(h.loss) == len(h.data_loss) == len(h.grad_norms) == 40
    assert h.layers == ["fc1", "fc2", "out"] and all(len(g) == 3 for g in h.grad_norms)
    assert [e.step for e in h.evals] == [0, 10, 20, 30, 40]
    trainer.predict([0.1, 0.2])
    trainer.decision_grid(5)
    assert trainer.model.training  # evaluation and prediction switch to eval() and back to train()
    replay = trainer.replay(39)  # params before step 39, and its gradients
    replay.loss.backward()
    grad = torch.sqrt(replay.names["fc1.weight"].grad.pow(2).sum() + replay.names["fc1.bias"].grad.pow(2).sum())
    assert h.grad_norms[39][0] == pytest.approx(float(grad), rel=1e-6)
    w = dict(trainer.model.named_parameters())  # weight norms at the last evaluation: the weights now
    assert h.evals[-1].weight_norms[2] == pytest.approx(
        float(torch.sqrt(w["out.weight"].detach().pow(2).sum() + w["out.bias"].detach().pow(2).sum()))
    )


def test_dataloader_batches_are_the_ones_replayed():
    trainer = _trainer("digits")
    seen = []
    for _ in range(60):  # crosses the end of epoch 0 (45 batches of 32)
        trainer.advance(1)
        seen.append(trainer.last_batch_indices.clone())
    assert all(torch.equal(seen[k], trainer.batch_indices(k)) for k in range(60))
    assert not torch.equal(trainer.batch_indices(0), trainer.batch_indices(45))  # reshuffled each epoch


def test_replay_step_gives_the_recorded_loss():
    trainer = _trainer("digits", optimizer="adam", lr=0.001, reg="l2", reg_rate=0.001)
    trainer._max_snapshots = 3  # force the stride to double so replays start far from a snapshot
    trainer.advance(120)
    assert trainer._stride > 16
    for k in (0, 1, 15, 16, 33, 64, 100, 119):
        replay = trainer.replay(k)
        assert not isinstance(replay, Message), replay
        assert replay.loss.item() == trainer.history.loss[k], k
        assert replay.loss.grad_fn is not None
    assert isinstance(trainer.replay(120), Message)
    assert isinstance(trainer.replay(-1), Message)


def test_replay_shows_parameters_before_the_step_and_the_regulariser():
    trainer = _trainer("linear", reg="l2", reg_rate=0.01)
    before = {k: v.detach().clone() for k, v in trainer.model.named_parameters()}
    trainer.advance(5)
    replay = trainer.replay(0)
    assert all(torch.equal(replay.names[k], before[k]) for k in before)
    penalty = 0.01 * sum(float(p.pow(2).sum()) for p in before.values())
    assert trainer.history.loss[0] - trainer.history.data_loss[0] == pytest.approx(penalty, rel=1e-4)


def _graph_nodes(view) -> dict[str, dict]:
    return {n.get("label") or n["id"]: n for n in view.result["graph"]["nodes"]}


def _close(got, want: torch.Tensor, tol: float = 1e-5) -> bool:
    return torch.allclose(torch.tensor(got, dtype=torch.float64), want.detach().double(), rtol=tol, atol=tol)


def _before_step(preset: str, k: int, **settings: object) -> tuple[Trainer, dict[str, torch.Tensor]]:
    """A trainer that trained k steps (its real run, not a replay): its parameters are those before step k."""
    ref = _trainer(preset, **settings)
    ref.advance(k)
    return ref, {n: p.detach().clone().requires_grad_(True) for n, p in ref.model.named_parameters()}


def test_step_graph_is_the_programs_pipeline_with_values_at_forward():
    from core.training.inspect import StepGraph, step_graph

    trainer = _trainer("linear")
    trainer.advance(3)
    view = step_graph(trainer, 2)
    assert isinstance(view, StepGraph) and view.loss == trainer.history.loss[2]
    ref, p = _before_step("linear", 2)
    x, y = ref.data.train.batch(ref.batch_indices(2))
    mul = p["b"] * x  # seed 000's model, by hand
    yhat = p["a"] + mul
    loss = torch.nn.functional.mse_loss(yhat, y)
    ga, gb = torch.autograd.grad(loss, [p["a"], p["b"]])
    nodes = _graph_nodes(view)
    assert _close(nodes["a"]["value"], p["a"]) and _close(nodes["a"]["grad"], ga) and _close(nodes["b"]["grad"], gb)
    ops = {n["name"]: n for n in view.result["graph"]["nodes"] if n["kind"] != "leaf" and n["kind"] != "cut"}
    assert _close(ops["mul"]["value"], mul) and _close(ops["add"]["value"], yhat)
    assert _close(nodes["loss"]["value"], loss) and nodes["loss"]["grad_fn"] == "MseLossBackward0"
    assert _close(nodes["x batch"]["value"], x) and _close(nodes["y batch"]["value"], y)
    edges = {(e["src"], e["dst"]) for e in view.result["graph"]["edges"]}
    assert (nodes["x batch"]["id"], ops["mul"]["id"]) in edges
    assert (nodes["y batch"]["id"], nodes["loss"]["id"]) in edges
    steps = view.result["backward_steps"]
    assert [s["grad_fn"] for s in steps][0] == "MseLossBackward0" and all(s["rule"] for s in steps)
    assert view.result["backward_order"] == [s["node"] for s in steps]
    assert all(s["substituted"]["agrees"] for s in steps if s.get("substituted"))


def test_cnn_step_graph_against_torch_directly():
    from core.training.inspect import step_graph

    F = torch.nn.functional
    k = 3
    trainer = _trainer("digits_cnn", steps=10)
    trainer.advance(k + 1)
    view = step_graph(trainer, k)
    assert view.loss == trainer.history.loss[k]
    ref, p = _before_step("digits_cnn", k, steps=10)
    x, y = ref.data.train.batch(ref.batch_indices(k))
    conv = F.conv2d(x, p["conv.weight"], p["conv.bias"], padding=1)
    act = F.relu(conv)
    pool = F.max_pool2d(act, 2)
    bn = F.batch_norm(pool, None, None, p["bn.weight"], p["bn.bias"], training=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(ref.values["seed"]) * 1_000_003 + k + 1)  # the step's own dropout draw
        drop = F.dropout(bn, ref.values["dropout"], training=True)
    out = F.linear(drop.flatten(1), p["out.weight"], p["out.bias"])
    loss = F.cross_entropy(out, y)
    grads = dict(zip(p, torch.autograd.grad(loss, list(p.values())), strict=True))
    nodes = _graph_nodes(view)
    for name, want in (("conv", conv), ("act", act), ("pool", pool), ("bn", bn), ("drop", drop), ("out", out)):
        got = nodes[name]
        assert (
            _close(got["value"], want)
            if got["value"] is not None
            else got["summary"]["max"] == pytest.approx(want.max().item(), rel=1e-5)
        ), name
    assert _close(nodes["loss"]["value"], loss)
    for name, g in grads.items():
        assert _close(nodes[name]["value"], p[name]) and _close(nodes[name]["grad"], g), name
    classes = {s["grad_fn"] for s in view.result["backward_steps"]}
    want = {"ConvolutionBackward0", "ReluBackward0", "MaxPool2DWithIndicesBackward0", "NativeBatchNormBackward0"}
    assert want <= classes
    for s in view.result["backward_steps"]:
        assert s["rule"], s["grad_fn"]
        if s.get("substituted"):
            assert s["substituted"]["agrees"], s["grad_fn"]
    assert nodes["pool"]["name"] == "max_pool2d_with_indices"


def test_big_weights_get_summaries_in_the_step_graph():
    from core.training.inspect import step_graph

    trainer = _trainer("digits", hidden="1024", steps=5)
    trainer.advance(1)
    _, p = _before_step("digits", 0, hidden="1024", steps=5)
    node = _graph_nodes(step_graph(trainer, 0))["fc1.weight"]
    w = p["fc1.weight"].detach().double()
    assert node["value"] is None and node["shape"] == [1024, 64]
    assert node["summary"]["mean"] == pytest.approx(w.mean().item(), rel=1e-9)
    assert node["summary"]["max"] == pytest.approx(w.max().item())


def test_dropout_steps_replay_exactly():
    trainer = _trainer("digits_cnn", steps=6)
    trainer.advance(6)
    for k in (0, 5):
        assert trainer.replay(k).loss.item() == trainer.history.loss[k]


# --- divergence -------------------------------------------------------------------------------------------------------


def test_huge_learning_rate_pauses_with_an_explanation():
    trainer = _trainer("linear", lr=50.0)
    result = trainer.advance(1000)
    d = trainer.divergence
    assert result.diverged and trainer.finished and d is not None
    assert d.what == "loss" and d.step == trainer.step < 50
    assert all(np.isfinite(trainer.history.loss))  # the bad step was not recorded, nor applied
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    text = d.message.text("en")
    assert "learning rate 50 is too high" in text and f"{d.suggested_lr:g}" in text
    assert "学习率" in d.message.text("zh")
    assert trainer.advance(10).steps == 0  # stays paused
    healed = _trained("linear", lr=d.suggested_lr)  # the suggestion trains
    assert abs(healed.params()["b"] - 2) < 0.1


# --- weights: export, import, refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["safetensors", "pt"])
def test_weights_round_trip_bit_exact(fmt):
    source = _trained("circle", steps=30)
    data = source.export(fmt)
    target = _trainer("circle", steps=30, seed=5)  # other initial weights
    msg = target.load_weights(data, f"w.{fmt}")
    assert msg.key == "tr_w_loaded"
    for (k, a), (k2, b) in zip(source.model.state_dict().items(), target.model.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(a, b)
    assert target.step == 0 and target.predict([0.1, 0.2]) == source.predict([0.1, 0.2])


def _pt(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_bad_weight_files_are_refused_with_a_message(tmp_path):
    trainer = _trainer("linear")
    a, b = torch.zeros(1), torch.zeros(1)
    marker = tmp_path / "pwned"
    evil = _Evil()
    evil.marker = marker
    raw_evil = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."  # a bare pickle: GLOBAL os.system
    cases = {
        "malformed": (b"this is not a weights file at all", "tr_w_not_weights"),
        "empty": (b"", "tr_w_empty"),
        "wrong keys": (st_save({"w": a, "b": b}), "tr_w_keys"),
        "wrong shape": (st_save({"a": torch.zeros(2), "b": b}), "tr_w_shape"),
        "int dtype": (st_save({"a": torch.zeros(1, dtype=torch.int64), "b": b}), "tr_w_dtype"),
        "nan": (st_save({"a": torch.tensor([float("nan")]), "b": b}), "tr_w_nonfinite"),
        "non-tensor values": (_pt({"a": 1.0, "b": 2.0}), "tr_w_not_tensor"),
        "nested": (_pt({"state_dict": {"a": a, "b": b}}), "tr_w_not_tensor"),
        "not a dict": (_pt([a, b]), "tr_w_not_dict"),
        "oversize": (b"\0" * (MAX_UPLOAD_BYTES + 1), "tr_w_too_big"),
        "malicious zip .pt": (_pt({"a": a, "b": evil}), "tr_w_unsafe"),
        "malicious bare pickle": (raw_evil, "tr_w_unsafe"),
    }
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    for name, (data, key) in cases.items():
        msg = trainer.load_weights(data, "upload.pt")
        assert msg.key == key, (name, msg.text())
        assert msg.text("en") and "Traceback" not in msg.text("en")
    assert not marker.exists()  # nothing ran
    assert all(torch.equal(v, trainer.model.state_dict()[k]) for k, v in before.items())  # nothing changed
    wide = _trainer("digits", hidden="32,64")
    msg = wide.load_weights(_trainer("digits").export("safetensors"), "digits.safetensors")
    assert msg.key == "tr_w_shape" and "fc1.weight" in msg.text()


# --- CIFAR-10 from a folder, parsed safely --------------------------------------------------------------------------


def _fake_cifar(folder: Path, n: int = 20) -> None:
    rng = np.random.default_rng(0)
    for name in (*cifar.TRAIN_FILES, cifar.TEST_FILE):
        batch = {
            b"batch_label": name.encode(),
            b"labels": [int(v) for v in rng.integers(0, 10, n)],
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"filenames": [f"{i}.png".encode() for i in range(n)],
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))


def test_cifar10_from_a_folder_of_fake_batches(tmp_path):
    _fake_cifar(tmp_path)
    images, labels = cifar.read_batch(tmp_path / "data_batch_1")
    raw = pickle.loads((tmp_path / "data_batch_1").read_bytes())  # our own file, made just above
    assert np.array_equal(images.reshape(20, 3072), raw[b"data"]) and labels.tolist() == raw[b"labels"]
    trainer = _trainer("cifar10", folder=str(tmp_path), max_train=50, hidden="16", batch_size=8, steps=10)
    assert len(trainer.data.train) == 50 and trainer.data.input_shape == (3, 32, 32)
    assert list(trainer.model.state_dict())[0] == "fc1.weight"  # Flatten first, then Linear + ReLU (seed 003)
    trainer.advance(10)
    assert trainer.step == 10 and trainer.divergence is None
    missing, notes = create("cifar10", {"folder": str(tmp_path / "nowhere")})
    assert missing is None and notes[-1].key == "tr_cifar_not_dir"
    assert create("cifar10", {})[1][-1].key == "tr_cifar_no_folder"


def test_safe_unpickle_reads_numpy_arrays_like_numpy_does():
    raw = bytes(range(6))
    py2 = (  # how Python 2 (which wrote the real CIFAR-10 batches) pickles {'data': uint8 array, 'labels': [1, 2]}
        b"\x80\x02}q\x00(U\x04dataq\x01cnumpy.core.multiarray\n_reconstruct\nq\x02cnumpy\nndarray\nq\x03K\x00\x85U"
        b"\x01b\x87Rq\x04(K\x01K\x02K\x03\x86cnumpy\ndtype\nq\x05U\x02u1K\x00K\x01\x87Rq\x06(K\x03U\x01|NNNJ\xff\xff"
        b"\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x06" + raw + b"tbU\x06labels]q\x07(K\x01K\x02eu."
    )
    trusted = pickle.loads(py2, encoding="bytes")  # our own bytes, built just above: numpy's answer
    ours = cifar.safe_unpickle(py2)
    assert np.array_equal(ours["data"], trusted[b"data"]) and ours["data"].dtype == np.uint8
    assert ours["labels"] == trusted[b"labels"] == [1, 2]
    big_endian = np.arange(6, dtype=">i8").reshape(3, 2, order="F")
    for protocol in (2, 4, 5):
        back = cifar.safe_unpickle(pickle.dumps({"x": big_endian, "y": np.ones(3, "<f4")}, protocol))
        assert np.array_equal(back["x"], big_endian) and back["y"].tolist() == [1.0, 1.0, 1.0]


def test_cifar10_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    _fake_cifar(tmp_path)
    (tmp_path / "data_batch_1").write_bytes(b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")
    trainer, notes = create("cifar10", {"folder": str(tmp_path)})
    assert trainer is None and notes[-1].key == "tr_cifar_unsafe" and "os.system" in notes[-1].text()
    assert not marker.exists()
    for payload in (
        pickle.dumps({"x": np.array([object()], dtype=object)}, protocol=2),  # object arrays: dtype 'O' refused
        b"cbuiltins\neval\n(S'1+1'\ntR.",
        b"\x80\x02cnumpy\nndarray\nK\x05\x85R.",  # calling ndarray itself (a huge empty array) is refused
        b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncos\nsystem\nK\x00\x85c_codecs\nencode\n(X\x01\x00\x00\x00bX"
        b"\x06\x00\x00\x00latin1tR\x87R.",
    ):
        with pytest.raises(pickle.UnpicklingError):
            cifar.safe_unpickle(payload)
    assert not marker.exists()


# --- presets table, device --------------------------------------------------------------------------------------


def test_preset_table_feeds_parsing_urls_and_strings():
    for p in PRESETS.values():
        assert p.description_key in STRINGS
        for s in p.settings:
            assert s.label_key in STRINGS, s.name
            assert all(f"tr_choice_{c}" in STRINGS for c in s.choices)
            assert s.parse(s.to_text(s.default)) == s.default  # URL text round-trips
        assert p.parse(p.to_query(p.defaults())) == (p.defaults(), [])
    spiral = PRESETS["spiral"]
    values, problems = spiral.parse({"lr": "0.3", "hidden": "4, 5", "optimizer": "rmsprop", "n_points": "9e9"})
    assert values["lr"] == 0.3 and values["hidden"] == (4, 5)
    assert values["optimizer"] == "adam" and values["n_points"] == 400  # bad ones keep their defaults...
    assert {m.args["name"] for m in problems} == {"optimizer", "n_points"}  # ...and are reported
    assert spiral.to_query(values) == {"preset": "spiral", "lr": "0.3", "hidden": "4,5"}
    assert spiral.fingerprint({**values, "steps": 5}) == spiral.fingerprint({**values, "steps": 9})  # steps is live


def test_device_falls_back_to_cpu_with_a_note():
    dev, note = devices.resolve("cpu")
    assert dev.type == "cpu" and note is None
    dev, note = devices.resolve("tpu")
    assert dev.type == "cpu" and note.key == "tr_dev_unknown"
    if not torch.cuda.is_available():
        dev, note = devices.resolve("cuda")
        assert dev.type == "cpu" and note.key == "tr_dev_no_cuda"
        trainer, notes = create("gauss", {}, device="cuda:0")
        assert trainer.device.type == "cpu" and notes[0].key == "tr_dev_no_cuda"


# --- CLI -------------------------------------------------------------------------------------------------------------


def _cli(capsys, *args: object, **kwargs: object) -> tuple[int, str]:
    code = train_command(*args, **kwargs)
    return code, capsys.readouterr().out


def test_cli_json_fields(capsys):
    code, out = _cli(capsys, "linear", None, 0, "json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["preset"] == "linear" and result["steps"] == 1000
    assert abs(result["params"]["a"] - 1) < 0.1 and abs(result["params"]["b"] - 2) < 0.1
    assert result["test_loss"] > 0 and result["train_loss"] > 0
    assert result["predict_x"] == 4.0
    assert result["prediction"] == pytest.approx(result["params"]["a"] + 4 * result["params"]["b"], rel=1e-5)
    code, out = _cli(capsys, "gauss", 30, 0, "json")
    result = json.loads(out)
    assert result["steps"] == 30 and 0 <= result["accuracy"] <= 1 and "prediction" not in result
    code, out = _cli(capsys, "linear", 20, 0, "text")
    assert code == 0 and "params: a = " in out and "prediction at x = 4" in out


def test_cli_errors_are_json_values(capsys):
    code, out = _cli(capsys, "nope", None, 0, "json")
    error = json.loads(out)
    assert code == 2 and error["ok"] is False and error["error"]["kind"] == "runtime"
    assert "unknown preset 'nope'" in error["error"]["message"]
    code, out = _cli(capsys, "linear", 10**9, 0, "json")
    assert code == 2 and json.loads(out)["error"]["kind"] == "limit"
    code, out = _cli(capsys, "cifar10", 5, 0, "json")
    assert code == 2 and "AUTOGRAD_CIFAR10_DIR" in json.loads(out)["error"]["message"]
    code, out = _cli(capsys, "linear", 100, 0, "json", device="cuda")  # no GPU: runs on the CPU anyway
    assert code == 0 and json.loads(out)["device"] in ("cpu", "cuda:0")
    assert presets_command() == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(PRESETS)


@pytest.mark.slow
def test_cli_process_unknown_preset_and_linear_nn():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "core", "train", "--preset", "nope"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and json.loads(run.stdout)["ok"] is False and "Traceback" not in run.stderr
    run = subprocess.run(
        [sys.executable, "-m", "core", "train", "--preset", "linear_nn", "--steps", "200", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = json.loads(run.stdout)
    assert run.returncode == 0 and result["steps"] == 200 and set(result["params"]) == {"linear.weight", "linear.bias"}


def test_diverged_summary_is_valid_json():
    from core.training.cli import summary

    trainer = _trainer("linear_nn", lr=5.0)
    trainer.advance(1000)
    result = summary(trainer)
    json.dumps(result, allow_nan=False)  # 'inf'/'nan' are strings, JSON stays valid
    assert result["diverged"]["step"] == trainer.step and "too high" in result["diverged"]["message"]


def test_weights_module_refuses_before_parsing():
    model = _trainer("linear").model
    state, msg = weights.read(b"x" * (MAX_UPLOAD_BYTES + 1), model)
    assert state is None and msg.args["max"] == MAX_UPLOAD_BYTES
