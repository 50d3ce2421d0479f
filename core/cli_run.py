"""`python -m core run`: run a program in the sandbox and print JSON, DOT, SVG or text (DESIGN.md contract)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from core.limits import MAX_SOURCE_CHARS
from core.numfmt import fmt_number, fmt_tensor, is_float_dtype


def _read_source(args: argparse.Namespace) -> str:
    """The program as text: UTF-8 with or without a BOM; undecodable bytes are a syntax error (SandboxError)."""
    from core.sandbox.validate import decode

    if args.source is not None:
        return args.source
    if args.file == "-":
        return decode(sys.stdin.buffer.read(4 * MAX_SOURCE_CHARS + 4))
    with open(args.file, "rb") as f:
        return decode(f.read(4 * MAX_SOURCE_CHARS + 4))


def expand_aliases(result: dict[str, Any]) -> dict[str, Any]:
    """The worker sends a big tensor bound to several names once ("same_as"); the CLI's JSON lists each."""
    variables = result.get("variables") or {}
    for entry in variables.values():
        first = variables.get(entry.get("same_as", ""))
        if first is not None:
            for key in ("value", "grad", "summary", "grad_summary"):
                if key in first:
                    entry[key] = first[key]
    return result


def _values(values: Any, summary: dict[str, Any] | None, dtype: str) -> str:
    """A tensor's numbers in the app's one look (core/numfmt.py), or its summary when it was too big."""
    if values is not None:
        return fmt_tensor(values, dtype)
    if not summary:
        return "None"
    shown = dtype if is_float_dtype(dtype) else "float64"
    parts = [f"{k} {fmt_number(summary.get(k), dtype if k in ('min', 'max') else shown)}" for k in summary]
    return "{" + ", ".join(parts) + "}"


def format_text(result: dict[str, Any]) -> str:
    """A readable report: printed output, then each variable with its shape, value and grad."""
    lines: list[str] = []
    if result.get("stdout"):
        lines += ["# output", result["stdout"].rstrip("\n"), ""]
    lines.append(f"# variables (device {result.get('device')})")
    for name, v in result.get("variables", {}).items():
        if v.get("type") == "tensor":
            head = f"{name}: tensor {v['shape']} {v['dtype']} on {v['device']}"
            if v["requires_grad"]:
                head += f", requires_grad, {'leaf' if v['is_leaf'] else 'grad_fn=' + str(v['grad_fn'])}"
            lines.append(head)
            lines.append(f"  value = {_values(v['value'], v.get('summary'), v['dtype'])}")
            if v.get("grad") is not None or v.get("grad_summary"):
                lines.append(f"  grad  = {_values(v['grad'], v.get('grad_summary'), v['dtype'])}")
        elif v.get("type") in ("float", "int", "bool") and "value" in v:
            lines.append(f"{name}: {v.get('type')} = {fmt_number(v['value'])}")
        elif v.get("type") == "ndarray" and v.get("value") is not None:
            lines.append(
                f"{name}: ndarray {v.get('shape')} {v.get('dtype')} = {fmt_tensor(v['value'], v.get('dtype'))}"
            )
        else:
            lines.append(f"{name}: {v.get('type')} = {v.get('value', v.get('repr'))}")
    order = result.get("backward_steps") or []
    if order:
        lines += ["", "# backward, in the engine's order"]
        lines += [f"{s['index'] + 1:>3}. {s['name']}" for s in order]
    return "\n".join(lines)


def run_command(args: argparse.Namespace) -> int:
    from core.sandbox import SandboxError, run_program

    try:
        source = _read_source(args)
    except OSError as e:
        result: dict[str, Any] = {
            "ok": False,
            "error": {"kind": "runtime", "message": f"cannot read {args.file}: {e.strerror}", "line": None},
        }
    except SandboxError as e:
        result = {"ok": False, "error": e.to_json()}
    else:
        result = expand_aliases(run_program(source, device=args.device, graph=args.format != "text"))
    if not result.get("ok"):
        if args.format == "json":
            print(json.dumps(result, ensure_ascii=False))
        else:
            err = result["error"]
            where = f" (line {err['line']})" if err.get("line") else ""
            print(f"error: {err['kind']}{where}: {err['message']}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False))
    elif args.format == "text":
        print(format_text(result))
    else:
        from core import render

        dot = render.to_dot(result["graph"])
        if args.format == "dot":
            print(dot)
        else:
            svg = render.to_svg(dot)
            if svg is None:
                print("error: Graphviz 'dot' is not installed or timed out", file=sys.stderr)
                return 1
            print(svg)
    return 0
