# A classic blog example: a Dataset subclass over generated points, split with random_split into train and
# validation parts, each iterated by its own DataLoader.
import torch
from torch.utils.data import DataLoader, Dataset, random_split


class CirclesDataset(Dataset):
    def __init__(self, n):
        angles = torch.rand(n) * 2 * torch.pi
        radius = torch.where(torch.rand(n) > 0.5, torch.ones(n), torch.full((n,), 2.0))
        self.x = torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], dim=1)
        self.y = (radius > 1.5).long()

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, i):
        return self.x[i], self.y[i]


dataset = CirclesDataset(120)
train_set, val_set = random_split(dataset, [96, 24])
print(len(train_set), len(val_set), train_set.indices[:5])
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=24)

model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
loss_fn = torch.nn.CrossEntropyLoss()
for epoch in range(15):
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
    if epoch % 5 == 4:
        with torch.no_grad():
            xv, yv = next(iter(val_loader))
            val_acc = (model(xv).argmax(1) == yv).float().mean().item()
        print(f"epoch {epoch + 1} train loss {loss.item():.4f} val acc {val_acc:.3f}")

generator = torch.Generator().manual_seed(42)
parts = random_split(range(10), [0.7, 0.3], generator=generator)
print([list(p) for p in parts])
xb_first, yb_first = train_set[0]
print(xb_first, yb_first)
