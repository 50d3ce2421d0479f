"""The one error type a user's program can cause: a kind, a message and a line (never a traceback).

Each error carries a catalog key and its arguments (`SandboxError.of(kind, key, line, **args)`), so a page shows it
in the user's language; `message` is the English text (the CLI prints it; older callers read it). An error whose
words come from Python itself (a SyntaxError, a NameError) keeps Python's own English text as `detail`.
"""

from __future__ import annotations

from typing import Any

from core.i18n import has, t

KINDS = ("refused", "syntax", "runtime", "limit", "timeout")
MAX_ARG_CHARS = 300  # an argument echoes user text (a name, a keyword): bounded, so a key never carries a novel


def _arg(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int | float):
        return v
    text = str(v)
    return text if len(text) <= MAX_ARG_CHARS else text[:MAX_ARG_CHARS] + "…"


class SandboxError(BaseException):
    """A user error: kind is one of KINDS; line is 1-based or None.

    A BaseException, not an Exception: a program's `try/except Exception` (or a bare `except:`, which the
    compiler narrows to Exception) never catches the sandbox's own limit, timeout or refusal.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        line: int | None = None,
        *,
        key: str | None = None,
        args: dict[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        assert kind in KINDS, kind
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.key = key
        self.args_ = args or {}
        self.detail = detail

    @classmethod
    def of(
        cls, kind: str, key: str, line: int | None = None, /, detail: str | None = None, **args: Any
    ) -> SandboxError:
        """The error whose words are catalog `key` formatted with `args`. Its English `message` is the catalog's
        English text, or `detail` (Python's own words) when given: the CLI and older callers read Python's text."""
        clean = {k: _arg(v) for k, v in args.items()}
        return cls(kind, detail or t(key, "en", **clean), line, key=key, args=clean, detail=detail)

    def text(self, lang: str = "en") -> str:
        """The message in `lang`."""
        return error_text(self.to_json(), lang)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "message": self.message, "line": self.line}
        if self.key is not None:
            out["key"] = self.key
            out["args"] = self.args_
        if self.detail is not None:
            out["detail"] = self.detail
        return out


def error_text(error: dict[str, Any], lang: str) -> str:
    """An error object's message in `lang`: its catalog key with its args, else (and in English) its `message`.

    An error object may come from an older worker or a hand-made dict: a missing key, unknown key or args that do
    not fit the template fall back to the English message."""
    key, args = error.get("key"), error.get("args")
    if lang != "en" and isinstance(key, str) and has(key) and isinstance(args, dict):
        try:
            return t(key, lang).format(**args)
        except (KeyError, IndexError, ValueError, TypeError):
            pass
    return str(error.get("message", ""))
