#!/usr/bin/env python3
"""Makes the synthetic images of the idr0026 sample under the names its annotation table uses.

The real idr0026 intravital images live on the IDR server and cannot be fetched here, so this
script draws one small stand-in per table row: a 1-channel uint8 TIFF with cell-like blobs over
a smooth background, at images/<Dataset Name>/<Image Name>.tif. Each image is seeded from its
names, so re-running the script reproduces the committed files byte for byte.

Usage: python3 make_images.py   (writes data/images/... next to this script)
"""
import csv
import hashlib
import pathlib

import numpy as np
import tifffile

SIZE = 48


def draw(key: str) -> np.ndarray:
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little"))
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    image = 20 + 10 * np.sin(xx / 9.0) * np.cos(yy / 7.0)
    for _ in range(rng.integers(3, 8)):
        cy, cx, r = rng.uniform(0, SIZE), rng.uniform(0, SIZE), rng.uniform(2, 5)
        image += rng.uniform(60, 180) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    return rng.poisson(image).clip(0, 255).astype(np.uint8)


def main() -> None:
    here = pathlib.Path(__file__).resolve().parent / "data"
    with open(here / "idr0026-experimentA-annotation.csv", newline="") as f:
        for row in csv.DictReader(f):
            path = here / "images" / row["Dataset Name"] / (row["Image Name"] + ".tif")
            path.parent.mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(path, draw(row["Dataset Name"] + "/" + row["Image Name"]), compression="zlib", metadata=None)


if __name__ == "__main__":
    main()
