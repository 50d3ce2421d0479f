# A classic blog example: Tensor.register_hook to look at (and change) gradients as backward passes through,
# on a leaf and on an intermediate; retain_grad keeps an intermediate's gradient.
import torch

seen = []


def show(name):
    def hook(grad):
        print(f"grad of {name}: {grad}")
        seen.append(name)

    return hook


x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * x
y.retain_grad()
z = y.sum() * 2
handle = x.register_hook(show("x"))
y.register_hook(show("y"))
z.backward()
print(x.grad, y.grad)
print(seen)

handle.remove()
x.grad = None
a = torch.tensor([0.5, -1.0], requires_grad=True)
a.register_hook(lambda g: g * 10)
b = (a**3).sum()
b.backward()
print("scaled by the hook:", a.grad)

h = torch.tensor([2.0, -2.0], requires_grad=True)
out = torch.relu(h * 3)
out.register_hook(lambda g: print("output grad", g))
out.sum().backward()
print(h.grad)
hook_calls = len(seen)
