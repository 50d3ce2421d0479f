"""Sandbox layers 1-2 (static): read the program inside size caps and refuse every construct outside the language."""

from __future__ import annotations

import ast
import builtins
import io
import re
import tokenize

from core.limits import MAX_AST_DEPTH, MAX_AST_NODES, MAX_INT_BITS, MAX_SOURCE_CHARS, MAX_STRING_CHARS
from core.sandbox import pymessages
from core.sandbox.errors import SandboxError
from core.sandbox.table import ATTRIBUTE_DUNDERS, CLASS_DUNDERS, IMPORTABLE, PRELUDE, RUNTIME_BUILTINS, SAFE_BUILTINS

# Python built-ins outside the language (open, eval, getattr, vars, exit ...): a program that reads one without
# binding that name itself is refused before it runs, rather than failing at run time.
_KNOWN = set(SAFE_BUILTINS) | set(RUNTIME_BUILTINS) | set(PRELUDE) | {"True", "False", "None"}
_FOREIGN_BUILTINS = frozenset(dir(builtins)) - _KNOWN

# Node types the language has. Everything else is refused with the construct's name.
ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.If, ast.For, ast.While, ast.With,
    ast.withitem, ast.Pass, ast.Break, ast.Continue, ast.Import, ast.ImportFrom, ast.alias,
    ast.FunctionDef, ast.Lambda, ast.arguments, ast.arg, ast.Return, ast.ClassDef, ast.Global, ast.Nonlocal,
    ast.Try, ast.ExceptHandler, ast.Raise, ast.Assert, ast.Delete, ast.Yield, ast.YieldFrom,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.Dict, ast.Set, ast.NamedExpr,
    ast.Name, ast.Load, ast.Store, ast.Del, ast.Constant, ast.Attribute, ast.Subscript, ast.Slice, ast.Starred,
    ast.List, ast.Tuple, ast.Call, ast.keyword, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
    ast.JoinedStr, ast.FormattedValue,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult,
    ast.LShift, ast.RShift, ast.BitAnd, ast.BitOr, ast.BitXor,
    ast.UAdd, ast.USub, ast.Not, ast.Invert, ast.And, ast.Or,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
)  # fmt: skip

# Friendly names for refused constructs, so the message says what the user wrote.
_CONSTRUCT_NAMES = {
    ast.AsyncFunctionDef: "async functions",
    ast.AsyncFor: "async for",
    ast.AsyncWith: "async with",
    ast.Await: "await",
    ast.Match: "match statements",
    ast.TryStar: "except*",
}

_FORMAT_SPEC = re.compile(r"^(.?[<>^=])?[+\- ]?z?#?0?(\d{1,2})?[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?$")


def _construct(node: ast.AST) -> str:
    return _CONSTRUCT_NAMES.get(type(node), type(node).__name__)


def syntax_error(e: SyntaxError) -> SandboxError:
    """Python's SyntaxError as the sandbox's: a common message in the catalog (Python's own words kept as the
    detail), any other as Python wrote it."""
    text = str(e.msg)
    found = pymessages.syntax(text)
    if found is None:
        return SandboxError("syntax", text, e.lineno)
    key, args = found
    return SandboxError.of("syntax", key, e.lineno, detail=text, **args)


