# Functional Python in a PyTorch program: lambdas, sorted with key=, map and filter, min/max with key=,
# and functions passed around as values.
import torch

torch.manual_seed(0)
models = {f"model_{k}": torch.nn.Linear(3, 1) for k in range(4)}
x = torch.randn(8, 3)
y = x.sum(dim=1, keepdim=True)
loss_of = lambda m: torch.nn.functional.mse_loss(m(x), y).item()
losses = {name: loss_of(m) for name, m in models.items()}

ranked = sorted(losses.items(), key=lambda kv: kv[1])
for name, value in ranked:
    print(f"{name}: {value:.4f}")
best_name = min(losses, key=losses.get)
worst_name = max(losses, key=lambda n: losses[n])
print(best_name, worst_name)

values = [3.5, -1.0, 2.25, 0.0, -4.5]
positives = list(filter(lambda v: v > 0, values))
doubled = list(map(lambda v: v * 2, values))
print(positives, doubled)
tensors = list(map(torch.tensor, values))
print(sum(tensors), sorted(values, reverse=True))
abs_sorted = sorted(values, key=abs)
print(abs_sorted)

activations = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
probe = torch.tensor([-1.0, 0.0, 1.0])
for name in sorted(activations):
    print(name, activations[name](probe))


def compose(f, g):
    return lambda t: f(g(t))


relu_of_tanh = compose(torch.relu, torch.tanh)
composed = relu_of_tanh(probe)
print(composed)
scale = lambda k: lambda t: t * k
triple = scale(3)
tripled = triple(probe)
print(tripled, callable(triple))
words = ["tensor", "grad", "autograd", "module"]
print(sorted(words, key=lambda w: (len(w), w)))
