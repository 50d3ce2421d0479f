"""Fingerprints of the seed articles: a truncated hash of every 15-character window, never the text itself.

The lessons test checks that no Chinese lesson text copies 15 characters of a seed article. The articles stay
outside the repository; what the test reads is `tests/data/seed_windows.bin`, which this script writes:

    python tools/seed_windows.py /path/to/seeds [-o tests/data/seed_windows.bin]

File format: the 8-byte magic `AESW1\\0\\0\\0`, then the sorted, distinct 8-byte BLAKE2b digests (person
`ae-seeds`) of the UTF-8 bytes of every 15-character window of every `*.txt` file in the folder (windows do
not span two files). No text, no order of windows, no file names are stored.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Iterable
from pathlib import Path

WINDOW = 15  # characters: the length of a copied run the lessons test refuses
DIGEST_BYTES = 8  # 64-bit digests: a chance match among ~25,000 windows is ~1e-15 per window checked
MAGIC = b"AESW1\x00\x00\x00"
PERSON = b"ae-seeds"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "seed_windows.bin"


def digest(window: str) -> bytes:
    """The stored fingerprint of one window."""
    return hashlib.blake2b(window.encode("utf-8"), digest_size=DIGEST_BYTES, person=PERSON).digest()


def windows(text: str) -> list[str]:
    """Every WINDOW-character run of `text`, in order (none when it is shorter)."""
    return [text[i : i + WINDOW] for i in range(len(text) - WINDOW + 1)]


def encode(texts: Iterable[str]) -> bytes:
    """The fixture's bytes for these articles."""
    digests = sorted({digest(w) for text in texts for w in windows(text)})
    return MAGIC + b"".join(digests)


def decode(data: bytes) -> frozenset[bytes]:
    """The digests in a fixture written by `encode`."""
    if data[: len(MAGIC)] != MAGIC or (len(data) - len(MAGIC)) % DIGEST_BYTES:
        raise ValueError("not a seed-window fingerprint file")
    body = data[len(MAGIC) :]
    return frozenset(body[i : i + DIGEST_BYTES] for i in range(0, len(body), DIGEST_BYTES))


def load(path: Path = DEFAULT_OUT) -> frozenset[bytes]:
    return decode(path.read_bytes())


def copied(text: str, digests: frozenset[bytes]) -> list[str]:
    """The windows of `text` whose fingerprint is in `digests` (the runs it shares with a seed)."""
    return [w for w in windows(text) if digest(w) in digests]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds", type=Path, help="folder holding the seed articles (*.txt)")
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    files = sorted(args.seeds.glob("*.txt"))
    if not files:
        parser.error(f"no *.txt in {args.seeds}")
    data = encode(p.read_text(encoding="utf-8") for p in files)
    args.out.write_bytes(data)
    print(f"{args.out}: {(len(data) - len(MAGIC)) // DIGEST_BYTES} windows from {len(files)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
