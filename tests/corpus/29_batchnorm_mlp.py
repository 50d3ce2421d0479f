# A classic blog example: an MLP with BatchNorm1d and Dropout, whose output differs between train() and
# eval() mode (batch statistics vs running statistics, dropout on vs off).
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(
    nn.Linear(5, 16),
    nn.BatchNorm1d(16, momentum=0.1),
    nn.ReLU(),
    nn.Dropout(0.2),
    nn.Linear(16, 1),
)
X = torch.randn(64, 5) * 3 + 1
y = (X[:, :2].sum(dim=1, keepdim=True) > 2).float()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
loss_fn = nn.BCEWithLogitsLoss()

for epoch in range(40):
    model.train()
    for i in range(0, 64, 16):
        xb, yb = X[i : i + 16], y[i : i + 16]
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
    if epoch % 10 == 0:
        print(f"epoch {epoch}: last batch loss {loss.item():.4f}")

bn = model[1]
print(bn.running_mean[:4])
print(bn.running_var[:4])
print(bn.training, model.training)
model.eval()
print(bn.training, model.training)
with torch.no_grad():
    eval_out = model(X[:4])
    eval_again = model(X[:4])
print(torch.equal(eval_out, eval_again))
model.train()
with torch.no_grad():
    train_out = model(X[:4])
print(torch.equal(eval_out, train_out))
accuracy = ((model.eval()(X) > 0).float() == y).float().mean().item()
print(f"accuracy {accuracy:.3f}")
