"""The user's language: every name, function, attribute and keyword a program may use (an allowlist).

This is the one place that says what the language contains. Namespaces (`torch`, `nn`, `np`, `math` ...)
hold the real objects a program may reach; `SPECS` says, for each callable among them, its name, the
keyword arguments it accepts and how the guards treat it; `ATTRIBUTES` lists the attributes per type
(None: a plain attribute, a keyword set: a method). Everything else is refused by the guards.
"""

from __future__ import annotations

import builtins
import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.data as tud
from torch.autograd import functional as autograd_functional

# Keyword sets reused across many functions.
_FACTORY = frozenset({"dtype", "device", "requires_grad"})
_LIKE = frozenset({"dtype", "device", "requires_grad"})
_DIM = frozenset({"dim", "keepdim", "dtype"})
_NONE: frozenset[str] = frozenset()
ANY_KWARGS = frozenset({"*"})  # a program's own functions and classes take any keyword


@dataclass(frozen=True)
class Spec:
    """How the guards call one allowed callable.

    kind: "torch" (a tensor op: output size and FLOPs planned on meta tensors first), "plain" (pure Python,
    bounded by its arguments), "numpy" (numpy: output size checked from the arguments), "layer" (an nn
    layer class), "backward" (runs the autograd engine; recorded), "factory" (tensor from data), or a
    runtime built-in (print, range ...) that the runtime replaces with its own bounded version.
    """

    name: str
    kwargs: frozenset[str] = _NONE
    kind: str = "torch"
    cubic: bool = False  # dense linear algebra: about 10 n^3 FLOPs for n x n inputs


@dataclass(frozen=True)
class Namespace:
    """A stand-in for a module (`torch`, `nn`, `F` ...): only its listed members exist."""

    name: str
    members: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<module '{self.name}'>"


SPECS: dict[Any, Spec] = {}  # callable object -> how it is called


def _reg(obj: Any, name: str, kwargs: frozenset[str] = _NONE, kind: str = "torch", cubic: bool = False) -> Any:
    old = SPECS.get(obj)
    if old is not None:  # one object under two names (torch.relu / F.relu): keywords of both
        kwargs = kwargs | old.kwargs
        name = old.name
    SPECS[obj] = Spec(name, kwargs, kind, cubic)
    return obj


def _fns(names: dict[str, frozenset[str]], source: Any, prefix: str, kind: str = "torch") -> dict[str, Any]:
    out = {}
    for n, kw in names.items():
        obj = getattr(source, n, None)
        if obj is None:
            continue
        out[n] = _reg(obj, f"{prefix}.{n}", kw, kind, cubic=n in _CUBIC)
    return out


# Dense linear algebra whose cost grows with the cube of the matrix size (priced by the compute budget).
_CUBIC = frozenset({"eig", "eigvals", "eigh", "eigvalsh", "inv", "det", "solve", "svd", "svdvals", "qr", "cholesky",
                    "pinv", "matrix_rank", "inverse", "lstsq", "matrix_exp", "slogdet", "matrix_norm", "lu",
                    "matrix_power"})  # fmt: skip


class GradMode:
    """The torch context managers a `with` statement may enter."""

    ALLOWED = (torch.no_grad, torch.enable_grad, torch.set_grad_enabled, torch.inference_mode)


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
    "matmul": frozenset({"out"}),
    "mm": frozenset({"out"}),
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
    # scatter / index
    "scatter": frozenset({"dim", "index", "src", "value", "reduce"}),
    "scatter_add": frozenset({"dim", "index", "src"}),
    "index_add": frozenset({"dim", "index", "source", "alpha"}),
    "index_copy": frozenset({"dim", "index", "source"}),
    "index_fill": frozenset({"dim", "index", "value"}),
    "take": _NONE,
    "take_along_dim": frozenset({"dim"}),
    "bincount": frozenset({"weights", "minlength"}),
    "histc": frozenset({"bins", "min", "max"}),
    "bucketize": frozenset({"right"}),
    "searchsorted": frozenset({"right", "side"}),
    "repeat_interleave": frozenset({"repeats", "dim"}),
    "tile": _NONE,
    "meshgrid": frozenset({"indexing"}),
    "kron": _NONE,
    "diagonal": frozenset({"offset", "dim1", "dim2"}),
    "diag_embed": frozenset({"offset", "dim1", "dim2"}),
    "movedim": _NONE,
    "swapaxes": _NONE,
    "atleast_1d": _NONE,
    "atleast_2d": _NONE,
    "unflatten": _NONE,
    "from_numpy": _NONE,
    "as_tensor": frozenset({"dtype", "device"}),
    "normal": frozenset({"mean", "std", "size", "generator"}),
    "bernoulli": frozenset({"p", "generator"}),
    "multinomial": frozenset({"num_samples", "replacement", "generator"}),
    "clamp_min": _NONE,
    "clamp_max": _NONE,
    "relu_": _NONE,
    "logit": frozenset({"eps"}),
    "softplus": _NONE,
    "frac": _NONE,
    "fmod": _NONE,
    "remainder": _NONE,
    "floor_divide": _NONE,
    "addcmul": frozenset({"value"}),
    "addcdiv": frozenset({"value"}),
    "baddbmm": frozenset({"beta", "alpha"}),
    "addmv": frozenset({"beta", "alpha"}),
    "tensordot": frozenset({"dims"}),
    "cdist": frozenset({"p"}),
    "std_mean": _DIM | {"unbiased", "correction"},
    "var_mean": _DIM | {"unbiased", "correction"},
    "median": frozenset({"dim", "keepdim"}),
    "mode": frozenset({"dim", "keepdim"}),
    "quantile": frozenset({"q", "dim", "keepdim"}),
    "cummax": frozenset({"dim"}),
    "cummin": frozenset({"dim"}),
    "diff": frozenset({"n", "dim"}),
    "logical_and": _NONE,
    "logical_or": _NONE,
    "logical_not": _NONE,
    "logical_xor": _NONE,
    "isin": _NONE,
    "heaviside": _NONE,
    "sinc": _NONE,
    "deg2rad": _NONE,
    "rad2deg": _NONE,
    "hypot": _NONE,
    "exp2": _NONE,
    "sgn": _NONE,
    "xlogy": _NONE,
    "erfinv": _NONE,
    "lgamma": _NONE,
    "digamma": _NONE,
    "polar": _NONE,
    "view_as_real": _NONE,
    "view_as_complex": _NONE,
    "manual_seed": _NONE,
    "seed": _NONE,
    "initial_seed": _NONE,
    "is_nonzero": _NONE,
    "result_type": _NONE,
    "promote_types": _NONE,
    "can_cast": _NONE,
    "set_printoptions": frozenset({"precision", "sci_mode", "linewidth", "edgeitems"}),
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
    "conv1d": frozenset({"bias", "stride", "padding", "dilation", "groups"}),
    "conv2d": frozenset({"bias", "stride", "padding", "dilation", "groups"}),
    "max_pool2d": frozenset({"kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"}),
    "avg_pool2d": frozenset({"kernel_size", "stride", "padding", "ceil_mode"}),
    "adaptive_avg_pool2d": frozenset({"output_size"}),
    "batch_norm": frozenset({"running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"}),
    "layer_norm": frozenset({"normalized_shape", "weight", "bias", "eps"}),
    "embedding": frozenset({"padding_idx", "max_norm"}),
    "softmin": frozenset({"dim", "dtype"}),
    "hardtanh": frozenset({"min_val", "max_val"}),
    "relu6": _NONE,
    "logsigmoid": _NONE,
    "elu_": _NONE,
    "mish": _NONE,
    "softsign": _NONE,
    "tanhshrink": _NONE,
    "gumbel_softmax": frozenset({"tau", "hard", "dim"}),
    "unfold": frozenset({"kernel_size", "dilation", "padding", "stride"}),
    "interpolate": frozenset({"size", "scale_factor", "mode", "align_corners"}),
}

