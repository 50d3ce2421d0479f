# Reporting results as text: f-strings with format specs, str.format, %-formatting, and str methods
# (join, upper, ljust, replace, split, strip, startswith), plus assert on the results.
# ruff: noqa: UP031, UP032  (the tutorials' own style, kept on purpose)
import torch

torch.manual_seed(0)
losses = torch.rand(5).tolist()
epoch, total = 3, 10
acc = 0.87654
print(f"epoch {epoch:02d}/{total} acc={acc:.2%} loss={losses[0]:.4f}")
print(f"{'name':<10}|{'value':>10}|")
print(f"{'lr':<10}|{1e-3:>10.1e}|")
print(f"{1234567.891:,.2f} {255:x} {255:#o} {7:b} {3.14159:+.3f} {42:^8d}|")
print("epoch {} of {}: {:.3f}".format(epoch, total, losses[1]))
print("{0} {1} {0}".format("a", "b"))
print("{name} has {n:d} parameters".format(name="linear", n=12))
print("loss: %.4f, step: %d, tag: %s" % (losses[2], 7, "train"))
print("%5.1f%%" % (acc * 100))
print("%-6s|%6s|" % ("left", "right"))

t = torch.tensor([1.5, 2.5])
print(f"t = {t}")
print(f"{t.sum().item()=}")
print("shape: {}".format(tuple(t.shape)))
header = " | ".join(["step", "loss", "acc"])
print(header.upper())
print("-" * len(header))
row = "%d | %.3f | %.1f" % (1, losses[3], 50.0)
print(row.ljust(20, ".") + "|")
path = "runs/exp1/model.pth"
parts = path.split("/")
print(parts, path.replace(".pth", ".pt"), path.startswith("runs"), path.endswith(".pth"))
print("  padded  ".strip() + "!", "Tensor".lower(), "a,b,,c".split(","), "x".join("abc"))
summary = "best loss {:.4f} at step {}".format(min(losses), losses.index(min(losses)))
print(summary, len(summary))
assert summary.startswith("best"), summary
name_title = "autograd explorer".title()
print(name_title, name_title.count("o"), str(3.0), repr("q"), int("12") + float("0.5"))
