"""A user-facing message as an i18n key plus its arguments, so core can explain and the page can translate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.i18n import t


@dataclass(frozen=True)
class Message:
    """What went wrong (or what happened), in words: `text(lang)` renders it from the catalog (core/i18n)."""

    key: str
    args: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        """The message in `lang` (English when that language has no entry)."""
        return t(self.key, lang, **self.args)

    def __str__(self) -> str:
        return self.text("en")
