# Topic of the introductions in seeds 000/003: linear regression y = a + b x on numpy data, first with the
# gradients of a and b written out by hand, then the same steps with torch tensors and autograd.
import numpy as np
import torch

np.random.seed(42)
x = np.random.rand(100, 1)
y = 1 + 2 * x + 0.1 * np.random.randn(100, 1)

idx = np.arange(100)
np.random.shuffle(idx)
train_idx, val_idx = idx[:80], idx[80:]
x_train, y_train = x[train_idx], y[train_idx]
x_val, y_val = x[val_idx], y[val_idx]

a = np.random.randn(1)
b = np.random.randn(1)
print("start:", a, b)

lr = 1e-1
n_epochs = 200
for _ in range(n_epochs):
    yhat = a + b * x_train
    error = y_train - yhat
    loss = (error**2).mean()
    a_grad = -2 * error.mean()
    b_grad = -2 * (x_train * error).mean()
    a = a - lr * a_grad
    b = b - lr * b_grad
print("numpy:", a, b, round(float(loss), 6))

x_train_tensor = torch.from_numpy(x_train).float()
y_train_tensor = torch.from_numpy(y_train).float()
torch.manual_seed(42)
a_t = torch.randn(1, requires_grad=True, dtype=torch.float)
b_t = torch.randn(1, requires_grad=True, dtype=torch.float)
for _ in range(n_epochs):
    yhat_t = a_t + b_t * x_train_tensor
    error_t = y_train_tensor - yhat_t
    loss_t = (error_t**2).mean()
    loss_t.backward()
    with torch.no_grad():
        a_t -= lr * a_t.grad
        b_t -= lr * b_t.grad
    a_t.grad.zero_()
    b_t.grad.zero_()
print("torch:", a_t, b_t)
val_loss = float(((y_val - (a + b * x_val)) ** 2).mean())
print(f"validation mse {val_loss:.5f}")
