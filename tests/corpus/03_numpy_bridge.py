# In the spirit of the "Bridge with NumPy" part of the tensors tutorial: a tensor made by
# torch.from_numpy shares memory with its array, and .numpy() goes the other way.
import numpy as np
import torch

t = torch.ones(5)
print(f"t: {t}")
n = t.numpy()
print(f"n: {n}")
t.add_(1)
print(f"t: {t}")
print(f"n: {n}")

n2 = np.ones(5)
t2 = torch.from_numpy(n2)
np.add(n2, 1, out=n2)
print(f"t2: {t2}")
print(f"n2: {n2}")
n2 *= 3
print(t2.dtype, t2)

grid = np.arange(12).reshape(3, 4)
grid_t = torch.from_numpy(grid)
print(grid_t.dtype, grid_t.shape)
print(grid_t[1:, ::2])

floats = np.linspace(0.0, 1.0, 5).astype(np.float32)
floats_t = torch.from_numpy(floats)
doubled = (floats_t * 2).numpy()
print(doubled, doubled.dtype)
mean_value = float(np.mean(doubled))
print(round(mean_value, 4))
copy_t = torch.tensor(n2)
n2[0] = -1.0
print(copy_t[0].item(), t2[0].item())
