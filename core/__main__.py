"""The command line: `python -m core run | train | presets` (contract in DESIGN.md)."""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core", description="Autograd Explorer from the command line.")
    sub = p.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run a program in the sandbox and print its results")
    src = run.add_mutually_exclusive_group(required=True)
    src.add_argument("file", nargs="?", help="program file ('-' for stdin)")
    src.add_argument("-e", dest="source", help="program text")
    run.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    run.add_argument("--format", default="json", choices=["json", "dot", "svg", "text"])
    train = sub.add_parser("train", help="train a preset model and print its results")
    train.add_argument("--preset", required=True)
    train.add_argument("--steps", type=int, default=None)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--format", default="json", choices=["json", "text"])
    sub.add_parser("presets", help="list the training presets")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "run":
        from core.cli_run import run_command

        return run_command(args)
    if args.cmd == "train":
        from core.training.cli import train_command

        return train_command(preset=args.preset, steps=args.steps, seed=args.seed, fmt=args.format)
    from core.training.cli import presets_command

    return presets_command()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `python -m core run ... | head`: the reader left; not an error of ours
        sys.stderr.close()
        sys.exit(0)
