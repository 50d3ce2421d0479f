# Custom autograd Functions beyond LegendrePolynomial3: a ReLU with saved input, a multiply-by-constant that
# keeps a Python number on ctx and returns None for it, a two-output Function, and gradcheck on each.
import torch


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class MulConstant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


class SinCos(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, grad_sin, grad_cos):
        (x,) = ctx.saved_tensors
        return grad_sin * x.cos() - grad_cos * x.sin()


x = torch.tensor([-1.5, -0.2, 0.0, 0.7, 2.0], requires_grad=True)
r = MyReLU.apply(x)
m = MulConstant.apply(r, 3.0)
s, c = SinCos.apply(m)
total = (s + 2 * c).sum()
total.backward()
print(r, m)
print(x.grad)
print(r.grad_fn.name(), m.grad_fn.name(), s.grad_fn.name())

xd = torch.tensor([0.3, -0.8, 1.2], dtype=torch.double, requires_grad=True)
ok_relu = torch.autograd.gradcheck(MyReLU.apply, (xd,))
ok_mul = torch.autograd.gradcheck(lambda t: MulConstant.apply(t, -2.5), (xd,))
ok_sincos = torch.autograd.gradcheck(SinCos.apply, (xd,))
print(ok_relu, ok_mul, ok_sincos)
