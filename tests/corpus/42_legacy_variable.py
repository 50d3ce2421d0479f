# Older tutorials' style: torch.autograd.Variable, torch.Tensor(...) and torch.FloatTensor constructors,
# setting requires_grad afterwards, updating through .data, and Tensor.type(...) casts.
import torch
from torch.autograd import Variable

x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[2.0], [4.0], [6.0]])
x = Variable(x_data)
y = Variable(y_data, requires_grad=False)
w = Variable(torch.Tensor([1.0]), requires_grad=True)
print(isinstance(x, torch.Tensor), w.requires_grad)

for epoch in range(10):
    y_pred = x * w
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    w.data = w.data - 0.01 * w.grad.data
    w.grad.data.zero_()
    if epoch % 3 == 0:
        print(epoch, loss.data.item(), w.data)

b = torch.zeros(1)
b.requires_grad = True
out = (x_data * w + b).sum()
out.backward()
print(b.grad, b.is_leaf)
empty_like_shape = torch.Tensor(2, 3).shape
print(empty_like_shape)
ints = torch.Tensor([1.7, -2.2, 3.9]).type(torch.IntTensor)
longs = torch.tensor([1, 2, 3]).type(torch.LongTensor)
doubles = ints.type(torch.float64)
print(ints, longs.dtype, doubles.dtype, ints.type())
floats = torch.FloatTensor([0.5, 1.5])
print(floats.dtype, floats.type(), doubles.type("torch.FloatTensor").dtype)
detached_value = w.data.clone()
print(detached_value.requires_grad, w.data.requires_grad)
