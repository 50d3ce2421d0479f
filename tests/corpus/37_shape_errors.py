# Catching mistakes: try/except around a shape mismatch, printing PyTorch's message; else/finally blocks;
# raising and catching our own errors; assert statements that hold.
import torch

a = torch.randn(2, 3)
b = torch.randn(4, 5)
try:
    c = a @ b
except RuntimeError as e:
    print("matmul failed:", e)

try:
    a.view(4, 2)
except RuntimeError as err:
    message = str(err)
    print("view failed:", message)

attempts = 0
for shape in [(3, 2), (6,), (5, 1)]:
    attempts += 1
    try:
        r = a.reshape(shape)
    except RuntimeError:
        print(f"cannot reshape to {shape}")
    else:
        print(f"reshaped to {tuple(r.shape)}")
    finally:
        print("attempt", attempts, "done")


def checked_mean(t):
    if t.numel() == 0:
        raise ValueError("empty tensor has no mean")
    return t.mean()


try:
    checked_mean(torch.tensor([]))
except ValueError as e:
    print("ValueError:", e)

try:
    torch.ones(3) + torch.ones(4)
except (RuntimeError, TypeError) as e:
    print(isinstance(e, RuntimeError), str(e).split(" at ")[0])

try:
    int("three")
except ValueError:
    print("not a number")

assert a.shape == (2, 3), "a has the wrong shape"
assert torch.isfinite(a).all()
fixed = a @ b[:3, :]
print(fixed.shape)
