# A classic blog example: a two-layer perceptron learns XOR, which no single linear layer can.
# ruff: noqa: UP008, UP030, UP032  (the tutorials' own style, kept on purpose)
import torch
import torch.nn as nn

torch.manual_seed(2)
X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])


class XOR(nn.Module):
    def __init__(self, input_dim=2, output_dim=1):
        super(XOR, self).__init__()
        self.lin1 = nn.Linear(input_dim, 4)
        self.lin2 = nn.Linear(4, output_dim)

    def forward(self, x):
        x = self.lin1(x)
        x = torch.tanh(x)
        x = self.lin2(x)
        return x


model = XOR()
loss_func = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)

epochs = 400
for i in range(epochs):
    optimizer.zero_grad()
    y_hat = model(X)
    loss = loss_func(y_hat, Y)
    loss.backward()
    optimizer.step()
    if i % 100 == 0:
        print("Epoch: {0}, Loss: {1:.5f}".format(i, loss.item()))

with torch.no_grad():
    out = torch.sigmoid(model(X))
for inp, p in zip(X.tolist(), out.squeeze(1).tolist()):
    print(f"{inp} -> {p:.3f} -> {int(p > 0.5)}")
solved = all(int(p > 0.5) == int(t) for p, t in zip(out.squeeze(1).tolist(), Y.squeeze(1).tolist()))
print("solved:", solved)
hidden_weights = model.lin1.weight
