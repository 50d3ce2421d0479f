# A classic blog example: scatter, scatter_add and index_add, e.g. summing values per group (a segment sum)
# and a histogram of labels, with gradients flowing back through the scatter.
import torch

values = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
groups = torch.tensor([0, 2, 0, 1, 2, 2])
sums = torch.zeros(3).scatter_add(0, groups, values)
print(sums)
counts = torch.zeros(3).scatter_add(0, groups, torch.ones(6))
means = sums / counts
print(means)
means.sum().backward()
print(values.grad)

src = torch.arange(1, 11, dtype=torch.float).reshape(2, 5)
index = torch.tensor([[0, 1, 2, 0, 0], [2, 0, 0, 1, 2]])
placed = torch.zeros(3, 5, dtype=src.dtype).scatter_(0, index, src)
print(placed)

labels = torch.tensor([3, 1, 3, 0, 2, 3, 1])
one_hot = torch.zeros(len(labels), 4).scatter(1, labels.unsqueeze(1), 1.0)
histogram = torch.zeros(4, dtype=torch.long).index_add_(0, labels, torch.ones_like(labels))
print(one_hot)
print(histogram, torch.bincount(labels))

rows = torch.ones(4, 3)
picked = torch.tensor([0, 3, 0])
weights = torch.tensor([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [100.0, 200.0, 300.0]])
accumulated = rows.index_add(0, picked, weights, alpha=2)
print(accumulated)
gathered = torch.gather(weights, 1, torch.tensor([[2], [0], [1]]))
print(gathered.squeeze(1))
