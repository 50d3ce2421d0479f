"""Sandbox layer 2 (engine): rewrite a validated program so every risky step calls a named guard, then compile it.

The program runs as real Python bytecode, at Python's speed, but it never touches an object directly where
that could reach beyond the language: every attribute read or write, call, subscript, operator, loop
iteration, function entry, `with`, `raise`, exception handler, import and f-string field goes through one of
the guards in `core/sandbox/guards.py` (named `__sb_*__`, names no program can spell: validate.py refuses
names starting with `__`). What a guard lets through is decided by the allowlist table (`table.py`).

    obj.name            -> __sb_getattr__(obj, 'name')
    obj.name = v        -> __sb_setattr__(obj, 'name', v)
    obj.m(a, k=v)       -> __sb_callattr__(obj, 'm', a, k=v)
    f(a, *b, **c)       -> __sb_call__(f, a, *b, **c)
    x[i] / x[i] = v     -> __sb_getitem__(x, i) / __sb_setitem__(x, i, v)
    a + b, a += b       -> __sb_binop__(ADD, a, b), a = __sb_inplace__(ADD, a, b)
    a < b, a in b       -> __sb_compare__(LT, a, b)
    -a                  -> __sb_unary__(NEG, a)
    for/while bodies, comprehensions, function bodies start with __sb_tick__()
    import m as n       -> n = __sb_import__('m')
    class C(B)          -> class C(*__sb_bases__(B)) and C registered as a program class
    except E as e       -> except __sb_except__(E) as e: __sb_caught__(e)
    raise E             -> raise __sb_raise__(E)
    with m              -> with __sb_with__(m)
    f'{x!r:>8}'         -> __sb_format__(x, 'r', '>8')
"""

from __future__ import annotations

import ast
import itertools
from types import CodeType
from typing import Any

PROGRAM = "<program>"  # the file name of compiled programs: frames and functions from it are the user's

# Operator codes shared with guards.py (the guard maps each to its operator function).
BINOPS: dict[type, int] = {
    ast.Add: 0, ast.Sub: 1, ast.Mult: 2, ast.Div: 3, ast.FloorDiv: 4, ast.Mod: 5, ast.Pow: 6, ast.MatMult: 7,
    ast.LShift: 8, ast.RShift: 9, ast.BitAnd: 10, ast.BitOr: 11, ast.BitXor: 12,
}  # fmt: skip
COMPARES: dict[type, int] = {
    ast.Eq: 0, ast.NotEq: 1, ast.Lt: 2, ast.LtE: 3, ast.Gt: 4, ast.GtE: 5, ast.In: 6, ast.NotIn: 7,
}  # fmt: skip
UNARY: dict[type, int] = {ast.USub: 0, ast.UAdd: 1, ast.Invert: 2}

GUARD_NAMES = (
    "__sb_getattr__", "__sb_setattr__", "__sb_delattr__", "__sb_callattr__", "__sb_call__", "__sb_getitem__",
    "__sb_setitem__", "__sb_delitem__", "__sb_binop__", "__sb_inplace__", "__sb_compare__", "__sb_chain__",
    "__sb_unary__", "__sb_tick__", "__sb_import__", "__sb_importfrom__", "__sb_bases__", "__sb_class__",
    "__sb_except__", "__sb_caught__", "__sb_raise__", "__sb_with__", "__sb_format__", "__sb_decorator__",
    "__sb_slice__", "__sb_iter__", "__sb_loop__", "__sb_while__", "__sb_assigned__",
)  # fmt: skip


def _name(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Load())


def _call(guard: str, *args: ast.expr, keywords: list[ast.keyword] | None = None) -> ast.Call:
    return ast.Call(func=_name(guard), args=list(args), keywords=keywords or [])


def _const(v: Any) -> ast.Constant:
    return ast.Constant(value=v)


def _tick() -> ast.Expr:
    return ast.Expr(value=_call("__sb_tick__"))


