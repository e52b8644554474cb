"""Regenerate the README's family, preset and benchmark tables from the registry and results."""
import pathlib

from advzoo.readme import update_readme

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"

if __name__ == "__main__":
    print("README.md updated" if update_readme(README) else "README.md already current")
