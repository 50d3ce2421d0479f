# Topic of the introductions in seeds 002/003: picking a device, moving tensors and models with .to(device),
# and coming back to the CPU with a dtype change.
import torch
from torch import nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print(device, device.type)
x = torch.randn(3, 3)
if torch.cuda.is_available():
    print("a GPU is here")
y = torch.ones_like(x, device=device)
x = x.to(device)
z = x + y
print(z.device.type == device.type)
back = z.to("cpu", torch.double)
print(back.dtype, back.device)

model = nn.Linear(3, 2).to(device)
out = model(z)
print(out.shape, next(model.parameters()).device.type)
on_cpu = out.detach().cpu()
print(on_cpu.is_leaf, on_cpu.requires_grad)
w = torch.zeros(2, device=device, requires_grad=True)
loss = (out.sum(dim=0) * w).sum() + w.pow(2).sum()
loss.backward()
print(w.grad)
half = x.to(dtype=torch.float16)
print(half.dtype, half.to(torch.float32).dtype)
