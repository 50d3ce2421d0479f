# Topic of the introductions in seeds 000/001/002: the graph is built as the code runs, so ordinary Python
# control flow (if, loops whose length depends on data) decides which operations are recorded.
import torch

torch.manual_seed(1)
w = torch.randn(3, requires_grad=True)


def forward(x, w):
    h = x * w
    if h.sum() > 0:
        out = h.relu().sum()
        branch = "relu"
    else:
        out = (h * h).sum()
        branch = "square"
    n = 0
    while out.abs() < 10 and n < 6:
        out = out * 2
        n += 1
    return out, branch, n


losses = []
for step in range(4):
    x = torch.randn(3)
    out, branch, n = forward(x, w)
    out.backward()
    print(f"step {step}: branch={branch} doublings={n} out={out.item():.4f}")
    print("   grad", w.grad)
    losses.append(out.item())
    w.grad = None

x_last = x
out_last = out
print(len(losses), out_last.grad_fn is not None)
node = out_last.grad_fn
depth = 0
while node is not None and depth < 20:
    depth += 1
    node = node.next_functions[0][0] if node.next_functions else None
print("graph depth along the first input:", depth)
