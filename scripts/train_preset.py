"""Re-train pretrained presets from scratch and rewrite zoo_weights/NAME/.

    python scripts/train_preset.py gan_digits_dcgan
    python scripts/train_preset.py --all
"""
import argparse
import time

import advzoo
from advzoo.recipes import train_preset


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="preset names (see `advzoo list`)")
    parser.add_argument("--all", action="store_true", help="re-train every registered preset")
    parser.add_argument("--steps", type=int, help="override the recipe's step count (for trials)")
    parser.add_argument("--out", help="write here instead of zoo_weights/NAME (one preset only)")
    args = parser.parse_args()
    names = advzoo.list_presets() if args.all else args.names
    if not names:
        parser.error("name at least one preset, or --all")
    for name in names:
        advzoo.get_preset(name)  # fail on a typo before any training
    if args.out and len(names) != 1:
        parser.error("--out takes one preset")
    for name in names:
        start = time.perf_counter()
        folder = train_preset(name, out_dir=args.out, steps=args.steps, verbose=2)
        meta = advzoo.weights.read_metadata(folder)
        print(f"{name}: {time.perf_counter() - start:.0f} s -> {folder}")
        print("  metrics:", meta["metrics"])


if __name__ == "__main__":
    main()
