# Topic of the introduction in seed 001: a linear model y = m x + c as an nn.Module around nn.Linear,
# trained with MSE and SGD with momentum, then used to predict new values.
# ruff: noqa: UP008, UP032  (the tutorials' own style, kept on purpose)
import torch


class LinearRegression(torch.nn.Module):
    def __init__(self, input_size, output_size):
        super(LinearRegression, self).__init__()
        self.linear = torch.nn.Linear(input_size, output_size)

    def forward(self, x):
        out = self.linear(x)
        return out


x_values = [i for i in range(11)]
x_train = torch.tensor(x_values, dtype=torch.float32).reshape(-1, 1)
y_values = [2 * i + 1 for i in x_values]
y_train = torch.tensor(y_values, dtype=torch.float32).reshape(-1, 1)

input_dim = 1
output_dim = 1
learning_rate = 0.01
epochs = 100

model = LinearRegression(input_dim, output_dim)
criterion = torch.nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9)

for epoch in range(epochs):
    optimizer.zero_grad()
    outputs = model(x_train)
    loss = criterion(outputs, y_train)
    loss.backward()
    optimizer.step()
    if (epoch + 1) % 20 == 0:
        print("epoch {}, loss {}".format(epoch + 1, loss.item()))

with torch.no_grad():
    predicted = model(x_train).data.numpy()
print(predicted[:3].round(3))
new_x = torch.Tensor([[4.0]])
pred_y = model(new_x)
print("predict (after training)", 4, pred_y.item())
slope = model.linear.weight.item()
intercept = model.linear.bias.item()
print(f"m = {slope:.3f}, c = {intercept:.3f}")
