"""Names from the program's nn.Modules: parameters as `fc1.weight`, and which module call made each graph node."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any

import torch
import torch.nn as nn

from core.sandbox.interpreter import ModuleCall


def _roots(env: Mapping[str, Any]) -> list[tuple[str, nn.Module]]:
    """The program's module variables that are not inside another module variable (first name wins)."""
    mods = [(name, m) for name, m in env.items() if isinstance(m, nn.Module)]
    inner: set[int] = set()
    for _, m in mods:
        for _, sub in m.named_modules(remove_duplicate=True):
            if sub is not m:
                inner.add(id(sub))
    seen: set[int] = set()
    out = []
    for name, m in mods:
        if id(m) not in inner and id(m) not in seen:
            seen.add(id(m))
            out.append((name, m))
    return out


def qualified_names(env: Mapping[str, Any]) -> tuple[dict[int, str], dict[str, torch.Tensor]]:
    """{id(module): its name} and {parameter name: parameter} from the module variables of a program.

    Names follow `named_parameters()`: `fc1.weight`, `linear_relu_stack.0.bias`. A root module is named by its
    variable; its parameters carry the variable as a prefix only when two roots have parameters (`net.fc1.weight`
    and `critic.fc1.weight` stay apart).
    """
    roots = _roots(env)
    with_params = [r for r in roots if next(r[1].parameters(), None) is not None]
    prefix = len(with_params) > 1
    modules: dict[int, str] = {}
    params: dict[str, torch.Tensor] = {}
    for var, root in roots:
        for path, sub in root.named_modules(remove_duplicate=True):
            modules.setdefault(id(sub), path if path and not prefix else f"{var}.{path}" if path else var)
        for path, p in root.named_parameters(remove_duplicate=True):
            params.setdefault(f"{var}.{path}" if prefix else path, p)
    return modules, params


def assign(
    calls: Iterable[ModuleCall],
    sequence: list[int | None],
    leaf_params: list[bool],
    consumers: list[list[int]],
    names: Mapping[int, str],
) -> tuple[list[str | None], dict[str, dict[str, Any]]]:
    """For each graph node the id of the innermost module call that created it ("m0"...), and those calls.

    `sequence[i]` is node i's autograd sequence number (None for a leaf); a parameter leaf joins the call
    of its consumers when they all share one. Calls are listed with their name, class and parent call, and
    only those that hold a node or contain one that does.
    """
    ordered = sorted(calls, key=lambda c: (c.lo, c.depth))  # of calls starting together, the inner one last
    los = [c.lo for c in ordered]
    owner: list[ModuleCall | None] = []
    for seq in sequence:
        call = None
        if seq is not None:
            k = bisect.bisect_left(los, seq) - 1  # the last call that started before this node was made
            call = ordered[k] if k >= 0 else None
            while call is not None and call.hi <= seq:
                call = call.parent
        owner.append(call)
    for i, is_param in enumerate(leaf_params):
        if is_param and owner[i] is None:
            found = {id(owner[j]): owner[j] for j in consumers[i]}
            if len(found) == 1:
                owner[i] = next(iter(found.values()))
    ids: dict[int, str] = {}
    table: dict[str, dict[str, Any]] = {}
    uses: dict[str, int] = {}

    def name_of(call: ModuleCall) -> str:
        key = id(call)
        if key not in ids:
            parent = name_of(call.parent) if call.parent is not None else None
            cid = ids[key] = f"m{len(ids)}"
            base = names.get(id(call.module)) or type(call.module).__name__
            uses[base] = uses.get(base, 0) + 1
            table[cid] = {
                "name": base if uses[base] == 1 else f"{base} ({uses[base]})",
                "class": type(call.module).__name__,
                "parent": parent,
            }
        return ids[key]

    for call in sorted({id(c): c for c in owner if c is not None}.values(), key=lambda c: (c.lo, c.depth)):
        name_of(call)
    return [name_of(c) if c is not None else None for c in owner], table
