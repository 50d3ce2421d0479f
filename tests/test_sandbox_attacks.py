"""Hostile programs against the sandbox (DESIGN.md "Sandbox"): each one is refused or contained.

Every attack goes through the real worker pool and must come back as ok=false with the expected kind, a
message without a Python traceback, no file created, read or changed, and the same pool must then run a
valid program. Attacks stopped before or while running (refused / syntax / limit) also run in this process
through `session.execute`, which shows layers 1-3 hold on their own, without the process boundary.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import torch

from core.limits import MAX_AST_DEPTH, MAX_SOURCE_CHARS
from core.sandbox import run_program
from core.sandbox.pool import pool
from core.sandbox.session import execute

SECRET = "canary-7f3a9c1e-do-not-leak"
VALID = "a = torch.tensor([2., 4.], requires_grad=True)\ny = (a * a).sum()\ny.backward()\nprint(f'{y.item():.1f}')"

REFUSED, SYNTAX, RUNTIME, LIMIT, TIMEOUT = "refused", "syntax", "runtime", "limit", "timeout"

# (id, source, expected kinds). CANARY is replaced by an existing file holding SECRET, NEWFILE by a path that must
# never come into existence.
INTROSPECTION = [
    ("subclasses", "y = ().__class__.__bases__[0].__subclasses__()", {REFUSED}),
    ("globals-of-fn", "y = torch.tensor.__globals__", {REFUSED}),
    ("builtins-name", "y = __builtins__", {REFUSED}),
    ("import-dunder", "__import__('os').system('touch NEWFILE')", {REFUSED}),
    ("getattr", "f = getattr(torch, 'load')\ny = f('CANARY')", {RUNTIME}),  # torch.load reads this run's memory
    ("setattr", "setattr(torch, 'pi', 3)", {REFUSED}),
    ("vars", "y = vars(torch)", {REFUSED}),
    ("dir", "y = dir()", {REFUSED}),
    ("globals", "y = globals()", {REFUSED}),
    ("locals", "y = locals()", {REFUSED}),
    ("eval", "y = eval(\"open('CANARY').read()\")", {REFUSED}),
    ("exec", "exec('import os')", {REFUSED}),
    ("compile", "c = compile('1', 'f', 'eval')", {REFUSED}),
    ("open", "y = open('CANARY').read()", {REFUSED}),
    ("input", "y = input()", {REFUSED}),
    ("breakpoint", "breakpoint()", {REFUSED}),
    ("fstring-dynamic-width", "w = 10**9\ns = f'{1:{w}}'", {REFUSED}),
    ("str-format-method", "s = '{0.__class__}'.format(1)", {REFUSED}),
    ("method-self", "y = print.__self__", {REFUSED}),
    ("node-dunder", "x = torch.ones(1, requires_grad=True)\ny = (x * 2).grad_fn.__call__", {REFUSED}),
    ("fullwidth-underscores", "x = torch.ones(1)\ny = x.\uff3f\uff3fclass\uff3f\uff3f", {SYNTAX}),
    ("fullwidth-eval", "y = \uff45\uff56\uff41\uff4c('1')", {REFUSED}),
    ("math-bold-open", "y = \U0001d428\U0001d429\U0001d41e\U0001d427('CANARY')", {REFUSED}),
    ("fullwidth-torch-load", "y = torch.\uff4c\uff4f\uff41\uff44('CANARY')", {RUNTIME}),
    ("cyrillic-eval", "y = \u0435val('1')", {RUNTIME}),
    ("greek-open", "y = \u03bfpen('CANARY')", {RUNTIME}),
    ("import-builtins", "import builtins", {REFUSED}),
    ("from-builtins", "from builtins import open", {REFUSED}),
]

TORCH_ATTRIBUTES = [
    ("torch.os", "y = torch.os.system('touch NEWFILE')", {REFUSED}),
    ("torch.sys", "y = torch.sys.modules", {REFUSED}),
    ("torch._C", "y = torch._C", {REFUSED}),
    ("torch.ops", "y = torch.ops.aten.add", {REFUSED}),
    ("torch.hub", "y = torch.hub.load('a', 'b')", {REFUSED}),
    ("torch.jit", "y = torch.jit.script", {REFUSED}),
    ("torch.package", "y = torch.package.PackageImporter('CANARY')", {REFUSED}),
    ("torch.storage", "y = torch.storage", {REFUSED}),
    ("Tensor.__init__", "y = torch.Tensor.__init__", {REFUSED}),
    ("torch.nn.modules", "y = torch.nn.modules", {REFUSED}),
    ("torch.serialization", "y = torch.serialization.load", {REFUSED}),
    ("torch.fx", "y = torch.fx", {REFUSED}),
    ("torch.library", "y = torch.library", {REFUSED}),
    ("torch.multiprocessing", "y = torch.multiprocessing", {REFUSED}),
    ("F-internals", "y = F.torch", {REFUSED}),
    ("grad_fn.metadata", "x = torch.ones(1, requires_grad=True)\ny = (x * 2).grad_fn.metadata", {REFUSED}),
    (
        "grad_fn.register_hook",
        "x = torch.ones(1, requires_grad=True)\ny = x * 2\ny.grad_fn.register_hook(print)",
        {REFUSED},
    ),
    (
        "accumulate.variable",
        "x = torch.ones(1, requires_grad=True)\nn = (x * 2).grad_fn.next_functions[0][0]\nv = n.variable",
        {REFUSED},
    ),
    ("model.__dict__", "m = nn.Linear(2, 2)\nd = m.__dict__", {REFUSED}),
    ("model._modules", "m = nn.Sequential(nn.Linear(2, 2))\nd = m._modules", {REFUSED}),
    ("model.forward-hook", "m = nn.Linear(2, 2)\nm.register_forward_hook(print)", {REFUSED}),
    ("model.setattr", "m = nn.Linear(2, 2)\nm.forward = print", {REFUSED}),
    ("fn-impl", "f = torch.tensor.impl", {REFUSED}),
    ("namespace-members", "m = torch.members", {REFUSED}),
    ("tensor.data_ptr", "x = torch.ones(1)\np = x.data_ptr()", {REFUSED}),
    ("storage.data_ptr", "x = torch.ones(1)\np = x.storage().data_ptr()", {REFUSED}),
    ("array-interface", "x = torch.ones(1)\np = x.__array_interface__", {REFUSED}),
    ("ctypes", "import ctypes", {REFUSED}),
]

FILES = [
    ("torch.load", "y = torch.load('CANARY')", {RUNTIME}),  # names a file of this run's in-memory store only
    ("from-torch-import-load", "from torch import load\ny = load('CANARY')", {RUNTIME}),
    ("torch.load-unpickle", "torch.save(1, 'x')\ny = torch.load('x', weights_only=False)", {REFUSED}),
    ("torch.save-file-object", "torch.save(1, print)", {REFUSED}),
    ("from-serialization", "from torch.serialization import load", {REFUSED}),
    ("numpy.tofile", "x = torch.ones(2)\nx.numpy().tofile('NEWFILE')", {REFUSED}),
    ("torch.from_file", "y = torch.from_file('CANARY', size=4)", {REFUSED}),
    ("untyped_storage", "x = torch.ones(2)\ns = x.untyped_storage()", {REFUSED}),
    ("Storage.from_file", "s = torch.UntypedStorage.from_file('CANARY', False, 4)", {REFUSED}),
    ("numpy.load", "import numpy as np\ny = np.load('CANARY')", {REFUSED}),
    ("hub.load_state_dict", "y = torch.hub.load_state_dict_from_url('http://x')", {REFUSED}),
    ("torch.compile", "y = torch.compile(torch.sin)", {REFUSED}),
    ("ops.load_library", "torch.ops.load_library('CANARY')", {REFUSED}),
    ("distributed", "torch.distributed.init_process_group('gloo')", {REFUSED}),
    ("cpp_extension", "from torch.utils import cpp_extension", {REFUSED}),
    ("print-file", "print('x', file=open('NEWFILE', 'w'))", {REFUSED}),
    ("with-open", "with open('NEWFILE', 'w') as f:\n    pass", {REFUSED}),
    ("import-os", "import os\nos.remove('CANARY')", {REFUSED}),
    ("import-pathlib", "import pathlib", {REFUSED}),
]

GLOBAL_STATE = [
    ("set_default_dtype", "torch.set_default_dtype(torch.float64)", {REFUSED}),
    ("set_default_device", "torch.set_default_device('cpu')", {REFUSED}),
    ("set_num_threads", "torch.set_num_threads(1)", {REFUSED}),
    ("set_printoptions", "torch.set_printoptions(threshold=10**9)", {REFUSED}),
    ("os.environ", "import os\nos.environ['X'] = '1'", {REFUSED}),
    ("add_safe_globals", "torch.serialization.add_safe_globals([])", {REFUSED}),
    ("backends-flag", "torch.backends.cudnn.enabled = False", {REFUSED}),
    ("rebind-torch-fn", "torch.manual_seed = print", {REFUSED}),
    ("rebind-constant", "torch.pi = 3", {REFUSED}),
    ("rebind-F", "F.relu = F.gelu", {REFUSED}),
    ("rebind-nn-class", "nn.Linear.forward = print", {REFUSED}),
    ("device-attr", "d = torch.device('cpu')\nd.type = 'cuda'", {REFUSED}),
    ("meta-device", "y = torch.ones(2).to('meta')", {REFUSED}),
    ("meta-factory", "y = torch.ones(10**12, device='meta')", {REFUSED, LIMIT}),
    ("meta-device-object", "d = torch.device('meta')", {REFUSED}),
]

MEMORY = [
    ("zeros-1e12", "y = torch.zeros(10**6, 10**6)", {LIMIT}),
    ("ones-2**62", "y = torch.ones(2**62)", {LIMIT}),
    ("ones-2**100", "y = torch.ones(2**100)", {LIMIT, RUNTIME}),
    ("expand-1e12", "y = torch.ones(1).expand(10**12)", {LIMIT}),
    ("expand-2d", "y = torch.ones(1, 1).expand(10**5, 10**5)", {LIMIT}),
    ("broadcast_to", "y = torch.broadcast_to(torch.ones(1), (10**5, 10**5))", {LIMIT}),
    ("repeat", "y = torch.ones(1000).repeat(100000)", {LIMIT}),
    ("outer", "v = torch.ones(100000)\ny = torch.outer(v, v)", {LIMIT}),
    ("einsum-outer", "v = torch.ones(100000)\ny = torch.einsum('i,j->ij', v, v)", {LIMIT}),
    ("broadcast-add", "y = torch.ones(100000, 1) + torch.ones(1, 100000)", {LIMIT}),
    ("cartesian_prod", "v = torch.ones(10000)\ny = torch.cartesian_prod(v, v)", {REFUSED}),
    ("combinations", "y = torch.combinations(torch.ones(10000))", {REFUSED}),
    ("tolist-huge", "y = torch.ones(5000, 2000).tolist()", {LIMIT}),
    ("list-repeat", "y = [0] * 10**9", {LIMIT}),
    ("str-repeat", "y = 'a' * 10**9", {LIMIT}),
    ("list-repeat-by-tensor", "y = [0] * torch.tensor(10**9)", {LIMIT}),
    ("str-repeat-by-tensor", "y = 'a' * torch.tensor(10**9)", {LIMIT}),
    ("list-doubling", "a = [0]\nfor i in range(100):\n    a = a + a", {LIMIT}),
    ("list-inplace-doubling", "a = [0]\nfor i in range(100):\n    a += a", {LIMIT}),
    ("list-extend-tensor", "a = [0] * 99000\nfor i in range(100):\n    a += torch.ones(5000)", {LIMIT}),
    ("list-append-loop", "a = []\nfor i in range(10000):\n    a.append(a)\ns = str(a)", {LIMIT}),
    ("slice-assign-growth", "a = [0] * 100000\nb = [0]\nfor i in range(20):\n    b[0:0] = a", {LIMIT}),
    ("shared-rows-str", "a = [0] * 100000\nb = [a] * 100000\ns = str(b)", {LIMIT}),
    ("shared-rows-fstring", "a = [0] * 100000\nb = [a] * 100000\ns = f'{b}'", {LIMIT}),
    ("shared-rows-repr", "a = [0] * 100000\nb = [a] * 100000\ns = f'{b!r}'", {LIMIT}),
    ("sum-lists", "a = [0] * 100000\nb = sum([a] * 1000, [])", {REFUSED}),
    ("index-repr", "a = [0] * 100000\nb = [a] * 100000\ni = [1].index(b)", {RUNTIME}),
    ("tensor-from-shared-rows", "a = [0] * 1000\nb = [a] * 100000\nt = torch.tensor(b)", {LIMIT}),
    ("tensor-from-tensors", "v = torch.ones(10**7)\nt = torch.tensor([v] * 100)", {LIMIT}),
    ("new_tensor-rows", "a = [0.5] * 1000\nt = torch.ones(1).new_tensor([a] * 100000)", {LIMIT}),
    ("index-with-shared-rows", "a = [0] * 10000\nb = [a] * 10000\ny = torch.ones(3)[b]", {LIMIT}),
    ("setitem-shared-rows", "a = [0] * 10000\nb = [a] * 10000\nx = torch.ones(3)\nx[b] = 2", {LIMIT}),
    ("setitem-value-rows", "a = [0.0] * 10000\nb = [a] * 10000\nx = torch.ones(3, 3)\nx[0:1] = b", {LIMIT}),
    ("list-of-big-tensor", "y = list(torch.ones(10**7))", {LIMIT}),
    ("loop-over-big-tensor", "for v in torch.ones(10**7):\n    break", {LIMIT}),
    ("sorted-big-tensor", "y = sorted(torch.ones(10**6))", {LIMIT}),
    ("split-ones", "y = torch.ones(10**7).split(1)", {LIMIT}),
    ("unbind-rows", "y = torch.ones(10**5, 2).unbind()", {LIMIT}),
    ("chunk-many", "y = torch.ones(10**7).chunk(10**7)", {LIMIT}),
    ("stack-copies", "v = torch.ones(1000)\ny = torch.stack([v] * 20000)", {LIMIT}),
    ("cat-copies", "v = torch.ones(1000)\ny = torch.cat([v] * 20000)", {LIMIT}),
    ("arange-1e12", "y = torch.arange(1e12)", {LIMIT}),
    ("arange-tensor-bounds", "y = torch.arange(torch.tensor(0), torch.tensor(10**12))", {LIMIT}),
    ("linspace", "y = torch.linspace(0, 1, 10**9)", {LIMIT}),
    ("hamming_window", "y = torch.hamming_window(10**9)", {LIMIT}),
    ("eye", "y = torch.eye(10**5)", {LIMIT}),
    ("full", "y = torch.full((10**5, 10**5), 1.0)", {LIMIT}),
    ("randperm", "y = torch.randperm(10**9)", {LIMIT}),
    ("new_ones", "y = torch.ones(1).new_ones(10**6, 10**6)", {LIMIT}),
    ("new_empty", "y = torch.ones(1).new_empty(10**6, 10**6)", {LIMIT}),
    ("one_hot", "y = F.one_hot(torch.tensor([0]), num_classes=10**9)", {LIMIT}),
    ("pad", "y = F.pad(torch.ones(1), (0, 10**9))", {LIMIT}),
    ("nonzero-many-dims", "x = torch.ones(10**7).reshape(10, 10, 10, 10, 10, 10, 10)\ny = torch.nonzero(x)", {LIMIT}),
    (
        "masked_select-broadcast",
        "x = torch.ones(10**6, 1)\nm = torch.ones(1, 10**6) > 0\ny = torch.masked_select(x, m)",
        {LIMIT},
    ),
    ("thousand-dims", "x = torch.ones([1] * 1000)", {LIMIT}),
    ("many-dims-view", "x = torch.ones(1).view([1] * 500)", {LIMIT}),
    ("linear-1e12", "y = nn.Linear(10**6, 10**6)", {LIMIT}),
    ("bilinear", "y = nn.Bilinear(10**4, 10**4, 10)", {LIMIT}),
    ("sequential-doubling", "m = nn.Linear(1, 1)\nfor i in range(40):\n    m = nn.Sequential(m, m)", {LIMIT}),
    ("sequential-deep", "m = nn.Linear(1, 1)\nfor i in range(5000):\n    m = nn.Sequential(m)", {LIMIT}),
    ("nested-list-depth", "a = []\nfor i in range(5000):\n    a = [a]\nb = a == a[0]", {LIMIT, RUNTIME}),
    ("nested-list-tensor", "a = [1.0]\nfor i in range(5000):\n    a = [a]\nt = torch.tensor(a)", {LIMIT, RUNTIME}),
    ("index-tensor-huge", "x = torch.ones(10, 10)\ni = torch.zeros(5000000, dtype=torch.long)\ny = x[i]", {LIMIT}),
    ("mask-index-broadcast", "x = torch.ones(4000, 4000)\nm = x > 0\ny = x[m].reshape(1, -1).expand(100, -1)", {LIMIT}),
    ("print-many-dims", "x = torch.zeros([5] * 10)\nprint(x)", {LIMIT}),
    ("fstring-many-dims", "x = torch.zeros([5] * 10)\ns = f'{x}'", {LIMIT}),
    ("str-many-dims", "x = torch.zeros([5] * 10)\ns = str([x])", {LIMIT}),
    ("list-grown-in-loop", "a = []\nfor i in range(1000000):\n    a.append([0] * 1000)", {LIMIT}),
    ("many-big-tensors", "l = []\nfor i in range(200):\n    l.append(torch.ones(10**7))", {LIMIT}),
]

CPU = [
    ("pow-tower-2", "y = 2**10**10", {LIMIT}),
    ("pow-tower-10", "y = 10**10**10", {LIMIT}),
    ("shift", "y = 1 << 10**10", {LIMIT}),
    ("int-square-loop", "x = 3\nfor i in range(100):\n    x = x * x", {LIMIT}),
    ("round-negative", "y = round(5, -10**9)", {LIMIT}),
    ("format-width", "s = f'{1:999999999}'", {REFUSED}),
    ("format-precision", "s = f'{1.5:.999999999f}'", {REFUSED}),
    ("while-true", "while True:\n    pass", {LIMIT}),
    ("steps-total", "for i in range(1000000):\n    for j in range(3):\n        pass", {LIMIT}),
    ("matmul-budget", "x = torch.rand(1000, 1000)\nfor i in range(1000):\n    y = x @ x", {LIMIT}),
    ("eig-budget", "x = torch.rand(3000, 3000)\ny = torch.linalg.eig(x)", {LIMIT}),
    ("hex-literal", "x = 0x" + "f" * 1100, {LIMIT}),
    ("int-division-loop", "x = 7\nfor i in range(20000):\n    x = x * 10 // 3", {LIMIT}),
    ("int-add-doubling", "x = 1\nfor i in range(5000):\n    x = x + x", {LIMIT}),
    ("math-factorial", "import math\ny = math.factorial(10**6)", {LIMIT}),
    ("getrandbits", "import random\ny = random.getrandbits(10**8)", {LIMIT}),
    ("pow-builtin", "y = pow(2, 10**9)", {LIMIT}),
    ("iter-sentinel", "import random\ny = list(iter(random.random, 2))", {LIMIT}),
    ("comprehension-memory", "x = [[0] * 100000 for i in range(100000)]", {LIMIT}),
    ("dict-comprehension", "d = {i: [0] * 1000 for i in range(1000000)}", {LIMIT}),
    ("generator-forever", "def g():\n    while True:\n        yield 1\ny = sum(g())", {LIMIT}),
    ("recursion", "def f(n):\n    return f(n + 1)\nf(0)", {LIMIT}),
    (
        "recursion-caught",
        "def f(n):\n    try:\n        return f(n + 1)\n    except RecursionError:\n        return f(n + 1)\nf(0)",
        {LIMIT},
    ),
    ("limit-not-caught", "try:\n    while True:\n        pass\nexcept Exception:\n    pass\nprint('escaped')", {LIMIT}),
    ("bare-except", "try:\n    x = torch.ones(10**12)\nexcept:\n    x = 0\nprint('escaped')", {LIMIT}),
    (
        "exit-swallows",
        "class S:\n    def __enter__(self):\n        return self\n    def __exit__(self, *a):\n        return True\n"
        "with S():\n    while True:\n        pass\nprint('escaped')",
        {LIMIT},
    ),
    ("finally-loops", "try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass", {LIMIT}),
    ("range-1e12", "for i in range(10**12):\n    pass", {LIMIT}),
    ("range-float", "for i in range(1e12):\n    pass", {RUNTIME}),
    ("nested-loops", "for i in range(10000):\n    for j in range(10000):\n        pass", {LIMIT}),
    (
        "long-tensor-chain",
        "x = torch.ones(1)\nfor i in range(30000):\n    x = x * 1 * 1 * 1 * 1 * 1 * 1 * 1 * 1 * 1 * 1 * 1",
        {LIMIT},
    ),
    ("int-from-huge-str", "s = '9' * 4300\ny = int(s)", {LIMIT}),
]

PARSER = [
    ("parens-10000", "x = " + "(" * 10_000 + "1" + ")" * 10_000, {LIMIT}),
    ("lists-10000", "x = " + "[" * 10_000 + "]" * 10_000, {LIMIT}),
    ("brackets-just-over", "x = " + "(" * (MAX_AST_DEPTH + 1) + "1" + ")" * (MAX_AST_DEPTH + 1), {LIMIT}),
    ("sum-100k-terms", "x = " + "+".join(["1"] * 100_000), {LIMIT}),
    ("sum-9000-terms", "x = " + "+".join(["1"] * 9_000), {LIMIT}),
    ("unary-chain", "x = " + "-" * 19_000 + "1", {LIMIT}),
    ("not-chain", "x = " + "not " * 4_900 + "1", {LIMIT}),
    ("pow-chain", "x = " + "**".join(["1"] * 6_000), {LIMIT}),
    ("attribute-chain", "x = torch" + ".a" * 9_000, {LIMIT}),
    ("subscript-chain", "x = [1]" + "[0]" * 4_900, {LIMIT}),
    ("call-chain", "x = print" + "()" * 9_000, {LIMIT}),
    ("ifexp-chain", "x = " + "1 if 1 else " * 1_500 + "1", {LIMIT}),
    ("source-over-cap", "x = 1\n" * (MAX_SOURCE_CHARS // 6 + 1), {LIMIT}),
    ("many-statements", "a=1\n" * 4_900, {LIMIT}),
    ("long-string-literal", "s = '" + "a" * 5_000 + "'", {LIMIT}),
    ("nul-byte", "x = 1\x00", {SYNTAX}),
    ("bad-syntax", "x = = 1", {SYNTAX}),
    ("lambda-chain", "f = " + "lambda: " * 2_000 + "1", {LIMIT, REFUSED}),
]

LANGUAGE_ESCAPES = [
    # the loop guards (the loop watch behind foreseen backward passes) are not the program's to call
    ("loop-guard-call", "it = __sb_loop__([1, 2])", {REFUSED}),
    ("while-guard-call", "__sb_while__()", {REFUSED}),
    ("loop-guard-by-globals", "g = globals()['__sb_loop__']", {REFUSED, RUNTIME}),
    ("loop-over-a-module", "for f in torch:\n    pass", {REFUSED}),
    ("raise-systemexit", "raise SystemExit", {REFUSED}),
    ("raise-keyboardinterrupt", "raise KeyboardInterrupt", {REFUSED}),
    ("exit", "exit()", {REFUSED}),
    ("quit", "quit()", {REFUSED}),
    ("sys-exit", "import sys\nsys.exit(0)", {REFUSED}),
    ("import-importlib", "import importlib", {REFUSED}),
    ("import-star", "from torch import *", {REFUSED}),
    ("relative-import", "from . import x", {REFUSED}),
    ("from-torch-underscore", "from torch import _C", {REFUSED}),
    ("async-def", "async def f():\n    pass", {REFUSED}),
    ("with-class", "with torch.no_grad:\n    pass", {REFUSED}),
    ("with-other", "x = [1]\nwith x:\n    pass", {REFUSED}),
    ("match", "match 1:\n    case 1:\n        pass", {REFUSED}),
    ("kwargs-unpack", "kw = [1]\ny = torch.ones(2, **kw)", {RUNTIME}),
    ("kwargs-unpack-unknown", "kw = {'pin_memory': True}\ny = torch.ones(2, **kw)", {REFUSED}),
    ("bytes", "y = b'abc'", {REFUSED}),
    ("unknown-kwarg", "y = torch.ones(2, pin_memory=True)", {REFUSED}),
    ("call-a-list", "y = [1](2)", {REFUSED}),
    ("loop-over-namespace", "for m in torch:\n    pass", {REFUSED}),
]

# The constructs of real programs (def, class, lambda, generators, exceptions, formatting): each reaches only
# what the allowlist offers, whatever path it takes to an object.
FUNCTIONS_AND_CLASSES = [
    ("fn-globals", "def f():\n    pass\ny = f.__globals__", {REFUSED}),
    ("fn-code", "def f():\n    pass\ny = f.__code__", {REFUSED}),
    ("fn-closure", "def f():\n    x = 1\n    def g():\n        return x\n    return g\ny = f().__closure__", {REFUSED}),
    ("lambda-globals", "y = (lambda: 0).__globals__", {REFUSED}),
    ("getattr-dunder", "def f():\n    pass\ny = getattr(f, '__globals__')", {REFUSED}),
    ("getattr-underscore", "y = getattr(torch, '_C')", {REFUSED}),
    ("generator-frame", "g = (i for i in range(3))\nf = g.gi_frame", {REFUSED}),
    ("generator-code", "def g():\n    yield 1\nc = g().gi_code", {REFUSED}),
    ("generator-frame-globals", "def g():\n    yield 1\nx = g()\ny = x.gi_frame.f_globals", {REFUSED}),
    ("traceback", "try:\n    1 / 0\nexcept Exception as e:\n    tb = e.__traceback__", {REFUSED}),
    ("with-traceback", "try:\n    1 / 0\nexcept Exception as e:\n    f = e.with_traceback", {REFUSED}),
    ("exception-context", "try:\n    1 / 0\nexcept Exception as e:\n    c = e.__context__", {REFUSED}),
    (
        "attributeerror-obj",
        "class A:\n    pass\ntry:\n    A().missing\nexcept AttributeError as e:\n    o = e.obj",
        {REFUSED},
    ),
    ("class-bases", "class A:\n    pass\nb = A.__bases__", {REFUSED}),
    ("class-subclasses", "class A:\n    pass\nb = A.__subclasses__()", {REFUSED}),
    ("class-dict", "class A:\n    x = 1\nd = A.__dict__", {REFUSED}),
    ("class-mro", "class A:\n    pass\nm = A.__mro__", {REFUSED}),
    ("instance-dict", "class A:\n    pass\nd = A().__dict__", {REFUSED}),
    ("class-of-class", "x = torch.ones(1)\nt = x.__class__.__class__\ny = t.__subclasses__", {REFUSED}),
    ("type-call", "y = type(print)('x')", {REFUSED}),
    ("type-three-args", "y = type('A', (), {})", {REFUSED}),
    ("getattribute", "class A:\n    def __getattribute__(self, n):\n        return 1", {REFUSED}),
    ("del-finalizer", "class A:\n    def __del__(self):\n        print(1)", {REFUSED}),
    ("init-subclass", "class A:\n    def __init_subclass__(cls):\n        pass", {REFUSED}),
    ("class-getitem", "class A:\n    def __class_getitem__(cls, k):\n        pass", {REFUSED}),
    (
        "torch-function",
        "class A:\n    @classmethod\n    def __torch_function__(cls, f, t, a=(), k=None):\n        pass",
        {REFUSED},
    ),
    ("reduce", "class A:\n    def __reduce__(self):\n        return (print, ('x',))", {REFUSED}),
    ("metaclass", "class A(metaclass=type):\n    pass", {REFUSED}),
    ("subclass-type", "class M(type):\n    pass", {REFUSED}),
    ("subclass-tensor", "class T(torch.Tensor):\n    pass", {REFUSED}),
    ("subclass-namespace", "class T(torch):\n    pass", {REFUSED}),
    ("subclass-generator", "class G(torch.Generator):\n    pass", {REFUSED}),
    ("dunder-name", "__builtins__ = 1", {REFUSED}),
    ("dunder-def", "def __import__(n):\n    pass", {REFUSED}),
    ("dunder-arg", "def f(__x):\n    pass", {REFUSED}),
    ("dunder-class-attr", "class A:\n    __slots__ = ()", {REFUSED}),
    ("super-getattribute", "class A:\n    def f(self):\n        return super().__getattribute__", {REFUSED}),
    (
        "super-base-attr",
        "class N(nn.Module):\n    def f(self):\n        return super().register_forward_hook\ny = N().f()",
        {REFUSED},
    ),
    ("class-attr-torch-base", "class N(nn.Module):\n    pass\ny = N.register_forward_hook", {REFUSED}),
    ("module-method-rebind", "nn.Linear.forward = print", {REFUSED}),
    ("torch-class-setattr", "torch.Tensor.add = print", {REFUSED}),
    ("decorator-foreign", "@torch.manual_seed\ndef f():\n    pass", {REFUSED}),
    ("raise-systemexit-instance", "raise SystemExit(0)", {REFUSED}),
    ("raise-baseexception", "raise BaseException('x')", {REFUSED}),
    ("raise-non-exception", "raise 1", {REFUSED}),
    ("except-non-exception", "try:\n    1 / 0\nexcept print:\n    pass", {REFUSED}),
    ("with-foreign", "with open:\n    pass", {REFUSED}),
    ("with-tensor", "with torch.ones(1):\n    pass", {REFUSED}),
    ("format-attr", "s = '{0.__class__.__base__}'.format(1)", {REFUSED}),
    ("format-item", "s = '{0[0]}'.format([1])", {REFUSED}),
    ("format-nested-width", "s = '{:{}}'.format(1, 10**9)", {REFUSED}),
    ("format-method-object", "f = '{0.__class__}'.format\ns = f(1)", {REFUSED}),
    ("format-map", "s = '{x}'.format_map({'x': 1})", {REFUSED}),
    ("format-builtin-width", "s = format(1, '999999999')", {REFUSED}),
    ("fstring-runtime-width", "w = 10**9\ns = f'{1:{w}}'", {REFUSED}),
    ("percent-width", "s = '%999999999d' % 1", {REFUSED}),
    ("percent-star", "s = '%*d' % (10**9, 1)", {REFUSED}),
    ("str-center", "s = 'a'.center(10**9)", {LIMIT}),
    ("str-replace-growth", "s = ('a' * 1000).replace('', 'b' * 1000)", {LIMIT}),
    ("str-join-growth", "s = ','.join(['a' * 1000] * 100000)", {LIMIT}),
    ("list-extend-doubling", "a = [0]\nfor i in range(40):\n    a.extend(a)", {LIMIT}),
    ("hasattr-leak", "y = hasattr(torch, 'load') and getattr(torch, 'load')('CANARY')", {RUNTIME}),
    ("map-torch-fn", "y = list(map(torch.ones, [10**12]))", {LIMIT}),
    ("sorted-key-escape", "y = sorted([1, 2], key=torch.load)", {RUNTIME}),
    (
        "hook-keeps-guard",
        "x = torch.ones(2, requires_grad=True)\nx.register_hook(lambda g: torch.ones(10**12))\nx.sum().backward()",
        {LIMIT},
    ),
    ("dataloader-workers", "from torch.utils.data import DataLoader\nd = DataLoader([1, 2], num_workers=2)", {REFUSED}),
    ("set-default-dtype", "torch.set_default_dtype(torch.float64)", {REFUSED}),
]

NUMPY = [
    ("np-ctypes", "import numpy as np\na = np.ones(3)\nc = a.ctypes", {REFUSED}),
    ("np-tofile", "import numpy as np\nnp.ones(3).tofile('NEWFILE')", {REFUSED}),
    ("np-dump", "import numpy as np\nnp.ones(3).dump('NEWFILE')", {REFUSED}),
    ("np-save", "import numpy as np\nnp.save('NEWFILE', np.ones(3))", {REFUSED}),
    ("np-fromfile", "import numpy as np\na = np.fromfile('CANARY')", {REFUSED}),
    ("np-load", "import numpy as np\na = np.load('CANARY', allow_pickle=True)", {REFUSED}),
    ("np-base", "import numpy as np\nb = np.ones(3)[1:].base", {REFUSED}),
    ("np-data", "import numpy as np\nb = np.ones(3).data", {REFUSED}),
    ("np-zeros-huge", "import numpy as np\na = np.zeros((10**5, 10**5))", {LIMIT}),
    ("np-random-huge", "import numpy as np\na = np.random.rand(10**5, 10**5)", {LIMIT}),
    ("np-broadcast-huge", "import numpy as np\na = np.ones((100000, 1)) + np.ones((1, 100000))", {LIMIT}),
    ("np-outer-huge", "import numpy as np\nv = np.ones(100000)\na = np.outer(v, v)", {LIMIT}),
    ("np-arange-huge", "import numpy as np\na = np.arange(1e12)", {LIMIT}),
    ("np-from-numpy-ctypes", "import numpy as np\nc = torch.from_numpy(np.ones(3)).numpy().ctypes", {REFUSED}),
    ("np-lib", "import numpy as np\nnp.lib", {REFUSED}),
    ("np-import-os", "import numpy.os", {REFUSED}),
]

ATTACKS = [
    pytest.param(family, source, kinds, id=f"{family}:{name}")
    for family, entries in (
        ("introspection", INTROSPECTION),
        ("torch-attributes", TORCH_ATTRIBUTES),
        ("files", FILES),
        ("global-state", GLOBAL_STATE),
        ("memory", MEMORY),
        ("cpu", CPU),
        ("parser", PARSER),
        ("language", LANGUAGE_ESCAPES),
        ("functions-classes", FUNCTIONS_AND_CLASSES),
        ("numpy", NUMPY),
    )
    for name, source, kinds in entries
]

# Not repeated in this process: the memory one is contained as the process grows; the op chain takes seconds.
_POOL_ONLY = {"many-big-tensors", "long-tensor-chain"}


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("canary")
    existing = folder / "canary.txt"
    existing.write_text(SECRET)
    os.utime(existing, (1_000_000_000, 1_000_000_000))  # a known atime/mtime: any read or write would show
    return {"existing": existing, "new": folder / "created-by-attack.txt"}


def _fill(source: str, canary: dict[str, Path]) -> str:
    return source.replace("CANARY", str(canary["existing"])).replace("NEWFILE", str(canary["new"]))


def _assert_contained(result: dict, kinds: set[str], canary: dict[str, Path]) -> None:
    assert result["ok"] is False, result
    err = result["error"]
    assert err["kind"] in kinds, err
    message = err["message"]
    assert isinstance(message, str) and message.strip()
    assert "Traceback" not in message and 'File "' not in message, message
    assert err["line"] is None or isinstance(err["line"], int)
    assert SECRET not in json.dumps(result), "the canary's content leaked into the result"
    existing = canary["existing"]
    assert existing.read_text() == SECRET
    assert existing.stat().st_mtime == 1_000_000_000, "the canary was written"
    assert not canary["new"].exists(), "the attack created a file"


def _assert_valid_runs(result: dict) -> None:
    assert result["ok"] is True, result
    assert result["variables"]["a"]["grad"] == [4.0, 8.0]
    assert result["stdout"] == "20.0\n"


@pytest.mark.slow  # ~230 cases through the worker pool, ~0.5 s each: `make test`, not `make check`
@pytest.mark.parametrize(("family", "source", "kinds"), ATTACKS)
def test_attack_is_contained(
    family: str, source: str, kinds: set[str], canary: dict[str, Path], request: pytest.FixtureRequest
) -> None:
    source = _fill(source, canary)
    result = run_program(source, graph=False)
    _assert_contained(result, kinds, canary)
    _assert_valid_runs(run_program(VALID, graph=False))  # the same pool still serves
    name = request.node.callspec.id.split(":", 1)[1]
    if result["error"]["kind"] in (REFUSED, SYNTAX, LIMIT) and name not in _POOL_ONLY:
        local = execute(source, "cpu", with_graph=False)  # layers 1-3 alone, no process boundary
        _assert_contained(local, {result["error"]["kind"]}, canary)
        assert torch.is_grad_enabled()
        _assert_valid_runs(execute(VALID, "cpu", with_graph=False))


def test_families_are_well_covered() -> None:
    assert len(ATTACKS) >= 250
    assert len({p.id for p in ATTACKS}) == len(ATTACKS)


# --- global state stays per run --------------------------------------------------------------------------------
def test_grad_mode_switch_does_not_outlive_the_run() -> None:
    r = execute("torch.set_grad_enabled(False)\nx = torch.ones(1, requires_grad=True) * 2", "cpu", with_graph=False)
    assert r["ok"] and r["variables"]["x"]["requires_grad"] is False
    assert torch.is_grad_enabled()
    r = execute("x = torch.ones(1, requires_grad=True) * 2", "cpu", with_graph=False)
    assert r["variables"]["x"]["requires_grad"] is True


def test_reseeding_does_not_outlive_the_run() -> None:
    first = execute("x = torch.rand(3)", "cpu", with_graph=False)["variables"]["x"]["value"]
    execute("torch.manual_seed(123)\ny = torch.rand(3)", "cpu", with_graph=False)
    assert execute("x = torch.rand(3)", "cpu", with_graph=False)["variables"]["x"]["value"] == first


def test_print_of_a_module_stand_in_names_it() -> None:
    r = execute("print(torch)\nimport numpy as np\nprint(np.random)", "cpu", with_graph=False)
    assert r["stdout"] == "<module 'torch'>\n<module 'numpy.random'>\n"


def test_torch_save_and_load_use_memory_not_the_disk(
    canary: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = (
        "m = nn.Linear(2, 1)\ntorch.save(m.state_dict(), 'model.pth')\nm2 = nn.Linear(2, 1)\n"
        "m2.load_state_dict(torch.load('model.pth', weights_only=True))\nsame = torch.equal(m.weight, m2.weight)"
    )
    for result in (execute(src, "cpu", with_graph=False), run_program(src, graph=False)):
        assert result["ok"], result
        assert result["variables"]["same"]["value"] is True
    assert list(tmp_path.iterdir()) == []


# Programs the first version refused: now part of the language, and they do what Python does.
NOW_ALLOWED = [
    ("y = [i * i for i in range(4)]\nz = {i: i for i in range(3)}\ns = {1, 2}\ng = sum(i for i in range(5))", "g", 10),
    ("def f(a, b=2, *args, k=1, **kw):\n    return a + b + sum(args) + k + len(kw)\ny = f(1, 2, 3, k=4, z=5)", "y", 11),
    (
        "class A:\n    def __init__(self, v):\n        self.v = v\n    def twice(self):\n        return self.v * 2\n"
        "y = A(3).twice()",
        "y",
        6,
    ),
    (
        "try:\n    x = 1 / 0\nexcept ZeroDivisionError as e:\n    y = str(e)\nelse:\n    y = 'no'\nfinally:\n    z = 1",
        "y",
        "division by zero",
    ),
    ("x = 0\nwhile x < 10:\n    x += 3\n    if x > 7:\n        break\ny = x", "y", 9),
    ("a, *b = [1, 2, 3]\ny = len(b)", "y", 2),
    ("f = lambda v: v + 1\ny = f(1)", "y", 2),
    ("y = '%5.2f|%s' % (3.14159, 'a')", "y", " 3.14|a"),
    ("y = '{:>6.3f}'.format(2.5)", "y", " 2.500"),
    ("x = torch.ones(2)\ny = type(x).__name__", "y", "Tensor"),
    ("x = 1\nassert x == 1, 'x'\ndel x\ny = 2", "y", 2),
]


@pytest.mark.parametrize(("source", "name", "value"), NOW_ALLOWED)
def test_constructs_of_real_programs_run(source: str, name: str, value: object) -> None:
    r = execute(source, "cpu", with_graph=False)
    assert r["ok"], r
    assert r["variables"][name]["value"] == value


def test_lone_surrogates_come_back_as_valid_utf8() -> None:
    src = "s = '\\ud800'\nprint(s)\ny = F.mse_loss(torch.ones(1), torch.ones(1), reduction=s)"
    result = run_program(src, graph=False)
    assert result["ok"] is False and result["error"]["kind"] == RUNTIME
    json.dumps(result, ensure_ascii=False).encode("utf-8")  # what the CLI prints: no UnicodeEncodeError
    assert result["stdout"] == "\\ud800\n" and result["variables"]["s"]["value"] == "\\ud800"


def test_print_is_bounded_and_cut_once() -> None:
    r = execute("a = [0] * 100000\nb = [a] * 100000\nfor i in range(3):\n    print(b)", "cpu", with_graph=False)
    assert r["ok"], r
    assert len(r["stdout"]) < 60_000 and r["stdout"].count("[output truncated]") == 1
    assert r["variables"]["b"]["repr"].endswith(" ...") and len(r["variables"]["b"]["repr"]) < 3_000


# --- the process boundary: timeouts, a killed worker, a killed fork server ----------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "kinds"),
    [
        ("a = torch.rand(2000, 2000)\nfor i in range(1000):\n    b = a @ a", {LIMIT, TIMEOUT}),
        ("a = [0] * 100000\nc = [0] * 100000\nx = [a] * 100000\ny = [c] * 100000\nz = x == y", {TIMEOUT}),
        ("m = torch.rand(1500, 1500)\nfor i in range(100):\n    u = torch.linalg.svd(m)", {TIMEOUT}),
        # each create_graph pass doubles the graph: time or memory runs out first, both stop it
        (
            "x = torch.tensor(2.0, requires_grad=True)\ny = x\nfor i in range(60):\n"
            "    y = torch.autograd.grad(y * y, x, create_graph=True)[0]",
            {TIMEOUT, LIMIT},
        ),
    ],
    ids=["matmul-loop", "list-compare", "svd-loop", "double-backward-growth"],
)
def test_long_program_is_stopped_at_the_wall_clock(source: str, kinds: set[str], canary: dict[str, Path]) -> None:
    started = time.monotonic()
    result = run_program(source, graph=False, timeout=2)
    assert time.monotonic() - started < 8
    _assert_contained(result, kinds, canary)
    _assert_valid_runs(run_program(VALID, graph=False))


def test_worker_killed_from_outside_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    p = pool()
    run_program(VALID, graph=False)  # the fork server is up
    taken = []
    take = p._take

    def spy():  # noqa: ANN202
        w = take()
        taken.append(w)
        return w

    monkeypatch.setattr(p, "_take", spy)

    def kill_it() -> None:
        deadline = time.monotonic() + 10
        while not taken and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        os.kill(taken[0].pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_it)
    killer.start()
    started = time.monotonic()
    result = run_program("a = torch.rand(1000, 1000)\nfor i in range(5000):\n    b = a @ a", graph=False, timeout=30)
    killer.join()
    assert time.monotonic() - started < 10
    assert result["ok"] is False and result["error"]["kind"] == LIMIT, result
    assert "Traceback" not in result["error"]["message"]
    monkeypatch.undo()
    _assert_valid_runs(run_program(VALID, graph=False))
    assert not taken[0].alive()


def test_dead_spare_workers_are_skipped() -> None:
    p = pool()
    run_program(VALID, graph=False)
    deadline = time.monotonic() + 10
    while not p._ready and time.monotonic() < deadline:  # the spare is forked in the background
        time.sleep(0.05)
    for w in list(p._ready):
        os.kill(w.pid, signal.SIGKILL)
    _assert_valid_runs(run_program(VALID, graph=False))


@pytest.mark.slow
def test_killed_fork_server_is_restarted() -> None:
    p = pool()
    run_program(VALID, graph=False)
    assert p._server is not None
    os.kill(p._server.pid, signal.SIGKILL)
    p._server.wait(timeout=10)
    for _ in range(3):  # a spare forked before the kill, then workers from a new server
        _assert_valid_runs(run_program(VALID, graph=False))
