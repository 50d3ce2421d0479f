# A classic blog example: gradient clipping. A badly scaled regression makes big gradients; the total norm is
# measured and clipped with torch.nn.utils.clip_grad_norm_, and single values with clip_grad_value_.
import torch
import torch.nn as nn
from torch.nn.utils import clip_grad_norm_

torch.manual_seed(0)
X = torch.randn(50, 3) * 10
y = X @ torch.tensor([[1.5], [-2.0], [0.5]]) + 3
model = nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
max_norm = 5.0

norms = []
for step in range(30):
    optimizer.zero_grad()
    loss = ((model(X) - y) ** 2).mean()
    loss.backward()
    total_norm = clip_grad_norm_(model.parameters(), max_norm=max_norm)
    norms.append(total_norm.item())
    after = torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters()))
    optimizer.step()
    if step % 10 == 0:
        print(f"step {step:2d} loss {loss.item():10.4f} norm {total_norm.item():9.4f} -> {after.item():.4f}")

print(f"largest norm {max(norms):.3f}, smallest {min(norms):.3f}")
clipped_steps = len([n for n in norms if n > max_norm])
print("steps clipped:", clipped_steps)

w = torch.tensor([1.0, -3.0, 0.2], requires_grad=True)
(w * torch.tensor([10.0, 10.0, 10.0])).sum().backward()
torch.nn.utils.clip_grad_value_([w], clip_value=4.0)
print(w.grad)
last_weight = model.weight
