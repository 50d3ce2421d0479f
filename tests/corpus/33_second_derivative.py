# A classic blog example: higher derivatives with torch.autograd.grad(create_graph=True); the first
# derivative is itself differentiable, so its gradient is the second derivative.
import torch

x = torch.tensor(2.0, requires_grad=True)
y = x**3 + 2 * x**2 - 5 * x
(dy_dx,) = torch.autograd.grad(y, x, create_graph=True)
print(f"dy/dx at 2 = {dy_dx.item()}")
(d2y_dx2,) = torch.autograd.grad(dy_dx, x, create_graph=True)
print(f"d2y/dx2 at 2 = {d2y_dx2.item()}")
(d3y_dx3,) = torch.autograd.grad(d2y_dx2, x)
print(f"d3y/dx3 = {d3y_dx3.item()}")

t = torch.linspace(0, 3, 7, requires_grad=True)
s = torch.sin(t) * t
(ds,) = torch.autograd.grad(s.sum(), t, create_graph=True)
(dds,) = torch.autograd.grad(ds.sum(), t)
print(ds.detach())
print(dds)
check = torch.allclose(dds, 2 * torch.cos(t) - t * torch.sin(t))
print("matches 2cos t - t sin t:", check)

w = torch.tensor([1.0, 2.0], requires_grad=True)
loss = (w**2).sum() * w[0]
g = torch.autograd.grad(loss, w, create_graph=True)[0]
penalty = g.pow(2).sum()
penalty.backward()
print(g, w.grad)
grads = torch.autograd.grad((w * w).sum(), [w], retain_graph=True, allow_unused=True)
print(len(grads), grads[0])