# nn layers a program may build: class -> keyword arguments.
_NN_LAYERS: dict[str, frozenset[str]] = {
    "Module": _NONE,
    "Parameter": frozenset({"requires_grad"}),
    "ModuleList": _NONE,
    "ModuleDict": _NONE,
    "ParameterList": _NONE,
    "Linear": frozenset({"bias", "dtype", "device", "in_features", "out_features"}),
    "Conv1d": frozenset({"stride", "padding", "dilation", "groups", "bias", "padding_mode", "dtype", "device"}),
    "Conv2d": frozenset(
        {
            "stride",
            "padding",
            "dilation",
            "groups",
            "bias",
            "padding_mode",
            "dtype",
            "device",
            "in_channels",
            "out_channels",
            "kernel_size",
        }
    ),
    "MaxPool1d": frozenset({"kernel_size", "stride", "padding", "dilation", "ceil_mode"}),
    "MaxPool2d": frozenset({"kernel_size", "stride", "padding", "dilation", "ceil_mode"}),
    "AvgPool2d": frozenset({"kernel_size", "stride", "padding", "ceil_mode"}),
    "AdaptiveAvgPool2d": frozenset({"output_size"}),
    "BatchNorm1d": frozenset({"eps", "momentum", "affine", "track_running_stats", "dtype", "device"}),
    "BatchNorm2d": frozenset({"eps", "momentum", "affine", "track_running_stats", "dtype", "device"}),
    "LayerNorm": frozenset({"eps", "elementwise_affine", "bias", "dtype", "device"}),
    "Embedding": frozenset({"padding_idx", "max_norm", "dtype", "device", "num_embeddings", "embedding_dim"}),
    "EmbeddingBag": frozenset({"mode", "padding_idx"}),
    "Dropout2d": frozenset({"p"}),
    "Softplus": frozenset({"beta", "threshold"}),
    "ELU": frozenset({"alpha"}),
    "SiLU": _NONE,
    "Softmax2d": _NONE,
    "Unflatten": _NONE,
    "SmoothL1Loss": frozenset({"reduction", "beta"}),
    "HuberLoss": frozenset({"reduction", "delta"}),
    "KLDivLoss": frozenset({"reduction", "log_target"}),
    "Bilinear": frozenset({"bias", "dtype", "device"}),
    "ReLU": frozenset({"inplace"}),
    "LeakyReLU": frozenset({"negative_slope"}),
    "GELU": frozenset({"approximate"}),
    "Sigmoid": _NONE,
    "Tanh": _NONE,
    "Softmax": frozenset({"dim"}),
    "LogSoftmax": frozenset({"dim"}),
    "Flatten": frozenset({"start_dim", "end_dim"}),
    "Identity": _NONE,
    "Dropout": frozenset({"p", "inplace"}),
    "Sequential": _NONE,
    "MSELoss": frozenset({"reduction"}),
    "L1Loss": frozenset({"reduction"}),
    "CrossEntropyLoss": frozenset({"reduction", "label_smoothing", "ignore_index", "weight"}),
    "NLLLoss": frozenset({"reduction", "ignore_index", "weight"}),
    "BCELoss": frozenset({"reduction"}),
    "BCEWithLogitsLoss": frozenset({"reduction", "pos_weight", "weight"}),
}

