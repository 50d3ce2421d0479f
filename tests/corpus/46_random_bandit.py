# The random and math modules next to torch: an epsilon-greedy multi-armed bandit (random.random,
# random.randrange, random.gauss), then a softmax policy trained by REINFORCE with a running baseline.
import math
import random

import torch

true_means = [0.2, 0.5, 1.1, 0.3]
n_arms = len(true_means)
estimates = [0.0] * n_arms
pulls = [0] * n_arms
epsilon = 0.1
reward_total = 0.0
for _ in range(300):
    if random.random() < epsilon:
        arm = random.randrange(n_arms)
    else:
        arm = max(range(n_arms), key=lambda a: estimates[a])
    reward = random.gauss(true_means[arm], 1.0)
    pulls[arm] += 1
    estimates[arm] += (reward - estimates[arm]) / pulls[arm]
    reward_total += reward
print("pulls:", pulls)
print("estimates:", [round(e, 3) for e in estimates])
print(f"average reward {reward_total / 300:.4f}")

preferences = torch.zeros(n_arms, requires_grad=True)
optimizer = torch.optim.SGD([preferences], lr=0.1)
baseline = 0.0
for _ in range(200):
    probs = torch.softmax(preferences, dim=0)
    arm = torch.multinomial(probs, 1).item()
    reward = random.uniform(-0.5, 0.5) + true_means[arm]
    baseline += 0.05 * (reward - baseline)
    loss = -(reward - baseline) * torch.log(probs[arm])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
policy = torch.softmax(preferences.detach(), dim=0)
print("policy:", policy)
best_arm = int(policy.argmax())
order = list(range(n_arms))
random.shuffle(order)
print(best_arm, order, random.choice(["a", "b", "c"]), random.randint(1, 6))
ucb = [estimates[a] + math.sqrt(2 * math.log(300) / pulls[a]) if pulls[a] else math.inf for a in range(n_arms)]
print([f"{u:.3f}" for u in ucb], math.exp(1.0), math.floor(2.7), math.isclose(math.cos(0.0), 1.0))
temperature = math.e
