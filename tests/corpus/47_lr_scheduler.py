# A common training-script pattern: Adam with weight decay and a StepLR learning-rate schedule, the current
# rate read from the optimizer's param_groups, and the best weights kept as cloned tensors of the state_dict.
import torch
import torch.nn as nn

torch.manual_seed(0)
X = torch.randn(128, 4)
true_w = torch.tensor([[2.0], [-1.0], [0.0], [0.5]])
y = X @ true_w + 0.1 * torch.randn(128, 1)

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
criterion = nn.MSELoss()

best_loss = float("inf")
best_state = None
history = []
for epoch in range(40):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    history.append(loss.item())
    if loss.item() < best_loss:
        best_loss = loss.item()
        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if epoch % 10 == 9:
        lr_now = optimizer.param_groups[0]["lr"]
        print(f"epoch {epoch + 1:2d} loss {loss.item():.5f} lr {lr_now:.5f} {scheduler.get_last_lr()}")

model.load_state_dict(best_state)
model.eval()
with torch.no_grad():
    final = criterion(model(X), y).item()
print(f"best {best_loss:.6f} reloaded {final:.6f}")
print(len(history), history.index(min(history)))
first_weight = model[0].weight