def _as_it_is(rewriter: Any, node: ast.AST) -> ast.AST:
    return node


# node class -> the _Rewriter method that visits it; a name or a constant holds nothing to rewrite (and
# NodeVisitor.visit_Constant would look for the deprecated visit_Num and its kin first)
_VISITS: dict[type, Any] = {ast.Name: _as_it_is, ast.Constant: _as_it_is}


class _Rewriter(ast.NodeTransformer):
    """The policy in one class: each visit_* says which guard a construct goes through."""

    def __init__(self, assign_hook: bool = False) -> None:
        self._tmp = itertools.count()
        self.assign_hook = assign_hook  # call __sb_assigned__(name, value) after module-level name bindings
        self._scopes: list[tuple[str, str | None]] = []  # ("class"/"def", first argument of a method)

    def tmp(self) -> str:
        return f"__sb_t{next(self._tmp)}__"

    # --- the walk: ast.NodeTransformer's, without its generators and its method lookup by name each visit ------
    def visit(self, node: ast.AST) -> Any:
        method = _VISITS.get(type(node))
        if method is None:
            method = _VISITS[type(node)] = getattr(_Rewriter, "visit_" + type(node).__name__, _Rewriter.generic_visit)
        return method(self, node)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for field in node._fields:
            old = getattr(node, field, None)
            if type(old) is list:
                new: list[Any] = []
                for value in old:
                    if isinstance(value, ast.AST):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, ast.AST):
                            new.extend(value)
                            continue
                    new.append(value)
                old[:] = new
            elif isinstance(old, ast.AST):
                replaced = self.visit(old)
                if replaced is None:
                    delattr(node, field)
                else:
                    setattr(node, field, replaced)
        return node

    # --- expressions -------------------------------------------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if not isinstance(node.ctx, ast.Load):  # stores and deletes are lowered by their statements
            raise AssertionError("attribute store outside a lowered statement")
        return ast.copy_location(_call("__sb_getattr__", self.visit(node.value), _const(node.attr)), node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if not isinstance(node.ctx, ast.Load):
            raise AssertionError("subscript store outside a lowered statement")
        return ast.copy_location(_call("__sb_getitem__", self.visit(node.value), self._index(node.slice)), node)

    def _index(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Slice):
            parts = [self.visit(p) if p is not None else _const(None) for p in (node.lower, node.upper, node.step)]
            return ast.copy_location(_call("__sb_slice__", *parts), node)
        if isinstance(node, ast.Tuple):
            return ast.copy_location(ast.Tuple(elts=[self._index(e) for e in node.elts], ctx=ast.Load()), node)
        return self.visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if (isinstance(node.func, ast.Name) and node.func.id == "super" and not node.args and not node.keywords
                and len(self._scopes) >= 2 and self._scopes[-1][0] == "def" and self._scopes[-2][0] == "class"
                and self._scopes[-1][1]):  # fmt: skip
            # zero-argument super() reads the calling frame: called from a guard it would see the guard's
            # frame, so it gets its two arguments spelled out (the compiler still makes the __class__ cell)
            first = self._scopes[-1][1]
            return ast.copy_location(_call("__sb_call__", _name("super"), _name("__class__"), _name(first)), node)
        args = [self.visit(a) for a in node.args]
        keywords = [ast.keyword(arg=k.arg, value=self.visit(k.value)) for k in node.keywords]
        if isinstance(node.func, ast.Attribute):
            call = _call("__sb_callattr__", self.visit(node.func.value), _const(node.func.attr), *args,
                         keywords=keywords)  # fmt: skip
        else:
            call = _call("__sb_call__", self.visit(node.func), *args, keywords=keywords)
        return ast.copy_location(call, node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        call = _call("__sb_binop__", _const(BINOPS[type(node.op)]), self.visit(node.left), self.visit(node.right))
        return ast.copy_location(call, node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        if isinstance(node.op, ast.Not):
            return self.generic_visit(node)
        return ast.copy_location(_call("__sb_unary__", _const(UNARY[type(node.op)]), self.visit(node.operand)), node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        def one(op: ast.cmpop, a: ast.expr, b: ast.expr) -> ast.expr:
            if isinstance(op, (ast.Is, ast.IsNot)):
                return ast.Compare(left=a, ops=[op], comparators=[b])
            return _call("__sb_compare__", _const(COMPARES[type(op)]), a, b)

        left = self.visit(node.left)
        rights = [self.visit(c) for c in node.comparators]
        if len(node.ops) == 1:
            return ast.copy_location(one(node.ops[0], left, rights[0]), node)
        # a < b < c: each operand evaluated once, lazily, and the chain stops at the first false link
        links: list[ast.expr] = []
        for op, right in zip(node.ops, rights, strict=True):
            code = COMPARES.get(type(op), -1 if isinstance(op, ast.Is) else -2)
            lazy = ast.Lambda(args=_no_args(), body=right)
            links.append(ast.Tuple(elts=[_const(code), lazy], ctx=ast.Load()))
        chain = _call("__sb_chain__", left, ast.List(elts=links, ctx=ast.Load()))
        return ast.copy_location(chain, node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        conv = {-1: None, ord("s"): "s", ord("r"): "r", ord("a"): "a"}[node.conversion]
        spec: ast.expr = _const("")
        if node.format_spec is not None:
            spec = self.visit(node.format_spec)  # a JoinedStr: nested fields go through this guard too
        call = _call("__sb_format__", self.visit(node.value), _const(conv), spec)
        return ast.copy_location(ast.FormattedValue(value=call, conversion=-1, format_spec=None), node)

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node.args = self._arguments(node.args)
        body = self.visit(node.body)
        # tick on entry: (tick(), body)[1] keeps the lambda one expression
        node.body = ast.Subscript(value=ast.Tuple(elts=[_call("__sb_tick__"), body], ctx=ast.Load()),
                                  slice=_const(1), ctx=ast.Load())  # fmt: skip
        return node

    def _comprehension(self, node: ast.AST) -> ast.AST:
        for i, gen in enumerate(node.generators):  # type: ignore[attr-defined]
            gen.iter = _call("__sb_loop__", self.visit(gen.iter))
            gen.target = self._plain_target(gen.target)
            gen.ifs = [self.visit(c) for c in gen.ifs]
            if i == len(node.generators) - 1:  # type: ignore[attr-defined]
                gen.ifs.insert(0, _call("__sb_tick__"))  # the tick returns True: one per produced item
        for field in ("elt", "key", "value"):
            if hasattr(node, field):
                setattr(node, field, self.visit(getattr(node, field)))
        return node

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_NamedExpr(self, node: ast.NamedExpr) -> ast.AST:
        node.value = self.visit(node.value)
        return node

    # --- statements ------------------------------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        value = self.visit(node.value)
        hook = self.assign_hook and not self._scopes  # the names bound are needed only for the hook
        names = [n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)] if hook else []
        if all(_is_plain_target(t) for t in node.targets):
            node.value = value
            return self._assigned(node, names)
        tmp = self.tmp()
        out: list[ast.stmt] = [ast.Assign(targets=[ast.Name(id=tmp, ctx=ast.Store())], value=value)]
        for t in node.targets:
            out += self._store(t, _name(tmp))
        done = [ast.copy_location(s, node) for s in out]
        hooked = self._assigned(done[-1], names)
        return done[:-1] + (hooked if isinstance(hooked, list) else [hooked])

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | list[ast.stmt] | None:
        if node.value is None:
            return None  # `x: int` alone binds nothing
        return self.visit_Assign(ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node))

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | list[ast.stmt]:
        code = _const(BINOPS[type(node.op)])
        value = self.visit(node.value)
        target = node.target
        if isinstance(target, ast.Name):
            new = _call("__sb_inplace__", code, _name(target.id), value)
            assign = ast.copy_location(ast.Assign(targets=[ast.Name(id=target.id, ctx=ast.Store())], value=new), node)
            return self._assigned(assign, [target.id])
        obj = self.tmp()
        out: list[ast.stmt] = [ast.Assign(targets=[ast.Name(id=obj, ctx=ast.Store())], value=self.visit(target.value))]
        if isinstance(target, ast.Attribute):
            cur = _call("__sb_getattr__", _name(obj), _const(target.attr))
            new = _call("__sb_inplace__", code, cur, value)
            out.append(ast.Expr(value=_call("__sb_setattr__", _name(obj), _const(target.attr), new)))
        else:
            assert isinstance(target, ast.Subscript)
            key = self.tmp()
            out.append(ast.Assign(targets=[ast.Name(id=key, ctx=ast.Store())], value=self._index(target.slice)))
            cur = _call("__sb_getitem__", _name(obj), _name(key))
            new = _call("__sb_inplace__", code, cur, value)
            out.append(ast.Expr(value=_call("__sb_setitem__", _name(obj), _name(key), new)))
        return [ast.copy_location(s, node) for s in out]

    def visit_Delete(self, node: ast.Delete) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for t in node.targets:
            if isinstance(t, ast.Name):
                out.append(ast.Delete(targets=[t]))
            elif isinstance(t, ast.Attribute):
                out.append(ast.Expr(value=_call("__sb_delattr__", self.visit(t.value), _const(t.attr))))
            elif isinstance(t, ast.Subscript):
                out.append(ast.Expr(value=_call("__sb_delitem__", self.visit(t.value), self._index(t.slice))))
            else:  # del (a, b)
                out += self.visit_Delete(ast.Delete(targets=list(t.elts)))  # type: ignore[attr-defined]
        return [ast.copy_location(s, node) for s in out]

    def _store(self, target: ast.expr, value: ast.expr) -> list[ast.stmt]:
        """Statements that bind `value` to `target`, with attribute and item stores through their guards."""
        if isinstance(target, ast.Name):
            return [ast.Assign(targets=[ast.Name(id=target.id, ctx=ast.Store())], value=value)]
        if isinstance(target, ast.Attribute):
            return [ast.Expr(value=_call("__sb_setattr__", self.visit(target.value), _const(target.attr), value))]
        if isinstance(target, ast.Subscript):
            return [ast.Expr(value=_call("__sb_setitem__", self.visit(target.value), self._index(target.slice),
                                         value))]  # fmt: skip
        if isinstance(target, ast.Starred):
            return self._store(target.value, value)
        assert isinstance(target, (ast.Tuple, ast.List))
        names, rest = [], []
        for elt in target.elts:
            inner = elt.value if isinstance(elt, ast.Starred) else elt
            tmp = self.tmp()
            store: ast.expr = ast.Name(id=tmp, ctx=ast.Store())
            names.append(ast.Starred(value=store, ctx=ast.Store()) if isinstance(elt, ast.Starred) else store)
            rest += self._store(inner, _name(tmp))
        unpack = ast.Assign(targets=[ast.Tuple(elts=names, ctx=ast.Store())], value=_call("__sb_iter__", value))
        return [unpack, *rest]

    def _plain_target(self, target: ast.expr) -> ast.expr:
        if not _is_plain_target(target):
            raise AssertionError("validate.py refuses attribute/item targets here")
        return target

    def _loop_target(self, target: ast.expr, body: list[ast.stmt]) -> tuple[ast.expr, list[ast.stmt]]:
        if _is_plain_target(target):
            return target, body
        tmp = self.tmp()
        return ast.Name(id=tmp, ctx=ast.Store()), [*self._store(target, _name(tmp)), *body]

    def visit_For(self, node: ast.For) -> ast.AST:
        node.iter = _call("__sb_loop__", self.visit(node.iter))
        body = self._body(node.body)
        node.target, body = self._loop_target(node.target, body)
        node.body = [_tick(), *body]
        node.orelse = self._body(node.orelse)
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        node.test = self.visit(node.test)
        node.body = [ast.Expr(value=_call("__sb_while__")), *self._body(node.body)]  # a tick that notes the loop
        node.orelse = self._body(node.orelse)
        return node

    def _body(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            r = self.visit(s)
            if r is None:
                continue
            out += r if isinstance(r, list) else [r]
        return out or [ast.Pass()]

    def _arguments(self, args: ast.arguments) -> ast.arguments:
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None:
                a.annotation = None
        args.defaults = [self.visit(d) for d in args.defaults]
        args.kw_defaults = [self.visit(d) if d is not None else None for d in args.kw_defaults]
        return args

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST | list[ast.stmt]:
        node.args = self._arguments(node.args)
        node.returns = None
        node.decorator_list = [_call("__sb_decorator__", self.visit(d)) for d in node.decorator_list]
        positional = [*node.args.posonlyargs, *node.args.args]
        self._scopes.append(("def", positional[0].arg if positional else None))
        try:
            node.body = [_tick(), *self._body(node.body)]
        finally:
            self._scopes.pop()
        return self._assigned(node, [node.name])

    def _assigned(self, node: ast.stmt, names: list[str]) -> ast.stmt | list[ast.stmt]:
        if not self.assign_hook or self._scopes or not names:
            return node
        calls = [ast.Expr(value=_call("__sb_assigned__", _const(n), _name(n))) for n in names]
        return [node, *[ast.copy_location(c, node) for c in calls]]

    def visit_ClassDef(self, node: ast.ClassDef) -> list[ast.stmt]:
        bases = [self.visit(b) for b in node.bases]
        node.bases = [ast.Starred(value=_call("__sb_bases__", *bases), ctx=ast.Load())]
        node.keywords = []
        node.decorator_list = [_call("__sb_decorator__", self.visit(d)) for d in node.decorator_list]
        self._scopes.append(("class", None))
        try:
            node.body = self._body(node.body)
        finally:
            self._scopes.pop()
        register = ast.Expr(value=_call("__sb_class__", _name(node.name)))
        return [node, ast.copy_location(register, node)]

    def visit_Return(self, node: ast.Return) -> ast.AST:
        return self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> ast.AST:
        node.body = self._body(node.body)
        for h in node.handlers:
            h.type = _call("__sb_except__", self.visit(h.type) if h.type is not None else _const(None))
            if h.name is None:
                h.name = self.tmp()
            h.body = [ast.Expr(value=_call("__sb_caught__", _name(h.name))), *self._body(h.body)]
        node.orelse = self._body(node.orelse) if node.orelse else []
        node.finalbody = self._body(node.finalbody) if node.finalbody else []
        return node

    def visit_Raise(self, node: ast.Raise) -> ast.AST:
        if node.exc is not None:
            node.exc = _call("__sb_raise__", self.visit(node.exc))
        if node.cause is not None:
            node.cause = _call("__sb_raise__", self.visit(node.cause))
        return node

    def visit_With(self, node: ast.With) -> ast.AST:
        for item in node.items:
            item.context_expr = _call("__sb_with__", self.visit(item.context_expr))
            if item.optional_vars is not None:
                item.optional_vars = self._plain_target(item.optional_vars)
        node.body = self._body(node.body)
        return node

    def visit_Import(self, node: ast.Import) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for alias in node.names:
            if alias.asname:
                out.append(ast.Assign(targets=[ast.Name(id=alias.asname, ctx=ast.Store())],
                                      value=_call("__sb_import__", _const(alias.name))))  # fmt: skip
            else:  # `import torch.nn` binds `torch`
                top = alias.name.split(".")[0]
                out.append(ast.Assign(targets=[ast.Name(id=top, ctx=ast.Store())],
                                      value=_call("__sb_import__", _const(top), _const(alias.name))))  # fmt: skip
        return [ast.copy_location(s, node) for s in out]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> list[ast.stmt]:
        if node.module == "__future__":
            return []
        out: list[ast.stmt] = []
        for alias in node.names:
            value = _call("__sb_importfrom__", _const(node.module), _const(alias.name))
            out.append(ast.Assign(targets=[ast.Name(id=alias.asname or alias.name, ctx=ast.Store())], value=value))
        return [ast.copy_location(s, node) for s in out]


def _no_args() -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])


def _is_plain_target(t: ast.expr) -> bool:
    if isinstance(t, ast.Name):
        return True
    if isinstance(t, ast.Starred):
        return _is_plain_target(t.value)
    if isinstance(t, (ast.Tuple, ast.List)):
        return all(_is_plain_target(e) for e in t.elts)
    return False


def rewrite(tree: ast.Module, assign_hook: bool = False) -> ast.Module:
    """The guarded form of a validated program (a new tree; the input is not reused).

    The new tree is the parser's again from the text validate.parse checked (`sb_source`): the parser gives the
    same tree for the same text, about 6x quicker than a deep copy of it."""
    source = getattr(tree, "sb_source", None)
    if isinstance(source, str):
        tree = ast.parse(source, mode="exec")
    else:
        import copy

        tree = copy.deepcopy(tree)
    rw = _Rewriter(assign_hook)
    tree.body = rw._body(tree.body) if tree.body else []
    fix_locations(tree)
    return tree


def fix_locations(tree: ast.AST) -> None:
    """ast.fix_missing_locations, without recursion and its generators (about 2x quicker): each node the rewrite
    made (a guard's name, an operator code) gets the position of the nearest node above it that has one."""
    stack: list[tuple[ast.AST, int, int, int, int]] = [(tree, 1, 0, 1, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        node, line, col, end_line, end_col = pop()
        if "lineno" in node._attributes:  # then so are col_offset, end_lineno and end_col_offset
            if (v := getattr(node, "lineno", None)) is not None:
                line = v
            else:
                node.lineno = line  # type: ignore[attr-defined]
            if (v := getattr(node, "col_offset", None)) is not None:
                col = v
            else:
                node.col_offset = col  # type: ignore[attr-defined]
            if (v := getattr(node, "end_lineno", None)) is not None:
                end_line = v
            else:
                node.end_lineno = end_line  # type: ignore[attr-defined]
            if (v := getattr(node, "end_col_offset", None)) is not None:
                end_col = v
            else:
                node.end_col_offset = end_col  # type: ignore[attr-defined]
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for child in value:
                    if isinstance(child, ast.AST):
                        push((child, line, col, end_line, end_col))
            elif isinstance(value, ast.AST):
                push((value, line, col, end_line, end_col))


_COMPILED: list[tuple[ast.Module, bool, CodeType]] = []  # the newest programs compiled, by their tree's identity
_COMPILED_KEPT = 4


def compile_program(tree: ast.Module, assign_hook: bool = False) -> CodeType:
    """Rewrite and compile a program that validate.check accepted.

    The code of the last few trees is kept: a run repeated on the same validated tree (the second run that
    records a long program's last backward pass, the gradient check's nudged runs) reuses it. A code object is
    immutable and each run execs it in fresh globals, so reuse shares nothing between runs."""
    for seen, hook, code in _COMPILED:
        if seen is tree and hook == assign_hook:
            return code
    code = compile(rewrite(tree, assign_hook), PROGRAM, "exec", dont_inherit=True, optimize=0)
    _COMPILED.append((tree, assign_hook, code))  # holding the tree keeps its identity unique while it is kept
    del _COMPILED[:-_COMPILED_KEPT]
    return code
