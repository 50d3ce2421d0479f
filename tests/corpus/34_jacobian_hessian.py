# A classic blog example: torch.autograd.functional.jacobian and hessian of small functions, compared with
# the matrices worked out by hand.
import torch
from torch.autograd.functional import hessian, jacobian


def f(x):
    return torch.stack([x[0] ** 2 * x[1], 5 * x[0] + torch.sin(x[1])])


def g(x):
    return (x**3).sum() + x[0] * x[1]


x = torch.tensor([1.0, 2.0])
J = jacobian(f, x)
print(J)
expected_J = torch.tensor([[2 * 1.0 * 2.0, 1.0**2], [5.0, torch.cos(torch.tensor(2.0)).item()]])
print(torch.allclose(J, expected_J))

H = hessian(g, x)
print(H)
expected_H = torch.tensor([[6 * 1.0, 1.0], [1.0, 6 * 2.0]])
print(torch.equal(H, expected_H))


def linear(a, b):
    return a @ b


A = torch.randn(2, 3)
B = torch.randn(3)
JA, JB = jacobian(linear, (A, B))
print(JA.shape, JB.shape)
print(torch.allclose(JB, A))
softmax_jacobian = jacobian(lambda v: torch.softmax(v, dim=0), torch.tensor([0.1, 0.5, -0.3]))
print(softmax_jacobian.sum(dim=0))
