"""The one error type a user's program can cause: a kind, a message and a line (never a traceback)."""

from __future__ import annotations

from typing import Any

KINDS = ("refused", "syntax", "runtime", "limit", "timeout")


class SandboxError(BaseException):
    """A user error: kind is one of KINDS; line is 1-based or None.

    A BaseException, not an Exception: a program's `try/except Exception` (or a bare `except:`, which the
    compiler narrows to Exception) never catches the sandbox's own limit, timeout or refusal.
    """

    def __init__(self, kind: str, message: str, line: int | None = None) -> None:
        assert kind in KINDS, kind
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "line": self.line}
