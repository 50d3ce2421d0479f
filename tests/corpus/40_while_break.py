# Loops that stop on a condition: gradient descent until the gradient is small (while + break), Newton's
# method for a square root, and a bisection search, with continue skipping some steps.
import torch

x = torch.tensor(5.0, requires_grad=True)
lr = 0.1
step = 0
while True:
    loss = (x - 2) ** 2 + 1
    loss.backward()
    if x.grad.abs() < 1e-3:
        break
    with torch.no_grad():
        x -= lr * x.grad
    x.grad.zero_()
    step += 1
    if step > 500:
        print("did not converge")
        break
print(f"converged after {step} steps: x = {x.item():.5f}, loss = {loss.item():.6f}")

target = torch.tensor(10.0, dtype=torch.float64)
guess = torch.tensor(1.0, dtype=torch.float64)
iterations = 0
while abs(guess * guess - target) > 1e-12:
    guess = 0.5 * (guess + target / guess)
    iterations += 1
print(iterations, guess.item())

lo, hi = 0.0, 3.0
count = 0
while hi - lo > 1e-6:
    mid = (lo + hi) / 2
    if torch.tensor(mid).cos().item() > 0:
        lo = mid
    else:
        hi = mid
    count += 1
print(f"pi/2 ~ {lo:.6f} after {count} halvings")

kept = []
i = 0
while i < 10:
    i += 1
    if i % 3 == 0:
        continue
    kept.append(i)
else:
    print("loop ended without break")
print(kept)
sqrt_ten = guess
