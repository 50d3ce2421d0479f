"""Trainer steps/s against a bare PyTorch loop (same model, batches, optimizer), and the UI chunking overhead."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.limits import MAX_CHUNK_SECONDS, TRAIN_THREADS  # noqa: E402
from core.training.trainer import Trainer, build_model, create  # noqa: E402

PAGE_CHUNK = 25  # the page's default steps per frame


def _trainer(preset: str, steps: int) -> Trainer:
    trainer, notes = create(preset, {"steps": steps})
    assert trainer is not None, notes
    return trainer


def bare_loop(trainer: Trainer, steps: int) -> float:
    """Seconds for `steps` steps of the textbook loop on the trainer's model, data, batches and optimizer."""
    model = build_model(trainer.preset, trainer.values, trainer.data)
    opt = trainer._make_optimizer(model.parameters())
    loss_fn = torch.nn.functional.mse_loss if trainer.data.task == "regression" else torch.nn.functional.cross_entropy
    if trainer.full_batch:
        x, y = trainer.data.train.batch(torch.arange(len(trainer.data.train)))
        batches = None
    else:
        loader = trainer._loader  # the same DataLoader (dataset, batch size, seeded sampler)
    torch.set_num_threads(TRAIN_THREADS)  # the trainer's setting, so both sides run on the same threads
    start = time.perf_counter()
    done, epoch = 0, 0
    while done < steps:
        if not trainer.full_batch:
            trainer._sampler.set_epoch(epoch)
            batches = iter(loader)
        for batch in batches or [(x, y)]:
            bx, by = batch[0], batch[1]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(bx), by)
            loss.backward()
            opt.step()
            done += 1
            if done == steps:
                break
        epoch += 1
    return time.perf_counter() - start


def trainer_run(preset: str, steps: int, chunk: int | None) -> float:
    """Seconds for a Trainer to do `steps` steps in one advance, or in page-sized chunks."""
    trainer = _trainer(preset, steps)
    start = time.perf_counter()
    if chunk is None:
        trainer.advance(steps)
    else:
        while not trainer.finished:
            trainer.advance(chunk, MAX_CHUNK_SECONDS)
    elapsed = time.perf_counter() - start
    assert trainer.step == steps and trainer.divergence is None
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs per side")
    args = parser.parse_args()
    cases = [("digits", 450), ("spiral", 600), ("linear", 2000)]
    print(f"torch {torch.__version__}, {TRAIN_THREADS} intra-op thread(s); best of {args.repeats} runs each")
    print(
        f"{'preset':<8} {'steps':>6} {'bare st/s':>10} {'trainer st/s':>13} {'ratio':>6} "
        f"{'chunked st/s':>13} {'chunk ratio':>12}"
    )
    for preset, steps in cases:
        probe = _trainer(preset, steps)
        bare = long = chunked = float("inf")
        for _ in range(args.repeats):  # interleaved, so a busy moment of the machine hits every side
            bare = min(bare, bare_loop(probe, steps))
            long = min(long, trainer_run(preset, steps, None))
            chunked = min(chunked, trainer_run(preset, steps, PAGE_CHUNK))
        print(
            f"{preset:<8} {steps:>6} {steps / bare:>10.0f} {steps / long:>13.0f} {bare / long:>6.2f} "
            f"{steps / chunked:>13.0f} {long / chunked:>12.2f}"
        )
    print(
        "ratio = trainer / bare steps per second (goal >= 0.8); the trainer also evaluates (per epoch or every "
        "eval_every steps), records per-layer norms and keeps replay snapshots."
    )
    print(
        f"chunk ratio = advance({PAGE_CHUNK}) chunks / one long advance, steps per second (the page's UI cost "
        "without rendering)."
    )


if __name__ == "__main__":
    main()
