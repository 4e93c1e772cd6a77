"""Build a tiny random ColPali-family checkpoint offline: ``python scripts/make_tiny_model.py FAMILY OUT_DIR``.

The folder loads with ``ColEmbedder.from_pretrained(OUT_DIR)``; its vectors are random (for trying the
pipeline, examples and tests where no model hub is reachable), never for real retrieval.
"""

from __future__ import annotations

import argparse
import sys

from llama_index_colret.testing.tiny_models import FAMILIES, build_tiny_model


def main(argv: list[str] | None = None) -> int:
    """Parse ``FAMILY OUT_DIR``, build the model and print where it went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("family", choices=FAMILIES, help="model family")
    parser.add_argument("out_dir", help="folder to write the checkpoint into (created if missing)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the weights (default 0)")
    args = parser.parse_args(argv)
    out = build_tiny_model(args.family, args.out_dir, seed=args.seed)
    print(f"tiny {args.family} model written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
