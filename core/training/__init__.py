"""Training studio core: presets, datasets, models, a chunked Trainer with replay, weights I/O, the CLI."""
