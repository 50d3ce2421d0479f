# F.conv2d with hand-made kernels: edge detectors on a small synthetic image (a bright square), stride and
# padding, and the gradient of the response with respect to the kernel.
import torch
import torch.nn.functional as F

image = torch.zeros(1, 1, 8, 8)
image[:, :, 2:6, 2:6] = 1.0
sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
sobel_y = sobel_x.t()
kernels = torch.stack([sobel_x, sobel_y]).unsqueeze(1)
print(kernels.shape)

edges = F.conv2d(image, kernels, padding=1)
print(edges.shape)
print(edges[0, 0])
magnitude = edges.pow(2).sum(dim=1).sqrt()
print(magnitude.max().item(), (magnitude > 0).sum().item())

strided = F.conv2d(image, kernels, stride=2)
print(strided.shape)
pooled = F.max_pool2d(magnitude.unsqueeze(1), kernel_size=2)
print(pooled.squeeze())
avg = F.avg_pool2d(image, 2)
print(avg.squeeze())

kernel = torch.randn(1, 1, 3, 3, requires_grad=True)
bias = torch.zeros(1, requires_grad=True)
response = F.conv2d(image, kernel, bias=bias, padding=1)
score = F.relu(response).mean()
score.backward()
print(kernel.grad.squeeze())
print(bias.grad)
padded = F.pad(image, (1, 1, 1, 1))
print(padded.shape)
