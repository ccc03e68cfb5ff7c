#!/usr/bin/env python3
"""Makes the synthetic images of the idr0035 sample under the file names its table uses.

The real idr0035 (BBBC021) images live on the IDR server and cannot be fetched here, so this
script draws stand-ins: one 3-channel uint16 TIFF per selected well (DNA, F-actin, B-tubulin as
planes), with nuclei-like blobs over a smooth background and Poisson-like noise. Each image is
seeded from its plate and well, so re-running the script reproduces the committed files.

Usage: python3 make_images.py   (writes data/images/<Plate>/<Well>.tif next to this script)
"""
import hashlib
import pathlib

import numpy as np
import tifffile

WELLS = [
    ("Week1_22123", "B3"), ("Week1_22123", "B4"), ("Week1_22141", "B3"),      # Actin disruptors
    ("Week1_22123", "B11"), ("Week1_22123", "C11"), ("Week1_22123", "D3"),    # Microtubule stabilizers
    ("Week3_25421", "F4"), ("Week3_25421", "F5"), ("Week3_25441", "F4"),      # DNA damage
    ("Week10_40111", "C5"), ("Week10_40111", "C6"), ("Week10_40111", "C7"),   # Eg5 inhibitors
]
HEIGHT, WIDTH = 160, 200


def draw(plate: str, well: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(f"{plate}/{well}".encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    planes = []
    for channel in range(3):
        background = 300 + 80 * np.sin(xx / 57.0 + channel) * np.cos(yy / 43.0)
        signal = np.zeros_like(background)
        for _ in range(rng.integers(8, 16)):
            cy, cx = rng.uniform(0, HEIGHT), rng.uniform(0, WIDTH)
            radius = rng.uniform(5, 12) * (1.6 if channel else 1.0)
            signal += rng.uniform(800, 2500) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2))
        planes.append(rng.poisson(background + signal).clip(0, 4095))
    return np.stack(planes).astype(np.uint16)


def main() -> None:
    root = pathlib.Path(__file__).resolve().parent / "data" / "images"
    for plate, well in WELLS:
        path = root / plate / f"{well}.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, draw(plate, well), photometric="minisblack", planarconfig="separate",
                         compression="zlib", metadata=None)
        print(path.relative_to(root.parent.parent))


if __name__ == "__main__":
    main()