def decode(data: bytes) -> str:
    """Program bytes (a file, the CLI's stdin) as text: UTF-8 with or without a BOM; anything else is refused."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bad = data[e.start : e.start + 1]
        raise SandboxError.of("syntax", "sb_not_utf8", pos=e.start, byte=repr(bad)) from None


def parse(source: str) -> ast.Module:
    """Parse `source` and check it against the language; raises SandboxError (refused/syntax/limit)."""
    if isinstance(source, bytes):
        source = decode(source)
    if not isinstance(source, str):
        raise SandboxError.of("refused", "sb_not_text")
    if source.startswith("\ufeff"):
        source = source[1:]  # a UTF-8 byte-order mark, as some editors save files
    if len(source) > MAX_SOURCE_CHARS:
        raise SandboxError.of("limit", "sb_too_long", n=len(source), limit=MAX_SOURCE_CHARS)
    if "\x00" in source:
        raise SandboxError.of("syntax", "sb_nul")
    depth = _bracket_depth(source)
    if depth > MAX_AST_DEPTH:
        raise SandboxError.of("limit", "sb_brackets_deep", depth=depth, limit=MAX_AST_DEPTH)
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as e:
        raise syntax_error(e) from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise SandboxError.of("limit", "sb_unreadable_deep", what=type(e).__name__) from None
    check(tree)
    tree.sb_source = source  # type: ignore[attr-defined]  # compiler.rewrite parses it again for its own copy
    return tree


def _bracket_depth(source: str) -> int:
    """Deepest bracket nesting outside strings and comments, found before the parser builds a deep tree.

    Counting every bracket character is quick; only when that count passes the limit does the (slow, pure
    Python) tokenizer tell brackets in code from brackets in strings. A count lowered by closing brackets in
    strings lets a deeper program through to the parser, whose own bracket limit and the tree walk's depth
    limit then refuse it."""
    naive = _deepest(_NOT_BRACKETS.sub("", source))
    if naive <= MAX_AST_DEPTH:
        return naive
    depth = best = 0
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        tokens = None
    if tokens is None:  # unreadable: count every bracket (the parser then reports the real error)
        return naive
    for tok in tokens:
        if tok.type == tokenize.OP:
            if tok.string in "([{":
                depth += 1
                best = max(best, depth)
            elif tok.string in ")]}":
                depth -= 1
    return best


_NOT_BRACKETS = re.compile(r"[^()\[\]{}]+")


def _deepest(brackets: str) -> int:
    depth = best = 0
    for ch in brackets:
        if ch in "([{":
            depth += 1
            if depth > best:
                best = depth
        else:
            depth -= 1
    return best


def check(tree: ast.Module) -> None:
    """Walk the tree iteratively (no recursion) and refuse anything outside the language."""
    count = 0
    # (node, depth, line, inside a class body directly)
    stack: list[tuple[ast.AST, int, int, bool]] = [(tree, 0, 0, False)]
    bound: set[str] = set()
    foreign: list[tuple[int, str]] = []
    while stack:
        node, depth, line, in_class = stack.pop()
        line = getattr(node, "lineno", line)
        count += 1
        if count > MAX_AST_NODES:
            raise SandboxError.of("limit", "sb_too_many_nodes", line, limit=MAX_AST_NODES)
        if depth > MAX_AST_DEPTH:
            raise SandboxError.of("limit", "sb_nests_deep", line, limit=MAX_AST_DEPTH)
        if not isinstance(node, ALLOWED_NODES):
            raise SandboxError.of("refused", "sb_construct", line, construct=_construct(node))
        kind = type(node)  # the parser makes nodes of the exact classes: a set lookup, not a chain of isinstance
        if kind in _CHECKED:
            _check_node(node, line, in_class)
        if kind is ast.Name:
            if type(node.ctx) is not ast.Load:  # type: ignore[attr-defined]
                bound.add(node.id)  # type: ignore[attr-defined]
            elif node.id in _FOREIGN_BUILTINS:  # type: ignore[attr-defined]
                foreign.append((line, node.id))  # type: ignore[attr-defined]
        elif kind is ast.alias:
            bound.add(node.asname or node.name.split(".")[0])  # type: ignore[attr-defined]
        elif kind is ast.FunctionDef or kind is ast.ClassDef:
            bound.add(node.name)  # type: ignore[attr-defined]
        elif kind is ast.arg:
            bound.add(node.arg)  # type: ignore[attr-defined]
        elif kind is ast.ExceptHandler and node.name:  # type: ignore[attr-defined]
            bound.add(node.name)  # type: ignore[attr-defined]
        body = node.body if kind is ast.ClassDef else ()  # type: ignore[attr-defined]
        for field in node._fields:  # ast.iter_child_nodes, without its generators
            value = getattr(node, field, None)
            if type(value) is list:
                for child in value:
                    if isinstance(child, ast.AST):
                        stack.append((child, depth + 1, line, child in body))
            elif isinstance(value, ast.AST):
                stack.append((value, depth + 1, line, False))
    for line, name in sorted(foreign):
        if name not in bound:
            raise SandboxError.of("refused", "sb_foreign_builtin", line, name=name)


# the node classes _check_node looks at (the others need no check of their own)
_CHECKED = frozenset({
    ast.Name, ast.Attribute, ast.FunctionDef, ast.ClassDef, ast.arg, ast.Global, ast.Nonlocal, ast.ExceptHandler,
    ast.keyword, ast.Constant, ast.FormattedValue, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
    ast.With, ast.NamedExpr, ast.Import, ast.ImportFrom,
})  # fmt: skip


def _check_name(name: str, line: int, what: str) -> None:
    """`what` is "names", "class_names", "argument_names" or "keyword_names" (catalog sb_dunder_<what>)."""
    if name.startswith("__"):
        raise SandboxError.of("refused", f"sb_dunder_{what}", line, name=name)


def _check_node(node: ast.AST, line: int, in_class: bool) -> None:
    if isinstance(node, ast.Name):
        _check_name(node.id, line, "names")
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_") and node.attr not in ATTRIBUTE_DUNDERS:
            raise SandboxError.of("refused", "sb_private_attr", line, name=node.attr)
    elif isinstance(node, ast.FunctionDef):
        if node.name.startswith("__"):
            if not (in_class and node.name in CLASS_DUNDERS):
                key = "sb_dunder_def_in_class" if in_class else "sb_dunder_def_outside"
                raise SandboxError.of("refused", key, line, name=node.name)
    elif isinstance(node, ast.ClassDef):
        _check_name(node.name, line, "class_names")
        if node.keywords:
            raise SandboxError.of("refused", "sb_class_keywords", line)
    elif isinstance(node, ast.arg):
        _check_name(node.arg, line, "argument_names")
    elif isinstance(node, (ast.Global, ast.Nonlocal)):
        for n in node.names:
            _check_name(n, line, "names")
    elif isinstance(node, ast.ExceptHandler):
        if node.name:
            _check_name(node.name, line, "names")
    elif isinstance(node, ast.keyword):
        if node.arg is not None:
            _check_name(node.arg, line, "keyword_names")
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, (str, bytes)) and len(node.value) > MAX_STRING_CHARS:
            raise SandboxError.of("limit", "sb_string_long", line, limit=MAX_STRING_CHARS)
        if isinstance(node.value, bytes):
            raise SandboxError.of("refused", "sb_bytes", line)
        if isinstance(node.value, int) and not isinstance(node.value, bool) and node.value.bit_length() > MAX_INT_BITS:
            raise SandboxError.of("limit", "sb_int_literal", line, limit=MAX_INT_BITS)
    elif isinstance(node, ast.FormattedValue):
        spec = node.format_spec
        parts = [v for v in spec.values if isinstance(v, ast.Constant)] if isinstance(spec, ast.JoinedStr) else []
        if isinstance(spec, ast.JoinedStr) and len(parts) == len(spec.values):
            text = "".join(str(v.value) for v in parts)  # a fixed spec: checked now (dynamic ones at run time)
            if not _FORMAT_SPEC.match(text):
                raise SandboxError.of("refused", "sb_format_spec", line, spec=text)
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        for gen in node.generators:
            if gen.is_async:
                raise SandboxError.of("refused", "sb_async_comp", line)
            if any(isinstance(n, (ast.Attribute, ast.Subscript)) for n in ast.walk(gen.target)):
                raise SandboxError.of("refused", "sb_comp_target", line)
    elif isinstance(node, ast.With):
        for item in node.items:
            v = item.optional_vars
            if v is not None and any(isinstance(n, (ast.Attribute, ast.Subscript)) for n in ast.walk(v)):
                raise SandboxError.of("refused", "sb_with_as", line)
    elif isinstance(node, ast.NamedExpr):
        pass
    elif isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in IMPORTABLE:
                raise SandboxError.of("refused", "sb_import", line, name=alias.name)
            if alias.asname:
                _check_name(alias.asname, line, "names")
    elif isinstance(node, ast.ImportFrom):
        if node.module == "__future__":
            return
        if node.level or node.module not in IMPORTABLE:
            raise SandboxError.of("refused", "sb_import_from", line, name=node.module)
        for a in node.names:
            if a.name == "*":
                raise SandboxError.of("refused", "sb_import_star", line)
            if a.name.startswith("_"):
                raise SandboxError.of("refused", "sb_import_private", line, module=node.module, name=a.name)
            if a.asname:
                _check_name(a.asname, line, "names")
