# Topic of the introduction in seed 003 (an image classifier), on 8x8 synthetic "digits": each class is a
# noisy copy of its own random template. A small MLP with cross-entropy and SGD, with per-class accuracy.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)
n_classes = 10
templates = (torch.rand(n_classes, 8, 8) > 0.5).float()
labels = torch.arange(n_classes).repeat(30)
images = templates[labels] + 1.2 * torch.randn(len(labels), 8, 8)
perm = torch.randperm(len(labels))
images, labels = images[perm], labels[perm]
train_x, test_x = images[:240], images[240:]
train_y, test_y = labels[:240], labels[240:]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, n_classes)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


net = Net()
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.02, momentum=0.9)

for epoch in range(5):
    running_loss = 0.0
    for i in range(0, 240, 24):
        inputs, targets = train_x[i : i + 24], train_y[i : i + 24]
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    print(f"[{epoch + 1}] loss: {running_loss / 10:.3f}")

correct = 0
total = 0
with torch.no_grad():
    outputs = net(test_x)
    _, predicted = torch.max(outputs.data, 1)
    total += test_y.size(0)
    correct += (predicted == test_y).sum().item()
print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")
per_class = torch.zeros(n_classes)
for c in range(n_classes):
    mask = test_y == c
    per_class[c] = (predicted[mask] == c).float().mean() if mask.any() else 0.0
print(per_class)
