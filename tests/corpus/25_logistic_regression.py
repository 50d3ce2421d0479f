# A classic blog example: logistic regression on two Gaussian blobs, as an nn.Module with a sigmoid output,
# trained with BCELoss and SGD; accuracy and the learned decision boundary at the end.
# ruff: noqa: UP032  (the tutorials' own style, kept on purpose)
import torch
import torch.nn as nn

torch.manual_seed(0)
n = 100
class0 = torch.randn(n, 2) + torch.tensor([-2.0, -2.0])
class1 = torch.randn(n, 2) + torch.tensor([2.0, 2.0])
X = torch.cat([class0, class1])
y = torch.cat([torch.zeros(n), torch.ones(n)]).unsqueeze(1)


class LogisticRegression(nn.Module):
    def __init__(self, n_inputs):
        super().__init__()
        self.linear = nn.Linear(n_inputs, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


model = LogisticRegression(2)
criterion = nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(100):
    y_hat = model(X)
    loss = criterion(y_hat, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if (epoch + 1) % 25 == 0:
        print(f"epoch: {epoch + 1}, loss = {loss.item():.4f}")

with torch.no_grad():
    predictions = model(X).round()
    accuracy = predictions.eq(y).sum().item() / float(y.shape[0])
print(f"accuracy = {accuracy:.4f}")
w = model.linear.weight.detach()
b = model.linear.bias.detach()
print("boundary: {:.3f} * x1 + {:.3f} * x2 + {:.3f} = 0".format(w[0, 0].item(), w[0, 1].item(), b.item()))
probabilities = model(torch.tensor([[0.0, 0.0], [3.0, 3.0], [-3.0, -3.0]]))
print(probabilities)
