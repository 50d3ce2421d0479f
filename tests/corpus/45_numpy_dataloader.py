# Data from numpy: arrays made and shuffled with np.random, converted with torch.from_numpy, wrapped in a
# TensorDataset and read by a shuffling DataLoader; predictions go back to numpy at the end.
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

np.random.seed(0)
n = 64
X_np = np.random.rand(n, 2).astype(np.float32)
noise = np.random.randn(n).astype(np.float32) * 0.05
y_np = (3 * X_np[:, 0] - 2 * X_np[:, 1] + 0.5 + noise).reshape(-1, 1)
order = np.arange(n)
np.random.shuffle(order)
X_np, y_np = X_np[order], y_np[order]
labels_np = np.random.randint(0, 3, size=5)
print(X_np.shape, y_np.dtype, labels_np)
print(np.round(X_np[:2], 4), X_np.mean().round(4), np.std(y_np).round(4))

dataset = TensorDataset(torch.from_numpy(X_np), torch.from_numpy(y_np))
loader = DataLoader(dataset, batch_size=16, shuffle=True)
model = torch.nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
for epoch in range(30):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
    if epoch % 10 == 9:
        print(f"epoch {epoch + 1}: {loss.item():.5f}")

weights_np = model.weight.detach().numpy().copy()
print(weights_np.round(2), model.bias.item() > 0)
grid = np.linspace(0, 1, 3)
xx, yy = np.meshgrid(grid, grid)
points = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
with torch.no_grad():
    preds = model(torch.from_numpy(points)).numpy()
print(preds.shape, np.abs(preds).max() < 5, np.zeros((2, 2)).sum(), np.ones(3).dot(np.arange(3)))
residual = float(np.abs(y_np - model(torch.from_numpy(X_np)).detach().numpy()).mean())
print(f"mean abs residual {residual:.4f}")
