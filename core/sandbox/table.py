"""The user's language: every name, function, attribute and keyword a program may use (an allowlist)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

# Keyword sets reused across many functions.
_FACTORY = frozenset({"dtype", "device", "requires_grad"})
_LIKE = frozenset({"dtype", "device", "requires_grad"})
_DIM = frozenset({"dim", "keepdim", "dtype"})
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Fn:
    """A callable the program may use, with the keyword arguments it may pass."""

    name: str
    impl: Callable[..., Any]
    kwargs: frozenset[str] = _NONE

    def __repr__(self) -> str:  # print(torch.tensor) shows a name, not the implementation (or its address)
        return f"<function {self.name}>"


@dataclass(frozen=True)
class Namespace:
    """A stand-in for a module (`torch`, `nn`, `F` ...): only its listed members exist."""

    name: str
    members: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<module {self.name}>"


class GradMode:
    """Marks the context managers a `with` statement may enter."""

    ALLOWED = (torch.no_grad, torch.enable_grad, torch.set_grad_enabled, torch.inference_mode)


def _fns(names: dict[str, frozenset[str]], source: Any, prefix: str) -> dict[str, Fn]:
    return {n: Fn(f"{prefix}.{n}", getattr(source, n), kw) for n, kw in names.items()}


# --- torch.* functions, with their keyword arguments ------------------------------------------------
_TORCH_FUNCS: dict[str, frozenset[str]] = {
    # creation
    "tensor": _FACTORY,
    "empty": _FACTORY,
    "zeros": _FACTORY,
    "ones": _FACTORY,
    "full": _FACTORY,
    "rand": _FACTORY,
    "randn": _FACTORY,
    "randint": _FACTORY,
    "randperm": _FACTORY,
    "arange": _FACTORY | {"step"},  # the documented keywords for sizes; every size still meets the guard's check
    "linspace": _FACTORY | {"steps"},
    "logspace": _FACTORY | {"steps", "base"},
    "eye": _FACTORY,
    "empty_like": _LIKE,
    "zeros_like": _LIKE,
    "ones_like": _LIKE,
    "full_like": _LIKE,
    "rand_like": _LIKE,
    "randn_like": _LIKE,
    "randint_like": _LIKE,
    "hamming_window": _FACTORY | {"periodic", "alpha", "beta"},
    "hann_window": _FACTORY | {"periodic"},
    "complex": _NONE,
    # arithmetic and elementwise
    "add": frozenset({"alpha", "out"}),
    "sub": frozenset({"alpha", "out"}),
    "mul": frozenset({"out"}),
    "div": frozenset({"rounding_mode", "out"}),
    "true_divide": _NONE,
    "pow": _NONE,
    "neg": _NONE,
    "abs": _NONE,
    "exp": _NONE,
    "log": _NONE,
    "log2": _NONE,
    "log10": _NONE,
    "log1p": _NONE,
    "expm1": _NONE,
    "sqrt": _NONE,
    "rsqrt": _NONE,
    "square": _NONE,
    "reciprocal": _NONE,
    "sin": _NONE,
    "cos": _NONE,
    "tan": _NONE,
    "asin": _NONE,
    "acos": _NONE,
    "atan": _NONE,
    "atan2": _NONE,
    "sinh": _NONE,
    "cosh": _NONE,
    "tanh": _NONE,
    "sigmoid": _NONE,
    "relu": _NONE,
    "softmax": frozenset({"dim", "dtype"}),
    "log_softmax": frozenset({"dim", "dtype"}),
    "clamp": frozenset({"min", "max"}),
    "clip": frozenset({"min", "max"}),
    "floor": _NONE,
    "ceil": _NONE,
    "round": frozenset({"decimals"}),
    "trunc": _NONE,
    "sign": _NONE,
    "maximum": _NONE,
    "minimum": _NONE,
    "where": _NONE,
    "lerp": _NONE,
    "erf": _NONE,
    "isnan": _NONE,
    "isinf": _NONE,
    "isfinite": _NONE,
    "nan_to_num": frozenset({"nan", "posinf", "neginf"}),
    # comparison
    "eq": _NONE,
    "ne": _NONE,
    "gt": _NONE,
    "ge": _NONE,
    "lt": _NONE,
    "le": _NONE,
    "equal": _NONE,
    "allclose": frozenset({"rtol", "atol", "equal_nan"}),
    "isclose": frozenset({"rtol", "atol", "equal_nan"}),
    # linear algebra
    "matmul": _NONE,
    "mm": _NONE,
    "bmm": _NONE,
    "mv": _NONE,
    "dot": _NONE,
    "outer": _NONE,
    "addmm": frozenset({"beta", "alpha"}),
    "einsum": _NONE,
    "trace": _NONE,
    "det": _NONE,
    "inverse": _NONE,
    "cross": frozenset({"dim"}),
    # reductions
    "sum": _DIM,
    "mean": _DIM,
    "prod": _DIM,
    "std": _DIM | {"unbiased", "correction"},
    "var": _DIM | {"unbiased", "correction"},
    "max": frozenset({"dim", "keepdim"}),
    "min": frozenset({"dim", "keepdim"}),
    "amax": frozenset({"dim", "keepdim"}),
    "amin": frozenset({"dim", "keepdim"}),
    "argmax": frozenset({"dim", "keepdim"}),
    "argmin": frozenset({"dim", "keepdim"}),
    "norm": frozenset({"p", "dim", "keepdim"}),
    "logsumexp": frozenset({"dim", "keepdim"}),
    "cumsum": frozenset({"dim", "dtype"}),
    "cumprod": frozenset({"dim", "dtype"}),
    "all": frozenset({"dim", "keepdim"}),
    "any": frozenset({"dim", "keepdim"}),
    "count_nonzero": frozenset({"dim"}),
    # sorting and selection
    "sort": frozenset({"dim", "descending", "stable"}),
    "argsort": frozenset({"dim", "descending", "stable"}),
    "topk": frozenset({"k", "dim", "largest", "sorted"}),
    "kthvalue": frozenset({"dim", "keepdim"}),
    "unique": frozenset({"sorted", "return_inverse", "return_counts", "dim"}),
    "gather": frozenset({"dim", "index"}),
    "index_select": frozenset({"dim", "index"}),
    "masked_select": _NONE,
    "nonzero": frozenset({"as_tuple"}),
    # shapes
    "cat": frozenset({"dim"}),
    "concat": frozenset({"dim"}),
    "stack": frozenset({"dim"}),
    "hstack": _NONE,
    "vstack": _NONE,
    "reshape": _NONE,
    "flatten": frozenset({"start_dim", "end_dim"}),
    "squeeze": frozenset({"dim"}),
    "unsqueeze": frozenset({"dim"}),
    "transpose": _NONE,
    "t": _NONE,
    "permute": frozenset({"dims"}),
    "flip": frozenset({"dims"}),
    "roll": frozenset({"shifts", "dims"}),
    "chunk": frozenset({"chunks", "dim"}),
    "split": frozenset({"split_size_or_sections", "dim"}),
    "narrow": _NONE,
    "tril": frozenset({"diagonal"}),
    "triu": frozenset({"diagonal"}),
    "diag": frozenset({"diagonal"}),
    "broadcast_to": _NONE,
    # misc
    "manual_seed": _NONE,
    "is_tensor": _NONE,
    "numel": _NONE,
    "is_floating_point": _NONE,
    "get_default_dtype": _NONE,
    "is_grad_enabled": _NONE,
    "no_grad": _NONE,
    "enable_grad": _NONE,
    "set_grad_enabled": frozenset({"mode"}),
    "inference_mode": frozenset({"mode"}),
}

_LINALG_FUNCS: dict[str, frozenset[str]] = {
    "eig": _NONE,
    "eigvals": _NONE,
    "eigh": frozenset({"UPLO"}),
    "eigvalsh": frozenset({"UPLO"}),
    "inv": _NONE,
    "det": _NONE,
    "solve": _NONE,
    "svd": frozenset({"full_matrices"}),
    "svdvals": _NONE,
    "qr": frozenset({"mode"}),
    "norm": frozenset({"ord", "dim", "keepdim"}),
    "vector_norm": frozenset({"ord", "dim", "keepdim"}),
    "matrix_norm": frozenset({"ord", "dim", "keepdim"}),
    "matrix_rank": _NONE,
    "cholesky": _NONE,
    "pinv": _NONE,
}

_F_FUNCS: dict[str, frozenset[str]] = {
    "relu": _NONE,
    "leaky_relu": frozenset({"negative_slope"}),
    "gelu": frozenset({"approximate"}),
    "elu": frozenset({"alpha"}),
    "silu": _NONE,
    "softplus": frozenset({"beta", "threshold"}),
    "sigmoid": _NONE,
    "tanh": _NONE,
    "softmax": frozenset({"dim", "dtype"}),
    "log_softmax": frozenset({"dim", "dtype"}),
    "linear": frozenset({"bias"}),
    "dropout": frozenset({"p", "training"}),
    "one_hot": frozenset({"num_classes"}),
    "normalize": frozenset({"p", "dim"}),
    "mse_loss": frozenset({"reduction"}),
    "l1_loss": frozenset({"reduction"}),
    "smooth_l1_loss": frozenset({"reduction", "beta"}),
    "huber_loss": frozenset({"reduction", "delta"}),
    "cross_entropy": frozenset({"reduction", "weight", "ignore_index", "label_smoothing"}),
    "nll_loss": frozenset({"reduction", "weight", "ignore_index"}),
    "binary_cross_entropy": frozenset({"reduction", "weight"}),
    "binary_cross_entropy_with_logits": frozenset({"reduction", "weight", "pos_weight"}),
    "kl_div": frozenset({"reduction", "log_target"}),
    "cosine_similarity": frozenset({"dim", "eps"}),
    "pad": frozenset({"mode", "value"}),
}

# nn layers a program may build: class -> keyword arguments.
_NN_LAYERS: dict[str, frozenset[str]] = {
    "Linear": frozenset({"bias", "dtype", "device"}),
    "Bilinear": frozenset({"bias", "dtype", "device"}),
    "ReLU": _NONE,
    "LeakyReLU": frozenset({"negative_slope"}),
    "GELU": frozenset({"approximate"}),
    "Sigmoid": _NONE,
    "Tanh": _NONE,
    "Softmax": frozenset({"dim"}),
    "LogSoftmax": frozenset({"dim"}),
    "Flatten": frozenset({"start_dim", "end_dim"}),
    "Identity": _NONE,
    "Dropout": frozenset({"p"}),
    "Sequential": _NONE,
    "MSELoss": frozenset({"reduction"}),
    "L1Loss": frozenset({"reduction"}),
    "CrossEntropyLoss": frozenset({"reduction", "label_smoothing", "ignore_index"}),
    "NLLLoss": frozenset({"reduction", "ignore_index"}),
    "BCELoss": frozenset({"reduction"}),
    "BCEWithLogitsLoss": frozenset({"reduction"}),
}
NN_LAYER_TYPES: tuple[type, ...] = tuple(getattr(nn, n) for n in _NN_LAYERS)

_OPTIMIZERS: dict[str, frozenset[str]] = {
    "SGD": frozenset({"lr", "momentum", "weight_decay", "nesterov", "dampening"}),
    "Adam": frozenset({"lr", "betas", "eps", "weight_decay", "amsgrad"}),
    "AdamW": frozenset({"lr", "betas", "eps", "weight_decay"}),
    "RMSprop": frozenset({"lr", "alpha", "eps", "weight_decay", "momentum"}),
}
OPTIMIZER_TYPES: tuple[type, ...] = tuple(getattr(torch.optim, n) for n in _OPTIMIZERS)

DTYPES: dict[str, torch.dtype] = {
    "float": torch.float,
    "float32": torch.float32,
    "float64": torch.float64,
    "double": torch.double,
    "half": torch.half,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "long": torch.long,
    "int64": torch.int64,
    "int": torch.int,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
    "complex64": torch.complex64,
    "cfloat": torch.cfloat,
    "complex128": torch.complex128,
    "cdouble": torch.cdouble,
}


def _cuda_device_name(index: int = 0) -> str:
    return torch.cuda.get_device_name(index)


CUDA = Namespace(
    "torch.cuda",
    {
        "is_available": Fn("torch.cuda.is_available", torch.cuda.is_available),
        "device_count": Fn("torch.cuda.device_count", torch.cuda.device_count),
        "get_device_name": Fn("torch.cuda.get_device_name", _cuda_device_name),
        "synchronize": Fn("torch.cuda.synchronize", torch.cuda.synchronize),
    },
)

LINALG = Namespace("torch.linalg", _fns(_LINALG_FUNCS, torch.linalg, "torch.linalg"))
FUNCTIONAL = Namespace("torch.nn.functional", _fns(_F_FUNCS, F, "F"))
NN = Namespace(
    "torch.nn",
    {**{n: Fn(f"nn.{n}", getattr(nn, n), kw) for n, kw in _NN_LAYERS.items()}, "functional": FUNCTIONAL},
)
OPTIM = Namespace("torch.optim", {n: Fn(f"optim.{n}", getattr(torch.optim, n), kw) for n, kw in _OPTIMIZERS.items()})
AUTOGRAD = Namespace(
    "torch.autograd",
    {
        "grad": Fn(
            "torch.autograd.grad",
            torch.autograd.grad,
            frozenset({"grad_outputs", "retain_graph", "create_graph", "allow_unused"}),
        ),
        "backward": Fn(
            "torch.autograd.backward",
            torch.autograd.backward,
            frozenset({"grad_tensors", "retain_graph", "create_graph", "inputs"}),
        ),
    },
)
TORCH = Namespace(
    "torch",
    {
        **_fns(_TORCH_FUNCS, torch, "torch"),
        **DTYPES,
        "device": Fn("torch.device", torch.device),
        "Size": Fn("torch.Size", torch.Size),
        "pi": 3.141592653589793,
        "e": 2.718281828459045,
        "inf": float("inf"),
        "nan": float("nan"),
        "cuda": CUDA,
        "linalg": LINALG,
        "nn": NN,
        "optim": OPTIM,
        "autograd": AUTOGRAD,
    },
)


# --- Python builtins the language keeps (the interpreter wraps the risky ones) ------------------------
SAFE_BUILTINS: dict[str, Fn] = {
    n: Fn(n, getattr(builtins, n), kw)
    for n, kw in {
        "len": _NONE,
        "abs": _NONE,
        "min": _NONE,
        "max": _NONE,
        "round": _NONE,
        "int": _NONE,
        "float": _NONE,
        "bool": _NONE,
        "str": _NONE,
        "list": _NONE,
        "tuple": _NONE,
        "enumerate": frozenset({"start"}),
        "zip": _NONE,
        "sum": _NONE,
        "sorted": frozenset({"reverse"}),
        "reversed": _NONE,
    }.items()
}

# Names usable bare (`tensor(...)` as well as `torch.tensor(...)`), plus the module stand-ins.
GLOBALS: dict[str, Any] = {
    **{n: v for n, v in TORCH.members.items() if isinstance(v, Fn) and n in _TORCH_FUNCS},
    "torch": TORCH,
    "nn": NN,
    "F": FUNCTIONAL,
    "optim": OPTIM,
    "device": TORCH.members["device"],
    "True": True,
    "False": False,
    "None": None,
}

# `import ...` lines users paste from tutorials: module path -> the stand-in it binds.
IMPORTABLE: dict[str, Any] = {
    "torch": TORCH,
    "torch.nn": NN,
    "torch.nn.functional": FUNCTIONAL,
    "torch.optim": OPTIM,
    "torch.linalg": LINALG,
    "torch.autograd": AUTOGRAD,
}

# --- Attributes on objects a program holds --------------------------------------------------------
TENSOR_PROPERTIES = frozenset(
    {
        "shape", "dtype", "device", "requires_grad", "is_leaf", "grad", "grad_fn", "data", "T", "mT", "H",
        "ndim", "is_cuda", "real", "imag", "layout",
    }
)  # fmt: skip
TENSOR_SETTABLE = frozenset({"requires_grad", "grad"})

_INPLACE = ("add_", "sub_", "mul_", "div_", "pow_", "clamp_", "zero_", "fill_", "copy_", "neg_", "abs_",
            "exp_", "log_", "sqrt_", "relu_", "sigmoid_", "tanh_", "uniform_", "normal_", "masked_fill_",
            "square_", "t_", "unsqueeze_", "squeeze_", "clip_", "floor_", "round_", "index_fill_")  # fmt: skip

# Tensor methods: name -> keyword arguments. Not here (never allowed): numpy, storage, untyped_storage,
# data_ptr, set_, resize_, as_strided, share_memory_, pin_memory, register_hook, apply_, map_, tofile,
# record_stream, new (legacy), and everything starting with "_".
TENSOR_METHODS: dict[str, frozenset[str]] = {
    **{n: kw for n, kw in _TORCH_FUNCS.items() if n not in {
        "tensor", "empty", "zeros", "ones", "full", "rand", "randn", "randint", "randperm", "arange", "linspace",
        "logspace", "eye", "hamming_window", "hann_window", "complex", "manual_seed", "is_tensor", "get_default_dtype",
        "is_grad_enabled", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "cat", "concat", "stack",
        "hstack", "vstack", "einsum", "empty_like", "zeros_like", "ones_like", "full_like", "rand_like",
        "randn_like", "randint_like", "where"}},
    **{n: frozenset({"alpha", "min", "max", "value"}) for n in _INPLACE},
    "backward": frozenset({"gradient", "retain_graph", "create_graph", "inputs"}),
    "retain_grad": _NONE,
    "requires_grad_": frozenset({"requires_grad"}),
    "detach": _NONE,
    "detach_": _NONE,
    "clone": _NONE,
    "contiguous": _NONE,
    "is_contiguous": _NONE,
    "item": _NONE,
    "tolist": _NONE,
    "size": frozenset({"dim"}),
    "dim": _NONE,
    "nelement": _NONE,
    "element_size": _NONE,
    "to": frozenset({"dtype", "device", "non_blocking", "copy"}),
    "cuda": frozenset({"device", "non_blocking"}),
    "cpu": _NONE,
    "float": _NONE,
    "double": _NONE,
    "half": _NONE,
    "long": _NONE,
    "int": _NONE,
    "bool": _NONE,
    "type_as": _NONE,
    "view": _NONE,
    "view_as": _NONE,
    "reshape_as": _NONE,
    "expand": _NONE,
    "expand_as": _NONE,
    "repeat": _NONE,
    "masked_fill": _NONE,
    "new_ones": _FACTORY,
    "new_zeros": _FACTORY,
    "new_full": _FACTORY,
    "new_empty": _FACTORY,
    "new_tensor": _FACTORY,
    "unbind": frozenset({"dim"}),
    "where": _NONE,
    "sum_to_size": _NONE,
    "conj": _NONE,
    "angle": _NONE,
    "max": frozenset({"dim", "keepdim"}),
    "sort": frozenset({"dim", "descending", "stable"}),
}

SIZE_METHODS = frozenset({"numel", "index", "count"})
DTYPE_ATTRIBUTES = frozenset({"is_floating_point", "is_complex", "is_signed", "itemsize"})
DEVICE_ATTRIBUTES = frozenset({"type", "index"})
NODE_ATTRIBUTES = frozenset({"name", "next_functions"})
RETURN_TYPE_FIELDS = frozenset(
    {"values", "indices", "eigenvalues", "eigenvectors", "Q", "R", "U", "S", "Vh", "L", "inverse", "counts"}
)
MODULE_ATTRIBUTES: dict[str, frozenset[str]] = {
    "weight": _NONE, "bias": _NONE, "in_features": _NONE, "out_features": _NONE, "training": _NONE,
    "parameters": _NONE, "named_parameters": _NONE, "zero_grad": frozenset({"set_to_none"}), "train": _NONE,
    "eval": _NONE, "to": frozenset({"dtype", "device"}), "cuda": _NONE, "cpu": _NONE, "double": _NONE,
    "float": _NONE, "requires_grad_": _NONE,
}  # fmt: skip
MODULE_METHODS = frozenset(
    {"parameters", "named_parameters", "zero_grad", "train", "eval", "to", "cuda", "cpu", "double", "float",
     "requires_grad_"}
)  # fmt: skip
OPTIMIZER_METHODS: dict[str, frozenset[str]] = {"step": _NONE, "zero_grad": frozenset({"set_to_none"})}
LIST_METHODS: dict[str, frozenset[str]] = {"append": _NONE, "pop": _NONE, "index": _NONE, "count": _NONE}

# The functions that run backward: the interpreter records the engine's order around them.
BACKWARD_CALLS = frozenset({"backward", "torch.autograd.backward", "torch.autograd.grad"})
