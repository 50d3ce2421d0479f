# In the spirit of "Build the Neural Network": a module with Flatten and a Sequential stack, its printed
# structure, predicted probabilities, a walk through layers one by one, and the named parameters.
import torch
from torch import nn


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(10 * 10, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.ReLU(),
            nn.Linear(32, 5),
        )

    def forward(self, x):
        x = self.flatten(x)
        return self.linear_relu_stack(x)


model = NeuralNetwork()
print(model)

X = torch.rand(1, 10, 10)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}")

input_image = torch.rand(3, 10, 10)
print(input_image.size())
flatten = nn.Flatten()
flat_image = flatten(input_image)
print(flat_image.size())
layer1 = nn.Linear(in_features=10 * 10, out_features=20)
hidden1 = layer1(flat_image)
print(hidden1.size())
print(f"Before ReLU: {hidden1[0, :4]}\n")
hidden1 = nn.ReLU()(hidden1)
print(f"After ReLU: {hidden1[0, :4]}")

seq_modules = nn.Sequential(flatten, layer1, nn.ReLU(), nn.Linear(20, 5))
logits2 = seq_modules(input_image)
softmax = nn.Softmax(dim=1)
pred_probab2 = softmax(logits2)
print(pred_probab2.sum(dim=1))

print(f"Model structure: {model}\n\n")
total = 0
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")
    total += param.numel()
print("parameters:", total)