_OPTIMIZERS: dict[str, frozenset[str]] = {
    "SGD": frozenset({"lr", "momentum", "weight_decay", "nesterov", "dampening"}),
    "Adam": frozenset({"lr", "betas", "eps", "weight_decay", "amsgrad"}),
    "AdamW": frozenset({"lr", "betas", "eps", "weight_decay"}),
    "RMSprop": frozenset({"lr", "alpha", "eps", "weight_decay", "momentum"}),
    "Adagrad": frozenset({"lr", "lr_decay", "weight_decay", "eps"}),
    "Adadelta": frozenset({"lr", "rho", "eps", "weight_decay"}),
    "LBFGS": frozenset({"lr", "max_iter", "history_size", "line_search_fn"}),
}

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


_LINALG_FUNCS.update({"lstsq": _NONE, "matrix_exp": _NONE, "slogdet": _NONE, "matrix_power": _NONE, "cross": frozenset({"dim"}),
                      "vecdot": frozenset({"dim"}), "multi_dot": _NONE})  # fmt: skip

CUDA = Namespace(
    "torch.cuda",
    {
        "is_available": _reg(torch.cuda.is_available, "torch.cuda.is_available", kind="plain"),
        "device_count": _reg(torch.cuda.device_count, "torch.cuda.device_count", kind="plain"),
        "get_device_name": _reg(torch.cuda.get_device_name, "torch.cuda.get_device_name", kind="plain"),
        "synchronize": _reg(torch.cuda.synchronize, "torch.cuda.synchronize", kind="plain"),
        "manual_seed": _reg(torch.cuda.manual_seed, "torch.cuda.manual_seed", kind="plain"),
        "manual_seed_all": _reg(torch.cuda.manual_seed_all, "torch.cuda.manual_seed_all", kind="plain"),
        "memory_allocated": _reg(torch.cuda.memory_allocated, "torch.cuda.memory_allocated", kind="plain"),
    },
)

LINALG = Namespace("torch.linalg", _fns(_LINALG_FUNCS, torch.linalg, "torch.linalg"))
FUNCTIONAL = Namespace("torch.nn.functional", _fns(_F_FUNCS, F, "F"))
_INIT_FUNCS = {
    "zeros_": _NONE, "ones_": _NONE, "constant_": _NONE, "normal_": frozenset({"mean", "std"}),
    "uniform_": frozenset({"a", "b"}), "xavier_uniform_": frozenset({"gain"}), "xavier_normal_": frozenset({"gain"}),
    "kaiming_uniform_": frozenset({"a", "mode", "nonlinearity"}), "kaiming_normal_": frozenset({"a", "mode", "nonlinearity"}),
    "eye_": _NONE, "orthogonal_": frozenset({"gain"}), "calculate_gain": _NONE,
}  # fmt: skip
INIT = Namespace("torch.nn.init", _fns(_INIT_FUNCS, nn.init, "nn.init"))
NN_UTILS = Namespace(
    "torch.nn.utils",
    {
        "clip_grad_norm_": _reg(nn.utils.clip_grad_norm_, "nn.utils.clip_grad_norm_",
                                frozenset({"max_norm", "norm_type", "error_if_nonfinite", "foreach"})),
        "clip_grad_value_": _reg(nn.utils.clip_grad_value_, "nn.utils.clip_grad_value_", frozenset({"clip_value"})),
        "parameters_to_vector": _reg(nn.utils.parameters_to_vector, "nn.utils.parameters_to_vector"),
    },
)  # fmt: skip
_NN_CLASSES = {n: _reg(getattr(nn, n), f"nn.{n}", kw, "layer") for n, kw in _NN_LAYERS.items()}
NN = Namespace("torch.nn", {**_NN_CLASSES, "functional": FUNCTIONAL, "init": INIT, "utils": NN_UTILS})
NN_LAYER_TYPES: tuple[type, ...] = tuple(v for v in _NN_CLASSES.values() if v is not nn.Parameter)

_SCHEDULERS = {
    "StepLR": frozenset({"step_size", "gamma", "last_epoch"}),
    "MultiStepLR": frozenset({"milestones", "gamma"}),
    "ExponentialLR": frozenset({"gamma"}),
    "CosineAnnealingLR": frozenset({"T_max", "eta_min"}),
    "LambdaLR": frozenset({"lr_lambda"}),
    "ReduceLROnPlateau": frozenset({"mode", "factor", "patience", "min_lr"}),
}
LR_SCHEDULER = Namespace(
    "torch.optim.lr_scheduler", _fns(_SCHEDULERS, torch.optim.lr_scheduler, "lr_scheduler", "plain")
)
_OPTIM_CLASSES = {n: _reg(getattr(torch.optim, n), f"optim.{n}", kw, "plain") for n, kw in _OPTIMIZERS.items()}
OPTIM = Namespace("torch.optim", {**_OPTIM_CLASSES, "lr_scheduler": LR_SCHEDULER, "Optimizer": torch.optim.Optimizer})
OPTIMIZER_TYPES: tuple[type, ...] = (torch.optim.Optimizer,)


