"""Plain-words explanations of the autograd errors students meet, matched on PyTorch's own messages."""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import t


@dataclass(frozen=True)
class Pitfall:
    """A known error: a fragment of torch's message; what it means is `pitfall.<key>` in the catalog."""

    key: str
    match: str

    def text(self, lang: str) -> str:
        return t(f"pitfall.{self.key}", lang)

    @property
    def en(self) -> str:
        return self.text("en")

    @property
    def zh(self) -> str:
        return self.text("zh")


PITFALLS: list[Pitfall] = [
    Pitfall(
        "backward_twice",
        "backward through the graph a second time",
    ),
    Pitfall(
        "inplace_saved",
        "modified by an inplace operation",
    ),
    Pitfall(
        "no_grad_fn",
        "does not require grad and does not have a grad_fn",
    ),
    Pitfall(
        "leaf_inplace",
        "a leaf Variable that requires grad is being used in an in-place operation",
    ),
    Pitfall(
        "implicit_scalar",
        "grad can be implicitly created only for scalar outputs",
    ),
    Pitfall(
        "no_grad_tensor_output",
        "One of the differentiated Tensors appears to not have been used in the graph",
    ),
]


def explain(message: str, lang: str = "en") -> dict[str, str] | None:
    """{'key', 'text'} for the first pitfall whose fragment appears in `message`, else None."""
    for p in PITFALLS:
        if p.match.lower() in message.lower():
            return {"key": p.key, "text": p.text(lang)}
    return None
