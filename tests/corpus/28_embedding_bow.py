# A classic blog example: a bag-of-words sentiment classifier over nn.Embedding (mean of word vectors),
# with a vocabulary built by a dict comprehension.
import torch
import torch.nn as nn

torch.manual_seed(0)
data = [
    ("the movie was great and fun", 1),
    ("what a wonderful happy film", 1),
    ("i loved the great acting", 1),
    ("the plot was boring and bad", 0),
    ("a terrible sad waste of time", 0),
    ("i hated the bad acting", 0),
]
words = sorted({w for sentence, _ in data for w in sentence.split()})
word_to_ix = {w: i for i, w in enumerate(words)}
print(len(word_to_ix), word_to_ix["great"])


class BoWClassifier(nn.Module):
    def __init__(self, vocab_size, embedding_dim, num_labels):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.linear = nn.Linear(embedding_dim, num_labels)

    def forward(self, ids):
        embeds = self.embedding(ids)
        return self.linear(embeds.mean(dim=0, keepdim=True))


def encode(sentence):
    return torch.tensor([word_to_ix[w] for w in sentence.split() if w in word_to_ix], dtype=torch.long)


model = BoWClassifier(len(word_to_ix), 6, 2)
loss_function = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)

for epoch in range(30):
    total_loss = 0.0
    for sentence, label in data:
        model.zero_grad()
        log_probs = model(encode(sentence))
        loss = loss_function(log_probs, torch.tensor([label]))
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
    if epoch % 10 == 9:
        print(f"epoch {epoch + 1}: {total_loss:.4f}")

with torch.no_grad():
    for sentence in ["great fun film", "boring bad time"]:
        scores = model(encode(sentence))
        print(sentence, "->", scores.argmax(dim=1).item())
great_vector = model.embedding(torch.tensor([word_to_ix["great"]]))
embedding_weight = model.embedding.weight
print(embedding_weight.shape, great_vector.shape)