AUTOGRAD_FUNCTIONAL = Namespace(
    "torch.autograd.functional",
    {
        "jacobian": _reg(autograd_functional.jacobian, "torch.autograd.functional.jacobian",
                         frozenset({"create_graph", "strict", "vectorize"}), "plain"),
        "hessian": _reg(autograd_functional.hessian, "torch.autograd.functional.hessian",
                        frozenset({"create_graph", "strict"}), "plain"),
        "vjp": _reg(autograd_functional.vjp, "torch.autograd.functional.vjp", frozenset({"v", "create_graph"}), "plain"),
        "jvp": _reg(autograd_functional.jvp, "torch.autograd.functional.jvp", frozenset({"v", "create_graph"}), "plain"),
    },
)  # fmt: skip
AUTOGRAD = Namespace(
    "torch.autograd",
    {
        "grad": _reg(torch.autograd.grad, "torch.autograd.grad",
                     frozenset({"grad_outputs", "retain_graph", "create_graph", "allow_unused", "inputs", "outputs"}),
                     "backward"),
        "backward": _reg(torch.autograd.backward, "torch.autograd.backward",
                         frozenset({"grad_tensors", "retain_graph", "create_graph", "inputs", "tensors"}), "backward"),
        "Variable": _reg(torch.autograd.Variable, "torch.autograd.Variable", frozenset({"requires_grad", "volatile"}),
                         "factory"),
        "Function": torch.autograd.Function,
        "functional": AUTOGRAD_FUNCTIONAL,
        "gradcheck": _reg(torch.autograd.gradcheck, "torch.autograd.gradcheck",
                          frozenset({"eps", "atol", "rtol", "raise_exception"}), "plain"),
        "gradgradcheck": _reg(torch.autograd.gradgradcheck, "torch.autograd.gradgradcheck",
                              frozenset({"eps", "atol", "rtol", "raise_exception"}), "plain"),
    },
)  # fmt: skip

DATA = Namespace(
    "torch.utils.data",
    {
        "Dataset": tud.Dataset,
        "IterableDataset": tud.IterableDataset,
        "TensorDataset": _reg(tud.TensorDataset, "torch.utils.data.TensorDataset", kind="plain"),
        "Subset": _reg(tud.Subset, "torch.utils.data.Subset", kind="plain"),
        "ConcatDataset": _reg(tud.ConcatDataset, "torch.utils.data.ConcatDataset", kind="plain"),
        "DataLoader": _reg(tud.DataLoader, "torch.utils.data.DataLoader",
                           frozenset({"batch_size", "shuffle", "drop_last", "collate_fn", "generator", "num_workers"}),
                           "plain"),
        "random_split": _reg(tud.random_split, "torch.utils.data.random_split", frozenset({"generator"}), "plain"),
        "default_collate": _reg(tud.default_collate, "torch.utils.data.default_collate", kind="plain"),
    },
)  # fmt: skip
UTILS = Namespace("torch.utils", {"data": DATA})

# Legacy typed tensor classes (torch.FloatTensor(...), x.type(torch.LongTensor)).
_LEGACY = ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "ByteTensor",
           "CharTensor", "BoolTensor")  # fmt: skip
LEGACY_TENSOR_TYPES = {n: _reg(getattr(torch, n), f"torch.{n}", _NONE, "factory") for n in _LEGACY}

