"""UI strings in English and Chinese: `t(key, lang)` looks a key up in the per-page tables."""

from __future__ import annotations

from core.i18n import common, export, graph, lessons, playground, training

LANGS = {"en": "English", "zh": "中文"}

# Every table maps key -> {"en": ..., "zh": ...}. Keys are unique across tables.
TABLES: dict[str, dict[str, dict[str, str]]] = {
    "common": common.STRINGS,
    "playground": playground.STRINGS,
    "graph": graph.STRINGS,
    "training": training.STRINGS,
    "lessons": lessons.STRINGS,
    "export": export.STRINGS,
}

STRINGS: dict[str, dict[str, str]] = {}
for _table in TABLES.values():
    for _key, _entry in _table.items():
        if _key in STRINGS:
            raise KeyError(f"duplicate i18n key {_key!r}")
        STRINGS[_key] = _entry


def t(key: str, lang: str = "en", **fmt: object) -> str:
    """The string for `key` in `lang` (falls back to English), formatted with `fmt`."""
    entry = STRINGS[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**fmt) if fmt else text
