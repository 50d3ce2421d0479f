"""Seed 004's program exactly as the article gives it: the worked example several test files reproduce."""

SEED_004 = """a = torch.tensor([2., 4.], requires_grad=True)
b = torch.tensor([7., 5.], requires_grad=True)
E = 3*a**3 - b**2
external_gradient = torch.tensor([1., 1.])
E.backward(gradient=external_gradient)
print(a.grad)
print(b.grad)
"""
