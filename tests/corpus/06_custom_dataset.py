# In the spirit of "Datasets & DataLoaders": a Dataset subclass with __init__/__len__/__getitem__,
# an optional transform, and a DataLoader that shuffles and batches it.
import torch
from torch.utils.data import DataLoader, Dataset

labels_map = {0: "T-Shirt", 1: "Trouser", 2: "Pullover", 3: "Dress"}


class SyntheticImageDataset(Dataset):
    def __init__(self, n, transform=None, target_transform=None):
        self.images = torch.rand(n, 6, 6)
        self.labels = torch.randint(0, len(labels_map), (n,))
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = self.images[idx]
        label = int(self.labels[idx])
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


def normalize(img):
    return (img - img.mean()) / (img.std() + 1e-6)


def one_hot(y):
    return torch.zeros(len(labels_map), dtype=torch.float).scatter_(0, torch.tensor(y), value=1)


training_data = SyntheticImageDataset(40, transform=normalize)
print(len(training_data))
img, label = training_data[3]
print(img.shape, label, labels_map[label])
print(f"{img.mean().item():.4f}")

train_dataloader = DataLoader(training_data, batch_size=8, shuffle=True)
train_features, train_labels = next(iter(train_dataloader))
print(f"Feature batch shape: {train_features.size()}")
print(f"Labels batch shape: {train_labels.size()}")
print(train_labels)
first_image = train_features[0].squeeze()
first_label = train_labels[0].item()
print(f"Label: {first_label} ({labels_map[first_label]})")

target_data = SyntheticImageDataset(10, target_transform=one_hot)
_, target = target_data[0]
print(target)
batches = 0
total = 0
for features, _ in train_dataloader:
    batches += 1
    total += features.shape[0]
print(batches, total)
