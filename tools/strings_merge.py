"""Merge every `STRINGS = {key: {"en": .., "zh": ..}}` table left in a core/i18n/*.py module into the catalog.

The catalog is one YAML file per language (core/i18n/en.yaml, zh.yaml). A branch written before the catalog
added its keys to the old per-page .py tables; after merging it, run

    .venv/bin/python tools/strings_merge.py            # merge, write the catalog, delete the tables
    .venv/bin/python tools/strings_merge.py --check    # only say what would change (exit 1 if anything)

Each table is read with ast.literal_eval (the module is never imported or executed). A key already in the catalog
takes the table's text (the branch changed it) and is reported. The `STRINGS` assignment is then deleted from its
module, and a module left with nothing but a docstring and imports is deleted.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
I18N = ROOT / "core" / "i18n"
LANGS = ("en", "zh")


def read_catalog(lang: str, folder: Path = I18N) -> dict[str, str]:
    path = folder / f"{lang}.yaml"
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def dump_catalog(entries: dict[str, str]) -> str:
    """One `key: text` line per entry, in the given order (stable, diff-friendly)."""
    if not entries:
        return "{}\n"
    return yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=1_000_000, default_flow_style=False)


def write_catalog(lang: str, entries: dict[str, str], folder: Path = I18N) -> None:
    (folder / f"{lang}.yaml").write_text(dump_catalog(entries), encoding="utf-8")


def find_table(source: str) -> tuple[ast.stmt, dict[str, dict[str, str]]] | None:
    """The module's top-level STRINGS assignment and its value, or None."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "STRINGS" for t in targets) and node.value is not None:
            table = ast.literal_eval(node.value)
            if not isinstance(table, dict):
                raise ValueError("STRINGS is not a dict")
            return node, table
    return None


def _only_boilerplate(source: str) -> bool:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        return False
    return True


def merge(folder: Path = I18N, write: bool = True, out=sys.stdout) -> int:
    """Merge every table under `folder`; returns how many keys were added or changed."""
    catalogs = {lang: read_catalog(lang, folder) for lang in LANGS}
    changed = 0
    for path in sorted(folder.glob("*.py")):
        if path.name == "__init__.py":
            continue
        source = path.read_text(encoding="utf-8")
        found = find_table(source)
        if found is None:
            continue
        node, table = found
        for key, entry in table.items():
            if not isinstance(key, str) or not isinstance(entry, dict):
                raise ValueError(f"{path.name}: {key!r} is not a key -> {{lang: text}} entry")
            for lang in LANGS:
                text = entry.get(lang)
                if text is None:
                    print(f"{path.name}: {key} has no {lang!r} text", file=out)
                    continue
                old = catalogs[lang].get(key)
                if old != text:
                    changed += 1
                    if old is not None:
                        print(f"{path.name}: {key} [{lang}] changed: {old!r} -> {text!r}", file=out)
                    catalogs[lang][key] = text
        print(f"{path.name}: {len(table)} keys", file=out)
        if write:
            lines = source.splitlines(keepends=True)
            rest = "".join(lines[: node.lineno - 1] + lines[node.end_lineno :])
            if _only_boilerplate(rest):
                path.unlink()
                print(f"{path.name}: deleted (nothing left but the table)", file=out)
            else:
                path.write_text(rest, encoding="utf-8")
    if write:
        for lang in LANGS:
            write_catalog(lang, catalogs[lang], folder)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report only; exit 1 when a table is left")
    parser.add_argument("--folder", type=Path, default=I18N)
    args = parser.parse_args(argv)
    tables = [p for p in args.folder.glob("*.py") if p.name != "__init__.py" and find_table(p.read_text("utf-8"))]
    n = merge(args.folder, write=not args.check)
    if args.check:
        return 1 if tables else 0
    print(f"{n} texts added or changed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
