"""Every user-visible string in English and Chinese: one catalog file per language, `t(key, lang, **fmt)`.

The catalog is `core/i18n/en.yaml` and `core/i18n/zh.yaml`: flat `key: text` mappings (text may hold `{name}`
placeholders for `str.format`). Both are read once, at import. English is the source language: every key exists
there, and `tests/test_catalog.py` checks that every key also exists in Chinese with the same placeholders.
A branch that still adds a `STRINGS = {key: {"en":.., "zh":..}}` table in a `core/i18n/*.py` module is merged into
the catalog with `python tools/strings_merge.py`.
"""

from __future__ import annotations

from pathlib import Path

import yaml

LANGS = {"en": "English", "zh": "中文"}
CATALOG_DIR = Path(__file__).resolve().parent


def catalog_path(lang: str) -> Path:
    """The catalog file of `lang`."""
    return CATALOG_DIR / f"{lang}.yaml"


def load_catalog(lang: str) -> dict[str, str]:
    """The catalog of `lang` as read from its file: key -> text (an empty file is an empty catalog)."""
    with catalog_path(lang).open(encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"{catalog_path(lang)} must map string keys to string texts")
    return data


CATALOGS: dict[str, dict[str, str]] = {lang: load_catalog(lang) for lang in LANGS}

# key -> {"en": ..., "zh": ...}: the catalog by key, for code that wants both languages of one string.
STRINGS: dict[str, dict[str, str]] = {
    key: {lang: CATALOGS[lang][key] for lang in LANGS if key in CATALOGS[lang]} for key in CATALOGS["en"]
}


def has(key: str) -> bool:
    """Whether the catalog has `key`."""
    return key in CATALOGS["en"]


def t(key: str, lang: str = "en", /, **fmt: object) -> str:
    """The string for `key` in `lang` (falls back to English), formatted with `fmt`."""
    text = CATALOGS.get(lang, CATALOGS["en"]).get(key) or CATALOGS["en"][key]
    return text.format(**fmt) if fmt else text


def both(key: str, /, **fmt: object) -> dict[str, str]:
    """{"en": ..., "zh": ...} for `key`, each formatted with `fmt`."""
    return {lang: t(key, lang, **fmt) for lang in LANGS}
