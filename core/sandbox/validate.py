"""Sandbox layers 1-2 (static): parse inside size caps and refuse every construct outside the language."""

from __future__ import annotations

import ast
import builtins
import re

from core.limits import MAX_AST_DEPTH, MAX_AST_NODES, MAX_SOURCE_CHARS, MAX_STRING_CHARS
from core.sandbox.errors import SandboxError
from core.sandbox.table import GLOBALS, IMPORTABLE, SAFE_BUILTINS

# Python built-ins outside the language (open, eval, getattr, type, exit ...): a program that reads one without
# binding that name itself is refused before it runs, rather than failing at run time.
_FOREIGN_BUILTINS = frozenset(dir(builtins)) - set(GLOBALS) - set(SAFE_BUILTINS) - {"print", "range"}

# Node types the language has. Everything else is refused with the construct's name.
ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.If, ast.For, ast.With, ast.withitem,
    ast.Pass, ast.Break, ast.Continue, ast.Import, ast.ImportFrom, ast.alias,
    ast.Name, ast.Load, ast.Store, ast.Constant, ast.Attribute, ast.Subscript, ast.Slice, ast.Starred,
    ast.List, ast.Tuple, ast.Call, ast.keyword, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
    ast.JoinedStr, ast.FormattedValue,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult,
    ast.LShift, ast.RShift, ast.BitAnd, ast.BitOr, ast.BitXor,
    ast.UAdd, ast.USub, ast.Not, ast.Invert, ast.And, ast.Or,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
)  # fmt: skip

# Friendly names for refused constructs, so the message says what the user wrote.
_CONSTRUCT_NAMES = {
    ast.FunctionDef: "defining functions (def)",
    ast.AsyncFunctionDef: "async functions",
    ast.Lambda: "lambda",
    ast.ClassDef: "classes",
    ast.While: "while loops (use `for i in range(n)`)",
    ast.Try: "try/except",
    ast.Raise: "raise",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.Delete: "del",
    ast.Assert: "assert",
    ast.Return: "return",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Await: "await",
    ast.ListComp: "list comprehensions",
    ast.SetComp: "set comprehensions",
    ast.DictComp: "dict comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.NamedExpr: "the walrus operator (:=)",
    ast.Match: "match statements",
}

_FORMAT_SPEC = re.compile(r"^[<>^=]?[+\- ]?#?0?(\d{1,2})?[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?$")


def _construct(node: ast.AST) -> str:
    return _CONSTRUCT_NAMES.get(type(node), type(node).__name__)


def parse(source: str) -> ast.Module:
    """Parse `source` and check it against the language; raises SandboxError (refused/syntax/limit)."""
    if not isinstance(source, str):
        raise SandboxError("refused", "the program must be text")
    if len(source) > MAX_SOURCE_CHARS:
        n = len(source)
        raise SandboxError("limit", f"the program is {n:,} characters long; the limit is {MAX_SOURCE_CHARS:,}")
    if "\x00" in source:
        raise SandboxError("syntax", "the program contains a NUL character")
    depth = _bracket_depth(source)
    if depth > MAX_AST_DEPTH:
        raise SandboxError("limit", f"brackets nest {depth} deep; the limit is {MAX_AST_DEPTH}")
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as e:
        raise SandboxError("syntax", f"{e.msg}", e.lineno) from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise SandboxError("limit", f"the program is too deeply nested to read ({type(e).__name__})") from None
    check(tree)
    return tree


def _bracket_depth(source: str) -> int:
    """Deepest bracket nesting, found before the parser is asked to build a deep tree."""
    depth = best = 0
    for ch in source:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    return best


def check(tree: ast.Module) -> None:
    """Walk the tree iteratively (no recursion) and refuse anything outside the language."""
    count = 0
    stack: list[tuple[ast.AST, int, int]] = [(tree, 0, 0)]
    bound: set[str] = set()
    foreign: list[tuple[int, str]] = []
    while stack:
        node, depth, line = stack.pop()
        line = getattr(node, "lineno", line)
        count += 1
        if count > MAX_AST_NODES:
            raise SandboxError("limit", f"the program has more than {MAX_AST_NODES:,} syntax nodes", line)
        if depth > MAX_AST_DEPTH:
            raise SandboxError("limit", f"the program nests deeper than {MAX_AST_DEPTH} levels", line)
        if not isinstance(node, ALLOWED_NODES):
            raise SandboxError("refused", f"{_construct(node)} is not part of this sandbox's language", line)
        _check_node(node, line)
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                bound.add(node.id)
            elif node.id in _FOREIGN_BUILTINS:
                foreign.append((line, node.id))
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name.split(".")[0])
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1, line))
    for line, name in sorted(foreign):
        if name not in bound:
            raise SandboxError("refused", f"'{name}' is a Python built-in that this sandbox does not offer", line)


def _check_node(node: ast.AST, line: int) -> None:
    if isinstance(node, ast.Name) and node.id.startswith("__"):
        raise SandboxError("refused", f"names starting with '__' ({node.id}) are not allowed", line)
    elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        raise SandboxError("refused", f"attributes starting with '_' (.{node.attr}) are not allowed", line)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, (str, bytes)) and len(node.value) > MAX_STRING_CHARS:
            raise SandboxError("limit", f"a string literal is longer than {MAX_STRING_CHARS} characters", line)
        if isinstance(node.value, bytes):
            raise SandboxError("refused", "bytes literals are not part of this sandbox's language", line)
    elif isinstance(node, ast.keyword) and node.arg is None:
        raise SandboxError("refused", "**kwargs unpacking is not allowed", line)
    elif isinstance(node, ast.Starred) and not isinstance(node.ctx, ast.Load):
        raise SandboxError("refused", "starred assignment targets are not allowed", line)
    elif isinstance(node, ast.FormattedValue):
        spec = node.format_spec
        if spec is not None:
            if not (isinstance(spec, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in spec.values)):
                raise SandboxError("refused", "format specs must be plain text like :.4f", line)
            text = "".join(str(v.value) for v in spec.values)
            if not _FORMAT_SPEC.match(text):
                raise SandboxError("refused", f"format spec ':{text}' is not allowed (width at most 99)", line)
    elif isinstance(node, ast.With):
        for item in node.items:
            if item.optional_vars is not None:
                raise SandboxError("refused", "`with ... as name` is not allowed", line)
    elif isinstance(node, ast.For) and node.orelse:
        raise SandboxError("refused", "for/else is not allowed", line)
    elif isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in IMPORTABLE:
                raise SandboxError("refused", f"import {alias.name}: only torch modules can be imported", line)
    elif isinstance(node, ast.ImportFrom):
        if node.module == "__future__":
            return
        if node.level or node.module not in IMPORTABLE:
            raise SandboxError("refused", f"from {node.module} import ...: only torch modules can be imported", line)
        if any(a.name == "*" for a in node.names):
            raise SandboxError("refused", "`import *` is not allowed", line)
