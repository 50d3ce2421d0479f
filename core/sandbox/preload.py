"""Imported by the forkserver: runs one tiny program so every worker forks with torch's lazy imports done."""

from __future__ import annotations

from core.sandbox.session import execute

_WARM_UP = """
a = torch.tensor([2., 4.], requires_grad=True)
b = nn.Linear(2, 1)
y = (torch.sigmoid(b(a * a)) - 1) ** 2
y.sum().backward()
print(f"{y.sum().item():.3f}")
"""

try:
    execute(_WARM_UP, "cpu", with_graph=True)
except Exception:  # noqa: BLE001  a failed warm-up only costs the first request some time
    pass
