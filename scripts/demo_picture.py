"""Write docs/demo.png, the README's picture: `advzoo demo`'s GAN samples beside its real-CT
panels (quarter dose, pix2pix_lowdose_ct_clinical, full dose), from one run of the demo.

    python scripts/demo_picture.py
"""
import pathlib
import sys
import tempfile

import numpy as np
from PIL import Image

from advzoo_cli import main

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        if main(["demo", "--out", tmp, "--overwrite"]) != 0:
            sys.exit("advzoo demo failed")
        ct = Image.open(pathlib.Path(tmp) / "lowdose_ct.png").convert("L")
        samples = Image.open(pathlib.Path(tmp) / "samples.png").convert("L")
    side = ct.height
    samples = samples.resize((side, side), Image.NEAREST)
    gap = 12
    canvas = Image.new("L", (samples.width + gap + ct.width, side), color=255)
    canvas.paste(samples, (0, 0))
    canvas.paste(ct, (samples.width + gap, 0))
    DOCS.mkdir(exist_ok=True)
    canvas.save(DOCS / "demo.png", optimize=True)
    print(f"wrote {DOCS / 'demo.png'} {canvas.size}, {np.asarray(canvas).dtype}")
