# In the spirit of "Save and Load the Model": save a trained model's state_dict and a tensor, load them
# into a fresh model, and check that the two models agree.
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
x = torch.randn(32, 4)
y = x.sum(dim=1, keepdim=True)
for _ in range(50):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
print(f"trained loss {loss.item():.6f}")

torch.save(model.state_dict(), "model_weights.pth")
torch.save(x, "inputs.pt")

model2 = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
before = (model2(x) - model(x)).abs().max().item()
result = model2.load_state_dict(torch.load("model_weights.pth", weights_only=True))
print(result)
model2.eval()
x_loaded = torch.load("inputs.pt", weights_only=True)
print(torch.equal(x_loaded, x))
after = (model2(x_loaded) - model(x)).abs().max().item()
print(before > 0, after)
for key, value in model2.state_dict().items():
    print(key, tuple(value.shape))
loaded_bias = model2[2].bias.detach().clone()
print(loaded_bias)
