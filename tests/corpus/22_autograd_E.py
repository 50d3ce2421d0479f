# Topic of the introduction in seed 004: autograd on E = 3a^3 - b^2 for vectors a and b, with an external
# gradient, checked against the derivatives 9a^2 and -2b written out by hand.
import torch

a = torch.tensor([2.0, 4.0], requires_grad=True)
b = torch.tensor([7.0, 5.0], requires_grad=True)
E = 3 * a**3 - b**2
print(E)
external_gradient = torch.tensor([1.0, 1.0])
E.backward(gradient=external_gradient)
print(a.grad)
print(b.grad)
print(9 * a**2 == a.grad)
print(-2 * b == b.grad)
print(E.grad_fn.name())
total = E.sum().item()
