"""CIFAR-10 from a local folder of its python batches, parsed without ever running code from the pickles.

The batches are pickles of {b"data": uint8 ndarray (N, 3072), b"labels": [int], ...}. A pickle may call any
importable function, so the unpickler here resolves only the four globals a numpy array needs, and each of
them builds an inert stub of this module (never a numpy object): the array is then made from the raw bytes
by `np.frombuffer` after its dtype, shape and length have been checked. Anything else is refused.
"""

from __future__ import annotations

import io
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.limits import CIFAR_MAX_FILE_BYTES
from core.messages import Message
from core.training.datasets import ArrayDataset, Data

TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
_DTYPES = {"u1", "|u1", "uint8", "i1", "b1", "<i8", "i8", "<i4", "i4", "<f4", "f4", "<f8", "f8"}


class UnsafePickle(pickle.UnpicklingError):
    """The pickle asked for something other than plain data and numpy arrays."""


def _text(x: Any) -> str:
    if isinstance(x, bytes):
        return x.decode("latin1")
    if isinstance(x, str):
        return x
    raise UnsafePickle(f"expected text, got {type(x).__name__}")


class _ArrayClass:
    """Stands for `numpy.ndarray` as an argument; it cannot be called."""


class _DtypeStub:
    """What `numpy.dtype(spec, align, copy)` would build: the spec and its pickled state, nothing else."""

    def __init__(self, spec: Any, align: Any = False, copy: Any = True) -> None:
        self.spec = _text(spec)
        if self.spec not in _DTYPES:
            raise UnsafePickle(f"dtype {self.spec!r} refused")
        self.order = "|"

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) < 2:
            raise UnsafePickle("bad dtype state")
        self.order = _text(state[1])
        if self.order not in ("|", "<", ">", "="):
            raise UnsafePickle("bad byte order")

    def to_numpy(self) -> np.dtype:
        base = np.dtype(self.spec.lstrip("|<>="))
        order: Any = self.order  # one of "|<>=", checked when the header was read
        return base.newbyteorder(order) if order in "<>" and base.itemsize > 1 else base


class _ArrayStub:
    """What numpy's `_reconstruct(ndarray, shape, dtype)` + BUILD state would build, kept as plain data."""

    def __init__(self, cls: Any = None, shape: Any = (0,), dtype: Any = None) -> None:
        if cls is not _ArrayClass:
            raise UnsafePickle("only numpy.ndarray can be reconstructed")
        self.shape: tuple[int, ...] = ()
        self.dtype: _DtypeStub | None = None
        self.raw = b""
        self.fortran = False

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) != 5:
            raise UnsafePickle("bad array state")
        _version, shape, dtype, fortran, raw = state
        if not isinstance(dtype, _DtypeStub) or not isinstance(shape, tuple):
            raise UnsafePickle("bad array state")
        if not all(isinstance(n, int) and n >= 0 for n in shape):
            raise UnsafePickle("bad array shape")
        self.shape, self.dtype, self.fortran = shape, dtype, bool(fortran)
        self.raw = raw.encode("latin1") if isinstance(raw, str) else raw
        if not isinstance(self.raw, (bytes, bytearray)):
            raise UnsafePickle("array data must be bytes")

    def to_numpy(self) -> np.ndarray:
        assert self.dtype is not None
        dtype = self.dtype.to_numpy()
        if math.prod(self.shape) * dtype.itemsize != len(self.raw):
            raise UnsafePickle("array data length does not match its shape")
        return np.frombuffer(bytes(self.raw), dtype=dtype).reshape(self.shape, order="F" if self.fortran else "C")


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: Any = "C") -> _ArrayStub:
    """Protocol-5 numpy arrays: `_frombuffer(bytes, dtype, shape, order)`."""
    stub = _ArrayStub(_ArrayClass)
    stub.__setstate__(
        (
            1,
            tuple(shape) if isinstance(shape, (tuple, list)) else shape,
            dtype,
            _text(order) == "F",
            bytes(buf) if isinstance(buf, bytearray) else buf,
        )
    )
    return stub


def _codecs_encode(text: Any, encoding: Any = "utf-8") -> bytes:
    """Python 3 pickles (protocol < 3) store bytes as `_codecs.encode(str, 'latin1')`."""
    if not isinstance(text, str) or encoding != "latin1":
        raise UnsafePickle("only _codecs.encode(str, 'latin1') is allowed")
    return text.encode("latin1")


