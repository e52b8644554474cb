"""Regenerate what is written from the registry and the benchmark results: the README's tables,
docs/benchmarks.md and advzoo/catalog.json (the names and summaries `advzoo list` prints)."""
import pathlib

from advzoo import zoo
from advzoo.readme import update_readme

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"

if __name__ == "__main__":
    print("README.md or docs/benchmarks.md updated" if update_readme(README)
          else "README.md and docs/benchmarks.md already current")
    text = zoo.catalog_text()
    if not zoo.CATALOG_PATH.exists() or zoo.CATALOG_PATH.read_text() != text:
        zoo.CATALOG_PATH.write_text(text)
        print(f"{zoo.CATALOG_PATH.name} updated")