TORCH = Namespace(
    "torch",
    {
        **_fns(_TORCH_FUNCS, torch, "torch"),
        **DTYPES,
        **LEGACY_TENSOR_TYPES,
        "Tensor": _reg(torch.Tensor, "torch.Tensor", _NONE, "factory"),
        "device": _reg(torch.device, "torch.device", kind="plain"),
        "Size": _reg(torch.Size, "torch.Size", kind="plain"),
        "Generator": _reg(torch.Generator, "torch.Generator", frozenset({"device"}), "plain"),
        "finfo": _reg(torch.finfo, "torch.finfo", kind="plain"),
        "iinfo": _reg(torch.iinfo, "torch.iinfo", kind="plain"),
        "pi": math.pi,
        "e": math.e,
        "inf": math.inf,
        "nan": math.nan,
        "newaxis": None,
        "cuda": CUDA,
        "linalg": LINALG,
        "nn": NN,
        "optim": OPTIM,
        "autograd": AUTOGRAD,
        "utils": UTILS,
        "__version__": torch.__version__,
    },
)
# torch.save / torch.load / torch.manual_seed's friends are the runtime's (a per-run store, never the disk): see
# guards.Runtime.builtins; their names are listed here so the table stays the one list of what exists.
RUNTIME_TORCH = frozenset({"save", "load", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode"})
for _n in ("no_grad", "enable_grad", "set_grad_enabled", "inference_mode"):
    TORCH.members[_n] = _reg(getattr(torch, _n), f"torch.{_n}", frozenset({"mode"}), "plain")

# --- math and random: Python's, bounded where a result could be huge --------------------------------------
_MATH = ("pi", "e", "tau", "inf", "nan", "sqrt", "exp", "log", "log2", "log10", "log1p", "expm1", "sin", "cos", "tan",
         "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "floor", "ceil", "trunc",
         "fabs", "pow", "hypot", "degrees", "radians", "isfinite", "isinf", "isnan", "isclose", "copysign", "fmod",
         "gcd", "fsum", "erf", "erfc", "gamma", "lgamma", "isqrt", "frexp", "modf", "dist", "ldexp", "cbrt", "exp2")  # fmt: skip
MATH_BOUNDED = ("factorial", "comb", "perm", "prod", "lcm")  # the runtime bounds these (huge integers)
MATH = Namespace(
    "math",
    {n: (_reg(getattr(math, n), f"math.{n}", frozenset({"rel_tol", "abs_tol"}), "plain")
         if callable(getattr(math, n)) else getattr(math, n)) for n in _MATH if hasattr(math, n)},
)  # fmt: skip
_RANDOM = {
    "seed": _NONE, "random": _NONE, "uniform": _NONE, "randint": _NONE, "randrange": _NONE, "choice": _NONE,
    "shuffle": _NONE, "gauss": frozenset({"mu", "sigma"}), "normalvariate": frozenset({"mu", "sigma"}),
    "triangular": _NONE, "expovariate": _NONE, "betavariate": _NONE,
}  # fmt: skip
RANDOM_BOUNDED = ("choices", "sample", "getrandbits")  # the runtime bounds these (k items, bits)
RANDOM = Namespace("random", _fns(_RANDOM, random, "random", "plain"))

# --- a numpy subset for data ---------------------------------------------------------------------------------
_NP_CREATE = {  # output size follows from the arguments: checked before numpy allocates
    "zeros": frozenset({"dtype"}), "ones": frozenset({"dtype"}), "full": frozenset({"dtype"}),
    "arange": frozenset({"dtype", "step", "start", "stop"}), "linspace": frozenset({"num", "endpoint", "dtype", "retstep"}),
    "eye": frozenset({"k", "dtype", "M"}), "identity": frozenset({"dtype"}),
}  # fmt: skip
_NP_FUNCS = {  # output no bigger than the inputs (or checked after: matmul, outer, concatenate)
    "array": frozenset({"dtype", "copy"}), "add": frozenset({"out"}), "subtract": frozenset({"out"}),
    "multiply": frozenset({"out"}), "divide": frozenset({"out"}), "negative": _NONE, "sqrt_": _NONE, "asarray": frozenset({"dtype"}), "zeros_like": frozenset({"dtype"}),
    "ones_like": frozenset({"dtype"}), "full_like": frozenset({"dtype"}), "copy": _NONE,
    "sin": _NONE, "cos": _NONE, "tan": _NONE, "exp": _NONE, "log": _NONE, "log1p": _NONE, "sqrt": _NONE, "abs": _NONE,
    "tanh": _NONE, "square": _NONE, "sign": _NONE, "floor": _NONE, "ceil": _NONE, "round": frozenset({"decimals"}),
    "power": _NONE, "maximum": _NONE, "minimum": _NONE, "clip": _NONE, "where": _NONE,
    "sum": frozenset({"axis", "keepdims", "dtype"}), "mean": frozenset({"axis", "keepdims", "dtype"}),
    "std": frozenset({"axis", "keepdims", "ddof"}), "var": frozenset({"axis", "keepdims", "ddof"}),
    "max": frozenset({"axis", "keepdims"}), "min": frozenset({"axis", "keepdims"}), "prod": frozenset({"axis"}),
    "argmax": frozenset({"axis"}), "argmin": frozenset({"axis"}), "cumsum": frozenset({"axis"}),
    "dot": _NONE, "matmul": _NONE, "outer": _NONE, "concatenate": frozenset({"axis"}), "stack": frozenset({"axis"}),
    "vstack": _NONE, "hstack": _NONE, "reshape": _NONE, "transpose": frozenset({"axes"}), "expand_dims": frozenset({"axis"}),
    "squeeze": frozenset({"axis"}), "sort": frozenset({"axis"}), "argsort": frozenset({"axis"}), "unique": _NONE,
    "allclose": frozenset({"rtol", "atol"}), "isclose": frozenset({"rtol", "atol"}), "array_equal": _NONE,
    "isnan": _NONE, "isfinite": _NONE, "mod": _NONE, "floor_divide": _NONE, "exp2": _NONE, "log2": _NONE,
    "log10": _NONE, "arctan": _NONE, "arcsin": _NONE, "arccos": _NONE, "sinh": _NONE, "cosh": _NONE, "flip": _NONE,
    "meshgrid": frozenset({"indexing"}), "ravel": _NONE, "count_nonzero": _NONE, "median": _NONE, "percentile": _NONE,
    "linalg_norm": _NONE, "cov": _NONE, "corrcoef": _NONE, "polyval": _NONE, "trace": _NONE,
}  # fmt: skip
_NP_RANDOM = {
    "seed": _NONE, "rand": _NONE, "randn": _NONE, "randint": frozenset({"size", "dtype", "high"}),
    "random": frozenset({"size"}), "uniform": frozenset({"low", "high", "size"}),
    "normal": frozenset({"loc", "scale", "size"}), "shuffle": _NONE, "permutation": _NONE,
    "choice": frozenset({"size", "replace", "p"}), "default_rng": _NONE, "standard_normal": frozenset({"size"}),
}  # fmt: skip
NP_RANDOM = Namespace("numpy.random", _fns(_NP_RANDOM, np.random, "np.random", "numpy"))
NP_LINALG = Namespace("numpy.linalg", {"norm": _reg(np.linalg.norm, "np.linalg.norm", frozenset({"axis", "ord"}), "numpy"),
                                       "inv": _reg(np.linalg.inv, "np.linalg.inv", kind="numpy", cubic=True)})  # fmt: skip
NP_DTYPES = {n: getattr(np, n) for n in ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
                                         "bool_", "complex64", "complex128", "ndarray")}  # fmt: skip
NUMPY = Namespace(
    "numpy",
    {
        **_fns(_NP_CREATE, np, "np", "numpy"),
        **_fns(_NP_FUNCS, np, "np", "numpy"),
        **NP_DTYPES,
        "pi": np.pi, "e": np.e, "inf": np.inf, "nan": np.nan, "newaxis": None,
        "random": NP_RANDOM, "linalg": NP_LINALG,
    },
)  # fmt: skip
NUMPY_CREATE = frozenset(getattr(np, n) for n in _NP_CREATE) | frozenset(getattr(np.random, n) for n in _NP_RANDOM)

# --- Python built-ins ------------------------------------------------------------------------------------------
# Plain ones are safe as they are; the runtime replaces RUNTIME_BUILTINS with bounded versions of its own.
_PLAIN_BUILTINS = ("len", "abs", "bool", "float", "complex", "callable", "chr", "ord", "hex", "bin", "oct", "divmod",
                   "hash", "any", "all", "isinstance", "issubclass", "super", "object", "staticmethod", "classmethod",
                   "property", "slice", "iter", "next", "frozenset", "set", "dict", "NotImplemented", "Ellipsis")  # fmt: skip
RUNTIME_BUILTINS = ("print", "range", "str", "repr", "format", "list", "tuple", "sorted", "reversed", "min", "max",
                    "sum", "enumerate", "zip", "round", "int", "map", "filter", "type", "getattr", "setattr",
                    "hasattr", "pow")  # fmt: skip
EXCEPTIONS = ("Exception", "ValueError", "TypeError", "RuntimeError", "KeyError", "IndexError", "StopIteration",
              "ZeroDivisionError", "AssertionError", "NotImplementedError", "ArithmeticError", "LookupError",
              "AttributeError", "NameError", "OverflowError", "FloatingPointError", "UnboundLocalError",
              "ImportError", "ModuleNotFoundError", "Warning", "UserWarning", "DeprecationWarning", "RuntimeWarning",
              "RecursionError", "MemoryError", "BaseException")  # fmt: skip
SAFE_BUILTINS: dict[str, Any] = {n: getattr(builtins, n) for n in _PLAIN_BUILTINS + EXCEPTIONS}
for _n in _PLAIN_BUILTINS:
    if callable(SAFE_BUILTINS[_n]):
        _reg(SAFE_BUILTINS[_n], _n, ANY_KWARGS if _n in ("dict", "property") else _NONE, "plain")
for _n in EXCEPTIONS:
    _reg(SAFE_BUILTINS[_n], _n, ANY_KWARGS, "plain")

# Names usable bare, as in a notebook: the modules a program imports, plus `torch` itself (pre-imported).
GLOBALS: dict[str, Any] = {"True": True, "False": False, "None": None}

# `import ...` lines users paste from tutorials: module path -> the stand-in it binds.
IMPORTABLE: dict[str, Any] = {
    "torch": TORCH,
    "torch.nn": NN,
    "torch.nn.functional": FUNCTIONAL,
    "torch.nn.init": INIT,
    "torch.nn.utils": NN_UTILS,
    "torch.optim": OPTIM,
    "torch.optim.lr_scheduler": LR_SCHEDULER,
    "torch.linalg": LINALG,
    "torch.autograd": AUTOGRAD,
    "torch.autograd.functional": AUTOGRAD_FUNCTIONAL,
    "torch.utils": UTILS,
    "torch.utils.data": DATA,
    "math": MATH,
    "random": RANDOM,
    "numpy": NUMPY,
    "numpy.random": NP_RANDOM,
}
# Names bound before the first line, as the sandbox's examples assume (`torch`, `nn`, `F`, `optim`).
PRELUDE: dict[str, Any] = {"torch": TORCH, "nn": NN, "F": FUNCTIONAL, "optim": OPTIM}

# Classes a program may subclass: nn.Module, datasets, autograd Functions, exceptions, object (and its own).
SUBCLASSABLE: tuple[type, ...] = (
    nn.Module, tud.Dataset, tud.IterableDataset, torch.autograd.Function, object,
    *(getattr(builtins, n) for n in EXCEPTIONS if n != "BaseException"),
)  # fmt: skip
# nn layer classes may be subclassed too (class MyLinear(nn.Linear)): they are nn.Module subclasses.

# Dunder methods a class body may define, and the dunder attributes a program may read.
CLASS_DUNDERS = frozenset({
    "__init__", "__call__", "__getitem__", "__setitem__", "__len__", "__iter__", "__next__", "__repr__", "__str__",
    "__contains__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__bool__",
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
    "__floordiv__", "__mod__", "__pow__", "__matmul__", "__neg__", "__pos__", "__abs__", "__iadd__", "__isub__",
    "__imul__", "__enter__", "__exit__", "__float__", "__int__", "__index__",
})  # fmt: skip
ATTRIBUTE_DUNDERS = frozenset({"__init__", "__name__", "__class__", "__doc__"})

# --- Attributes on objects a program holds ------------------------------------------------------------------------
TENSOR_PROPERTIES = frozenset(
    {
        "shape", "dtype", "device", "requires_grad", "is_leaf", "grad", "grad_fn", "data", "T", "mT", "H", "mH",
        "ndim", "is_cuda", "real", "imag", "layout", "itemsize", "nbytes", "retains_grad", "is_sparse", "output_nr",
    }
)  # fmt: skip
TENSOR_SETTABLE = frozenset({"requires_grad", "grad", "data"})

_INPLACE = ("add_", "sub_", "mul_", "div_", "pow_", "clamp_", "zero_", "fill_", "copy_", "neg_", "abs_",
            "exp_", "log_", "sqrt_", "relu_", "sigmoid_", "tanh_", "uniform_", "normal_", "masked_fill_",
            "square_", "t_", "unsqueeze_", "squeeze_", "clip_", "floor_", "round_", "index_fill_", "scatter_",
            "scatter_add_", "index_add_", "index_copy_", "addcmul_", "addcdiv_", "lerp_", "bernoulli_", "random_",
            "exponential_", "clamp_min_", "clamp_max_", "fill_diagonal_", "transpose_", "masked_scatter_",
            "cauchy_", "log_normal_", "geometric_", "sin_", "cos_", "reciprocal_", "sign_", "trunc_", "ceil_")  # fmt: skip

# Tensor methods: name -> keyword arguments. Not here (never allowed): storage, untyped_storage, data_ptr, set_,
# resize_, as_strided, share_memory_, pin_memory, apply_, map_, tofile, record_stream, new (legacy), and
# everything starting with "_".
TENSOR_METHODS: dict[str, frozenset[str]] = {
    **{
        n: kw
        for n, kw in _TORCH_FUNCS.items()
        if n
        not in {
            "tensor",
            "empty",
            "zeros",
            "ones",
            "full",
            "rand",
            "randn",
            "randint",
            "randperm",
            "arange",
            "linspace",
            "logspace",
            "eye",
            "hamming_window",
            "hann_window",
            "complex",
            "manual_seed",
            "seed",
            "initial_seed",
            "is_tensor",
            "get_default_dtype",
            "is_grad_enabled",
            "no_grad",
            "enable_grad",
            "set_grad_enabled",
            "inference_mode",
            "cat",
            "concat",
            "stack",
            "hstack",
            "vstack",
            "einsum",
            "empty_like",
            "zeros_like",
            "ones_like",
            "full_like",
            "rand_like",
            "randn_like",
            "randint_like",
            "where",
            "from_numpy",
            "as_tensor",
            "meshgrid",
            "set_printoptions",
            "result_type",
            "promote_types",
            "can_cast",
            "polar",
            "normal",
            "atleast_1d",
            "atleast_2d",
            "cdist",
            "bucketize",
            "searchsorted",
        }
    },
    **{
        n: frozenset(
            {
                "alpha",
                "min",
                "max",
                "value",
                "dim",
                "index",
                "src",
                "source",
                "mean",
                "std",
                "from",
                "to",
                "reduce",
                "tensor1",
                "tensor2",
                "weight",
                "p",
                "generator",
            }
        )
        for n in _INPLACE
    },
    "backward": frozenset({"gradient", "retain_graph", "create_graph", "inputs"}),
    "register_hook": _NONE,
    "retain_grad": _NONE,
    "requires_grad_": frozenset({"requires_grad"}),
    "detach": _NONE,
    "detach_": _NONE,
    "clone": frozenset({"memory_format"}),
    "contiguous": _NONE,
    "is_contiguous": _NONE,
    "item": _NONE,
    "tolist": _NONE,
    "numpy": frozenset({"force"}),
    "size": frozenset({"dim"}),
    "dim": _NONE,
    "ndimension": _NONE,
    "nelement": _NONE,
    "element_size": _NONE,
    "type": frozenset({"dtype", "non_blocking"}),
    "to": frozenset({"dtype", "device", "non_blocking", "copy"}),
    "cuda": frozenset({"device", "non_blocking"}),
    "cpu": _NONE,
    "float": _NONE,
    "double": _NONE,
    "half": _NONE,
    "bfloat16": _NONE,
    "long": _NONE,
    "int": _NONE,
    "short": _NONE,
    "char": _NONE,
    "byte": _NONE,
    "bool": _NONE,
    "type_as": _NONE,
    "view": frozenset({"dtype"}),
    "view_as": _NONE,
    "reshape_as": _NONE,
    "expand": _NONE,
    "expand_as": _NONE,
    "repeat": _NONE,
    "unfold": frozenset({"dimension", "size", "step"}),
    "masked_fill": frozenset({"mask", "value"}),
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
    "is_floating_point": _NONE,
    "is_complex": _NONE,
    "get_device": _NONE,
}

_P = None  # a plain attribute (read only unless a setter list says otherwise)


def _methods(kw: frozenset[str] = _NONE, *names: str) -> dict[str, frozenset[str]]:
    return {n: kw for n in names}


_MODULE_METHODS: dict[str, frozenset[str] | None] = {
    **_methods(_NONE, "parameters", "named_parameters", "buffers", "named_buffers", "children", "named_children",
               "modules", "named_modules", "train", "eval", "cuda", "cpu", "double", "float", "half",
               "requires_grad_", "forward", "extra_repr", "get_parameter", "get_submodule", "apply", "type"),
    "zero_grad": frozenset({"set_to_none"}),
    "to": frozenset({"dtype", "device", "non_blocking"}),
    "state_dict": frozenset({"prefix", "keep_vars"}),
    "load_state_dict": frozenset({"strict", "assign"}),
    "register_buffer": frozenset({"persistent"}),
    "register_parameter": _NONE,
    "add_module": _NONE,
    "training": _P,
    # ModuleList / ModuleDict / Sequential / ParameterList
    **_methods(_NONE, "append", "extend", "insert", "keys", "values", "items", "update", "pop"),
}  # fmt: skip
_OPTIMIZER_ATTRS: dict[str, frozenset[str] | None] = {
    "step": frozenset({"closure"}), "zero_grad": frozenset({"set_to_none"}), "state_dict": _NONE,
    "load_state_dict": _NONE, "add_param_group": _NONE, "param_groups": _P, "defaults": _P, "state": _P,
}  # fmt: skip
_LIST = {**_methods(_NONE, "append", "extend", "insert", "pop", "remove", "index", "count", "reverse", "copy", "clear"),
         "sort": frozenset({"key", "reverse"})}  # fmt: skip
_DICT = _methods(_NONE, "keys", "values", "items", "get", "pop", "setdefault", "update", "copy", "clear", "popitem")
_SET = _methods(_NONE, "add", "remove", "discard", "union", "intersection", "difference", "symmetric_difference",
                "update", "pop", "copy", "clear", "issubset", "issuperset", "isdisjoint")  # fmt: skip
_STR = _methods(_NONE, "join", "split", "rsplit", "strip", "lstrip", "rstrip", "upper", "lower", "title",
                "capitalize", "startswith", "endswith", "replace", "find", "rfind", "index", "count", "isdigit",
                "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal", "ljust", "rjust",
                "center", "zfill", "splitlines", "partition", "rpartition", "swapcase", "casefold",
                "removeprefix", "removesuffix")  # fmt: skip
_NDARRAY: dict[str, frozenset[str] | None] = {
    **{n: _P for n in ("shape", "dtype", "ndim", "size", "T", "itemsize", "nbytes", "real", "imag")},
    **_methods(frozenset({"axis", "keepdims", "dtype", "ddof", "out"}), "sum", "mean", "std", "var", "min", "max",
               "argmax", "argmin", "cumsum", "prod", "all", "any"),
    **_methods(_NONE, "reshape", "copy", "flatten", "ravel", "tolist", "item", "transpose", "dot", "clip", "round",
               "squeeze", "fill", "sort", "argsort", "nonzero", "swapaxes", "repeat"),
    "astype": frozenset({"copy"}),
}  # fmt: skip
_CTX = {**_methods(_NONE, "save_for_backward", "mark_dirty", "mark_non_differentiable", "set_materialize_grads"),
        "saved_tensors": _P, "needs_input_grad": _P}  # fmt: skip

# type -> {attribute: None (plain) or keyword set (method)}; subclasses inherit (looked up along the MRO).
ATTRIBUTES: dict[type, dict[str, Any]] = {
    torch.Tensor: {**{p: _P for p in TENSOR_PROPERTIES}, **TENSOR_METHODS},
    torch.Size: {**_methods(_NONE, "numel", "index", "count")},
    torch.dtype: {n: _P for n in ("is_floating_point", "is_complex", "is_signed", "itemsize")},
    torch.device: {"type": _P, "index": _P},
    torch.autograd.graph.Node: {"name": _NONE, "next_functions": _P},
    nn.Module: _MODULE_METHODS,
    torch.optim.Optimizer: _OPTIMIZER_ATTRS,
    torch.optim.lr_scheduler.LRScheduler: {"step": _NONE, "get_last_lr": _NONE, "last_epoch": _P},
    torch.optim.lr_scheduler.ReduceLROnPlateau: {"step": _NONE, "get_last_lr": _NONE},
    tud.DataLoader: {"dataset": _P, "batch_size": _P, "drop_last": _P},
    tud.TensorDataset: {"tensors": _P},
    tud.Subset: {"dataset": _P, "indices": _P},
    torch.Generator: {"manual_seed": _NONE, "seed": _NONE, "initial_seed": _NONE},
    torch.autograd.function.FunctionCtx: _CTX,
    torch.finfo: {n: _P for n in ("eps", "max", "min", "tiny", "bits", "resolution")},
    torch.iinfo: {n: _P for n in ("max", "min", "bits")},
    np.ndarray: _NDARRAY,
    np.generic: {
        "item": _NONE,
        "dtype": _P,
        "shape": _P,
        "ndim": _P,
        "real": _P,
        "imag": _P,
        "tolist": _NONE,
        "round": _NONE,
        "astype": _NONE,
        "is_integer": _NONE,
    },
    np.dtype: {"name": _P, "itemsize": _P, "kind": _P},
    np.random.Generator: _methods(
        frozenset({"size", "loc", "scale", "low", "high", "replace", "endpoint", "p"}),
        "normal",
        "random",
        "integers",
        "uniform",
        "choice",
        "shuffle",
        "permutation",
        "standard_normal",
    ),  # fmt: skip
    list: _LIST,
    dict: _DICT,
    set: _SET,
    frozenset: _methods(_NONE, "union", "intersection", "difference", "issubset", "issuperset", "copy"),
    tuple: _methods(_NONE, "index", "count"),
    str: {**_STR, "format": ANY_KWARGS},
    int: {
        "real": _P,
        "imag": _P,
        "numerator": _P,
        "denominator": _P,
        "bit_length": _NONE,
        "conjugate": _NONE,
        "is_integer": _NONE,
    },
    float: {"real": _P, "imag": _P, "is_integer": _NONE, "as_integer_ratio": _NONE, "conjugate": _NONE},
    complex: {"real": _P, "imag": _P, "conjugate": _NONE},
    range: {"start": _P, "stop": _P, "step": _P, "index": _NONE, "count": _NONE},
    slice: {"start": _P, "stop": _P, "step": _P, "indices": _NONE},
    BaseException: {"args": _P},
    property: {"setter": _NONE, "getter": _NONE, "deleter": _NONE},
    torch.utils.hooks.RemovableHandle: {"remove": _NONE},
}
RETURN_TYPE_FIELDS = frozenset(
    {"values", "indices", "eigenvalues", "eigenvectors", "Q", "R", "U", "S", "Vh", "L", "inverse", "counts",
     "sign", "logabsdet", "solution", "residuals", "rank", "singular_values", "mantissa", "exponent"}
)  # fmt: skip
