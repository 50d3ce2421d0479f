"""Hostile weight uploads (issue #13): the server process never parses or inflates untrusted bytes.

The attack files are built here: a `.pt` whose data.pkl declares a 256 MiB storage backed by a deflated zip entry
of zeros (a ~250 KB upload that `torch.load(weights_only=True)` would inflate in the app server), the same with a
zip header that declares 2 GiB, safetensors headers that lie about sizes, meta and sparse tensors, random bytes.
"""

from __future__ import annotations

import base64
import io
import json
import resource
import struct
import zipfile

import pytest
import torch
from safetensors.torch import save as st_save

from core.i18n import t
from core.limits import MAX_UPLOAD_BYTES, MAX_WEIGHTS_UNPACKED_BYTES
from core.sandbox import parse_weights, run_program, uploads
from core.sandbox.pool import pool
from core.training import weights
from core.training.trainer import create

VALID = "a = torch.ones(2, requires_grad=True)\n(a * a).sum().backward()"


def _pt(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _linear():
    trainer, _ = create("linear")
    return trainer


def _bomb(n_bytes: int, declare: int | None = None) -> bytes:
    """{'a', 'b'} for the linear preset, 'a' backed by an n_bytes storage: data.pkl patched to that size, the zip
    entry of deflated zeros. `declare` rewrites the entry's declared uncompressed size (a lying header)."""
    base = _pt({"a": torch.zeros(1), "b": torch.zeros(1)})
    zin = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("data.pkl"):
                old = b"X\x03\x00\x00\x00cpuq\x06K\x01t"  # storage ('storage', FloatStorage, '0', 'cpu', numel=1)
                assert old in data
                data = data.replace(old, old[:-3] + b"J" + struct.pack("<i", n_bytes // 4) + b"t", 1)
            if info.filename.endswith("/data/0"):
                entry = zipfile.ZipInfo(info.filename)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(entry, "w", force_zip64=True) as f:
                    chunk = bytes(1 << 22)
                    for _ in range(n_bytes >> 22):
                        f.write(chunk)
                continue
            zout.writestr(info, data)
    blob = out.getvalue()
    if declare is not None:  # patch the zip64 extra fields' uncompressed size (local header and central directory)
        blob = blob.replace(struct.pack("<Q", n_bytes), struct.pack("<Q", declare))
    return blob


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _bomb(256 * 1024**2)


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def test_the_crafted_bomb_really_inflates(bomb: bytes) -> None:
    """The test file is the attack: small on the wire, 256 MiB as its zip declares (what torch.load would allocate)."""
    assert len(bomb) < 1024**2 < 256 * 1024**2
    with zipfile.ZipFile(io.BytesIO(bomb)) as z:
        assert sum(i.file_size for i in z.infolist()) > 256 * 1024**2 - 1


def test_deflate_bomb_is_refused_without_inflating_in_the_server(bomb: bytes, monkeypatch: pytest.MonkeyPatch):
    trainer = _linear()
    run_program(VALID, graph=False)  # the pool is up: its start does not count
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("the server process called torch.load"))
    before = _peak_rss()
    msg = trainer.load_weights(bomb, "bomb.pt")
    assert msg.key == "tr_w_inflated", msg.text()
    assert _peak_rss() - before < 64 * 1024**2  # the 256 MiB were never allocated here
    lying = _bomb(64 * 1024**2, declare=2 * 1024**3)
    assert trainer.load_weights(lying, "lying.pt").key == "tr_w_inflated"
    assert _peak_rss() - before < 64 * 1024**2
    assert trainer.load_weights(trainer.export("pt"), "ok.pt").key == "tr_w_loaded"  # the next upload works


def test_the_worker_refuses_what_the_size_check_would_let_through() -> None:
    """A patched storage size without the bytes behind it: torch refuses in the worker, a message comes back."""
    base = _pt({"a": torch.zeros(1), "b": torch.zeros(1)})
    zin = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("data.pkl"):
                data = data.replace(b"cpuq\x06K\x01t", b"cpuq\x06J" + struct.pack("<i", 2**29) + b"t", 1)
            zout.writestr(info, data)
    msg = _linear().load_weights(out.getvalue(), "patched.pt")
    assert msg.key == "tr_w_not_weights", msg.text()


def _safetensors_with(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


@pytest.mark.parametrize(
    "header, body",
    [
        ({"a": {"dtype": "F32", "shape": [1 << 28], "data_offsets": [0, 1 << 30]}}, b"\0" * 8),  # declares 1 GiB
        (
            {
                "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                "b": {"dtype": "F32", "shape": [1000], "data_offsets": [4, 4004]},
            },
            b"\0" * 8,
        ),  # past the end
        ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),  # shape x itemsize != range
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4 + b"\0" * 4096),  # trailing bytes
        (
            {
                "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
                "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
            },
            b"\0" * 8,
        ),  # overlapping
    ],
)
def test_safetensors_headers_must_match_the_byte_length(header: dict, body: bytes) -> None:
    data = _safetensors_with(header, body)
    assert uploads.safetensors_sizes(data) is not None
    msg = _linear().load_weights(data, "x.safetensors")
    assert msg.key in ("tr_w_unreadable", "tr_w_inflated"), msg.text()


def test_honest_files_pass_the_size_checks() -> None:
    trainer = _linear()
    assert uploads.safetensors_sizes(trainer.export("safetensors")) is None
    assert uploads.zip_sizes(trainer.export("pt")) is None
    big = _pt({"w": torch.zeros(4 * 1024**2)})  # 16 MiB, under the upload cap
    assert uploads.zip_sizes(big) is None and len(big) <= MAX_UPLOAD_BYTES <= MAX_WEIGHTS_UNPACKED_BYTES


def test_odd_tensors_are_refused_with_a_message() -> None:
    trainer = _linear()
    meta = _pt({"a": torch.zeros(1, device="meta"), "b": torch.zeros(1, device="meta")})
    sparse = _pt({"a": torch.zeros(1).to_sparse(), "b": torch.zeros(1)})
    for data in (meta, sparse):
        msg = trainer.load_weights(data, "odd.pt")
        assert msg.key == "tr_w_odd_tensor", msg.text()
    assert (
        trainer.load_weights(_pt({"a": torch.zeros(1, dtype=torch.complex64), "b": torch.zeros(1)}), "c.pt").key
        == "tr_w_dtype"
    )


def test_random_bytes_get_a_translated_message_not_torch_text() -> None:
    trainer = _linear()
    for data in (bytes(range(256)) * 40, b"PK\x03\x04" + bytes(1000), b"\x80\x02" + bytes(100)):
        msg = trainer.load_weights(data, "random.pt")
        assert msg.key == "tr_w_not_weights"
        en, zh = msg.text("en"), msg.text("zh")
        assert "weights_only" not in en and "weights only" not in en.lower() and "Traceback" not in en
        assert zh == t("tr_w_not_weights", "zh") and "权重文件" in zh


def test_worker_answers_are_checked_again_here() -> None:
    """A forged worker answer (a safetensors blob declaring more than it holds, or other shapes) is refused."""
    forged = _safetensors_with({"a": {"dtype": "F32", "shape": [1 << 20], "data_offsets": [0, 4 << 20]}}, b"\0" * 4)
    assert weights._from_worker({"ok": True, "safetensors": base64.b64encode(forged).decode()})[0] == forged
    assert uploads.safetensors_sizes(forged, cap=8) is not None
    _, msg = weights._from_worker({"ok": False, "message": {"key": "not_a_weights_key", "args": {}}})
    assert msg.key == "tr_w_checker"
    _, msg = weights._from_worker({"ok": False, "error": {"kind": "limit", "message": "", "line": None}})
    assert msg.key == "tr_w_checker" and "limit" in msg.text()


def test_upload_bytes_travel_framed_and_capped_per_command() -> None:
    expected = {"w": [1024, 1024]}
    data = st_save({"w": torch.ones(1024, 1024)})  # 4 MiB: over the 1 MiB request cap for programs
    answer = parse_weights(data, "w.safetensors", expected)
    assert answer["ok"], answer
    back = base64.b64decode(answer["safetensors"])
    assert uploads.safetensors_sizes(back) is None and len(back) == len(data)
    big_program = "x = 1\n" * 200_000  # 1.2 MB of JSON: still refused as a run request
    assert run_program(big_program, graph=False)["ok"] is False
    assert pool().request({"cmd": "weights", "expected": {}, "blob": "inline"})["ok"] is False  # no blob frame
    assert run_program(VALID, graph=False)["ok"]
