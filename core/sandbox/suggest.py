""" "Did you mean ...?": the allowed names closest to a name the program used that the sandbox does not know.

Candidates always come from the language's own table (a namespace's members, a type's allowed attributes, a
function's allowed keywords) or the names the program itself bound, never from the real library: a suggestion
never reveals or offers a name outside the language.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

MAX_SUGGESTIONS = 3
CUTOFF = 0.6  # difflib's ratio; 'rleu' -> 'relu' is 0.75, 'tensr' -> 'tensor' 0.91
KWARG_CUTOFF = 0.75  # keywords: 'dtpye' -> 'dtype' (0.8), but not 'out' -> 'layout' (0.67)


def close(name: str, candidates: Iterable[Any], cutoff: float = CUTOFF) -> list[str]:
    """Up to MAX_SUGGESTIONS candidates closest to `name` (public names only; none for a long or odd name)."""
    if not isinstance(name, str) or not name or len(name) > 80:
        return []
    pool = sorted({c for c in candidates if isinstance(c, str) and c and not c.startswith("_") and c != name})
    return difflib.get_close_matches(name, pool, n=MAX_SUGGESTIONS, cutoff=cutoff)


def hint(names: list[str]) -> str:
    """['tensor', 'Tensor'] -> "'tensor' / 'Tensor'" (the same in every language)."""
    return " / ".join(f"'{n}'" for n in names)


def really_has(real: Any, name: str) -> bool:
    """Whether the real object (a module, a class) has `name`: then the sandbox refused it, rather than it being
    a typo. Looked up with dir(), which runs no attribute code; anything odd counts as present (a refusal)."""
    if real is None:
        return False
    try:
        return name in dir(real)
    except Exception:  # noqa: BLE001 - a broken __dir__: say refused, never guess
        return True
