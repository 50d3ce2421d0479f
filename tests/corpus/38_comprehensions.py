# Python's comprehensions in a PyTorch program: list, dict and set comprehensions, nested ones, and generator
# expressions fed to sum/max/min/any/all and torch.stack.
import torch

torch.manual_seed(0)
batch = [torch.randn(3) for _ in range(5)]
norms = [round(t.norm().item(), 4) for t in batch]
print(norms)
stacked = torch.stack([t * i for i, t in enumerate(batch)])
print(stacked.shape)

squares = {n: n * n for n in range(6)}
print(squares)
evens = {n % 4 for n in range(10)}
print(sorted(evens), len(evens))
big = [n for n in norms if n > 1.0]
print("norms above one:", big)

pairs = [(i, j) for i in range(3) for j in range(i)]
print(pairs)
matrix = [[float(i * 3 + j) for j in range(3)] for i in range(2)]
M = torch.tensor(matrix)
print(M)

total = sum(t.sum() for t in batch)
largest = max(t.max().item() for t in batch)
smallest = min(t.min().item() for t in batch)
print(f"{total.item():.4f} {largest:.4f} {smallest:.4f}")
print(any(t.sum() > 2 for t in batch), all(t.numel() == 3 for t in batch))

shapes = {name: tuple(p.shape) for name, p in torch.nn.Linear(4, 2).named_parameters()}
print(shapes)
grads = []
params = [torch.tensor(float(k), requires_grad=True) for k in range(1, 4)]
loss = sum(p**2 for p in params)
loss.backward()
grads = [p.grad.item() for p in params]
print(grads)
flat = [x for row in matrix for x in row if x % 2 == 0]
print(flat)
lengths = dict(zip(["a", "bb", "ccc"], map(len, ["a", "bb", "ccc"])))
del lengths["bb"], squares[0]
scratch = torch.ones(2)
del scratch, batch[-1]
print(lengths, list(squares), len(batch))
