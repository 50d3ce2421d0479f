# Recursion in a PyTorch program: factorial and Fibonacci, a recursive sum over a nested tree of tensors,
# and a recursive polynomial (Horner's rule) that autograd differentiates.
# ruff: noqa: B006  (the tutorials' own style, kept on purpose)
import torch


def factorial(n):
    if n <= 1:
        return 1
    return n * factorial(n - 1)


def fib(n, memo={}):
    if n in memo:
        return memo[n]
    result = n if n < 2 else fib(n - 1) + fib(n - 2)
    memo[n] = result
    return result


def tree_sum(node):
    if isinstance(node, torch.Tensor):
        return node.sum()
    if isinstance(node, dict):
        return sum((tree_sum(v) for v in node.values()), torch.tensor(0.0))
    return sum((tree_sum(child) for child in node), torch.tensor(0.0))


def horner(coeffs, x):
    if len(coeffs) == 1:
        return coeffs[0]
    return coeffs[0] + x * horner(coeffs[1:], x)


print([factorial(k) for k in range(8)])
fact20 = factorial(20)
print(fact20, fib(30))

leaf = torch.tensor([1.0, 2.0], requires_grad=True)
tree = [leaf, [torch.ones(2, 2), {"a": torch.tensor(3.0), "b": [leaf * 2]}], torch.arange(4.0)]
total = tree_sum(tree)
total.backward()
print(total, leaf.grad)

x = torch.tensor(0.5, requires_grad=True)
coefficients = [1.0, -2.0, 3.0, 0.5]
p = horner(coefficients, x)
p.backward()
print(f"p(0.5) = {p.item():.4f}, p'(0.5) = {x.grad.item():.4f}")
depth_limit_ok = factorial(30) > 10**30
print(depth_limit_ok)
