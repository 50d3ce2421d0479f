# A classic blog example, shrunk: a small CNN (Conv2d, BatchNorm2d, ReLU, MaxPool2d, Dropout, Linear) on
# random 1x8x8 images with three classes, a few Adam steps, then predictions in eval mode.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class SmallCNN(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1, bias=False)
        self.dropout = nn.Dropout(p=0.25)
        self.fc = nn.Linear(8 * 2 * 2, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = self.dropout(x)
        return self.fc(x)


model = SmallCNN()
print(model)
images = torch.randn(16, 1, 8, 8)
labels = torch.randint(0, 3, (16,))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()

model.train()
for step in range(10):
    optimizer.zero_grad()
    logits = model(images)
    loss = criterion(logits, labels)
    loss.backward()
    optimizer.step()
    if step % 3 == 0:
        print(f"step {step} loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    eval_logits = model(images)
predicted = eval_logits.argmax(dim=1)
print("train accuracy:", (predicted == labels).float().mean().item())
print(model.bn1.running_mean, model.bn1.num_batches_tracked)
conv_out = model.conv1(images[:2])
print(conv_out.shape, model.conv2.weight.shape)
n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
print("trainable parameters:", n_params)
