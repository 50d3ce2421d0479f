"""The string catalog is complete: every key in every language with the same placeholders, every key the code asks
for exists, no key is left unused, and the content modules (lessons, examples, pitfalls, rules) have both languages.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from core import backward, examples, lessons, pitfalls
from core.i18n import CATALOGS, LANGS, STRINGS, catalog_path, load_catalog, t
from tools import strings_merge

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
# Functions that take a catalog key -> the position of that argument.
KEY_FUNCS = {"t": 0, "tr": 0, "md": 0, "both": 0, "has": 0, "Message": 0, "_refused": 0, "of": 1, "_error": 1}
KEY_FUNCS["_unknown"] = 4  # guards._unknown(owner, attr, real, candidates, key)
# Keyword arguments that hold a catalog key (training presets' rows, Message fields).
KEY_KWARGS = {"label_key", "description_key", "help_key"}


def _sources() -> list[Path]:
    return [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("ui/**/*.py"), *ROOT.glob("core/**/*.py")]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _scan() -> tuple[set[str], set[str], list[tuple[str, int, str]]]:
    """(every string literal in the code, constant starts of f-strings and `"x_" + y`, literal keys asked for)."""
    literals: set[str] = set()
    prefixes: set[str] = set()
    asked: list[tuple[str, int, str]] = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str) and len(first.value) >= 3:
                    prefixes.add(first.value)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and isinstance(node.left, ast.Constant):
                if isinstance(node.left.value, str) and len(node.left.value) >= 3:
                    prefixes.add(node.left.value)  # "gx_kind_" + kind
            elif isinstance(node, ast.Call):
                fn = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                pos = KEY_FUNCS.get(fn)
                args = list(node.args[pos : pos + 1]) if pos is not None else []
                args += [k.value for k in node.keywords if k.arg in KEY_KWARGS]
                for a in args:
                    if isinstance(a, ast.Constant) and isinstance(a.value, str):
                        asked.append((str(path.relative_to(ROOT)), a.lineno, a.value))
    return literals, prefixes, asked


def test_every_key_in_every_language():
    en = set(CATALOGS["en"])
    for lang in LANGS:
        assert set(CATALOGS[lang]) == en, (lang, sorted(set(CATALOGS[lang]) ^ en)[:20])
        assert all(text.strip() for text in CATALOGS[lang].values()), lang


def test_same_placeholders_in_each_language():
    bad = [
        (key, lang)
        for key, entry in STRINGS.items()
        for lang in LANGS
        if _placeholders(entry[lang]) != _placeholders(entry["en"])
    ]
    assert bad == []


def test_chinese_texts_are_chinese():
    """A text with English words in it has Chinese words in its translation (code and numbers read the same)."""
    untranslated = [
        key
        for key, entry in STRINGS.items()
        if re.search(r"[A-Za-z]{4,} [A-Za-z]{4,}", re.sub(r"`[^`]*`|\{[^}]*\}", "", entry["en"]))
        and not CJK.search(entry["zh"])
    ]
    assert untranslated == []


def test_every_key_the_code_asks_for_exists():
    _, _, asked = _scan()
    assert len(asked) > 200
    missing = [(path, line, key) for path, line, key in asked if key not in STRINGS]
    assert missing == []


def test_every_sandbox_error_has_a_key():
    """SandboxError(kind, "words") is English only: the sandbox raises SandboxError.of(kind, key, ...). Only the
    fallbacks for Python's messages no pattern knows pass a computed text."""
    literal = []
    for path in ROOT.glob("core/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "SandboxError":
                if len(node.args) > 1 and isinstance(node.args[1], ast.Constant | ast.JoinedStr | ast.BinOp):
                    literal.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert literal == []


def test_no_unused_keys():
    """A key is used when the code holds it as a literal, or an f-string's constant start begins it
    (f"rule.{name}", f"error_kind_{kind}")."""
    literals, prefixes, _ = _scan()
    unused = [k for k in STRINGS if k not in literals and not any(k.startswith(p) for p in prefixes)]
    assert unused == []


def test_the_scan_can_fail():
    literals, prefixes, asked = _scan()
    assert "run" in literals and "rule." in prefixes
    assert "no_such_key_anywhere" not in STRINGS


def test_format_with_placeholders():
    assert t("error_line", "zh", line=3) == "第 3 行"
    assert t("error_line", "fr", line=3) == "line 3"  # an unknown language falls back to English


def test_catalog_files_are_what_is_loaded():
    for lang in LANGS:
        assert catalog_path(lang).name == f"{lang}.yaml"
        assert load_catalog(lang) == CATALOGS[lang]


def test_no_old_table_left():
    """A merged branch's core/i18n/*.py table must be folded in: run tools/strings_merge.py."""
    left = [p.name for p in (ROOT / "core" / "i18n").glob("*.py") if p.name != "__init__.py"]
    assert left == []


# --- content modules ------------------------------------------------------------------------------------------------


def test_every_lesson_text_has_both_languages():
    texts = [text for ls in lessons.LESSONS for text in lessons.texts(ls)]
    assert len(texts) > 50
    for text in texts:
        assert text.en.strip() and text.zh.strip(), text


@pytest.mark.parametrize("lang", list(LANGS))
def test_examples_pitfalls_and_rules_in_both_languages(lang):
    for ex in examples.PLAYGROUND + examples.GRAPH:
        assert ex.title(lang).strip(), ex.key
    assert any(ex.note(lang) for ex in examples.GRAPH)
    for p in pitfalls.PITFALLS:
        assert p.text(lang).strip(), p.key
    for name, rule in backward.RULES.items():
        assert rule[lang].strip() and rule["formula"], name
    if lang == "zh":
        assert all(CJK.search(p.zh) for p in pitfalls.PITFALLS)
        assert all(CJK.search(r["zh"]) for r in backward.RULES.values())


# --- the merge tool ------------------------------------------------------------------------------------------------


def test_strings_merge_folds_a_table_into_the_catalog(tmp_path):
    strings_merge.write_catalog("en", {"old": "Old", "kept": "Kept"}, tmp_path)
    strings_merge.write_catalog("zh", {"old": "旧", "kept": "保留"}, tmp_path)
    (tmp_path / "extra.py").write_text(
        '"""A branch\'s table."""\n\nSTRINGS: dict[str, dict[str, str]] = {\n'
        '    "new_key": {"en": "New {n}: yes", "zh": "新的 {n}"},\n'
        '    "old": {"en": "Changed", "zh": "改了"},\n}\n',
        encoding="utf-8",
    )
    (tmp_path / "keep.py").write_text(
        'STRINGS = {"k2": {"en": "on", "zh": "开"}}\n\n\ndef helper() -> int:\n    return 1\n', encoding="utf-8"
    )
    assert strings_merge.main(["--folder", str(tmp_path), "--check"]) == 1
    assert (tmp_path / "extra.py").exists()  # --check writes nothing
    assert strings_merge.main(["--folder", str(tmp_path)]) == 0
    en, zh = strings_merge.read_catalog("en", tmp_path), strings_merge.read_catalog("zh", tmp_path)
    assert en == {"old": "Changed", "kept": "Kept", "new_key": "New {n}: yes", "k2": "on"}
    assert zh == {"old": "改了", "kept": "保留", "new_key": "新的 {n}", "k2": "开"}
    assert not (tmp_path / "extra.py").exists()  # nothing left but the table: deleted
    rest = (tmp_path / "keep.py").read_text(encoding="utf-8")
    assert "STRINGS" not in rest and "def helper" in rest
    assert strings_merge.main(["--folder", str(tmp_path), "--check"]) == 0


def test_strings_merge_never_runs_the_module(tmp_path):
    strings_merge.write_catalog("en", {}, tmp_path)
    strings_merge.write_catalog("zh", {}, tmp_path)
    (tmp_path / "evil.py").write_text('STRINGS = {"a": {"en": __import__("os").getcwd()}}\n', encoding="utf-8")
    with pytest.raises(ValueError):
        strings_merge.main(["--folder", str(tmp_path)])