_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _ArrayStub,
    ("numpy._core.multiarray", "_reconstruct"): _ArrayStub,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): _ArrayClass,
    ("numpy", "dtype"): _DtypeStub,
    ("_codecs", "encode"): _codecs_encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickle(f"refused global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickle("persistent ids refused")


def _plain(obj: Any, depth: int = 0) -> Any:
    """Stubs -> numpy arrays; anything but dict/list/tuple/bytes/str/int/float/bool/None is refused."""
    if depth > 8:
        raise UnsafePickle("nesting too deep")
    if isinstance(obj, _ArrayStub):
        return obj.to_numpy()
    if isinstance(obj, dict):
        return {_text(k) if isinstance(k, (bytes, str)) else k: _plain(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v, depth + 1) for v in obj]
    if obj is None or isinstance(obj, (bytes, bytearray, str, int, float, bool)):
        return obj
    raise UnsafePickle(f"{type(obj).__name__} refused")


def safe_unpickle(data: bytes) -> Any:
    """Plain data (and numpy arrays) from pickle bytes; UnsafePickle for anything that would run code."""
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except UnsafePickle:
        raise
    except Exception as e:  # noqa: BLE001 - truncated or corrupt pickles raise many kinds of errors
        raise pickle.UnpicklingError(f"corrupt pickle: {type(e).__name__}") from None
    return _plain(obj)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch -> images uint8 (N, 3, 32, 32) and labels int64 (N,)."""
    if path.stat().st_size > CIFAR_MAX_FILE_BYTES:
        raise pickle.UnpicklingError(f"{path.name} is larger than a CIFAR-10 batch")
    batch = safe_unpickle(path.read_bytes())
    if not isinstance(batch, dict) or "data" not in batch or "labels" not in batch:
        raise pickle.UnpicklingError(f"{path.name} is not a CIFAR-10 batch (no data/labels)")
    images, labels = batch["data"], batch["labels"]
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3072:
        raise pickle.UnpicklingError(f"{path.name}: data is not uint8 rows of 3072 pixels")
    if not isinstance(labels, list) or len(labels) != len(images):
        raise pickle.UnpicklingError(f"{path.name}: labels do not match the images")
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 10 for v in labels):
        raise pickle.UnpicklingError(f"{path.name}: labels must be integers 0..9")
    return images.reshape(-1, 3, 32, 32), np.asarray(labels, dtype=np.int64)


def _normalise(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> floats in [-1, 1] (seed 003's Normalize(0.5, 0.5) per channel)."""
    return x.float().div_(255).sub_(0.5).div_(0.5)


def load(folder: str, max_train: int) -> tuple[Data | None, Message | None]:
    """CIFAR-10 from `folder` (data_batch_1..5, test_batch): at most `max_train` training images, a fifth of
    that many test images (at least 100). A missing, oversized or unsafe file is a Message."""
    if not folder:
        return None, Message("tr_cifar_no_folder")
    root = Path(folder).expanduser()
    if not root.is_dir():
        return None, Message("tr_cifar_not_dir", {"folder": folder})
    missing = [name for name in (*TRAIN_FILES, TEST_FILE) if not (root / name).is_file()]
    if missing:
        return None, Message("tr_cifar_missing", {"folder": folder, "files": ", ".join(missing)})
    try:
        xs, ys, have = [], [], 0
        for name in TRAIN_FILES:
            if have >= max_train:
                break
            x, y = read_batch(root / name)
            xs.append(x[: max_train - have])
            ys.append(y[: max_train - have])
            have += len(xs[-1])
        x_test, y_test = read_batch(root / TEST_FILE)
    except UnsafePickle as e:
        return None, Message("tr_cifar_unsafe", {"detail": str(e)[:200]})
    except (pickle.UnpicklingError, OSError) as e:
        return None, Message("tr_cifar_bad", {"detail": str(e)[:200]})
    n_test = min(len(x_test), max(100, max_train // 5))
    train = ArrayDataset(torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys)), _normalise)
    test = ArrayDataset(torch.from_numpy(x_test[:n_test].copy()), torch.from_numpy(y_test[:n_test]), _normalise)
    return Data(
        "classification", train, test, n_classes=10, class_names=list(CLASS_NAMES), description=f"CIFAR-10 from {root}"
    ), None
