#!/usr/bin/env python3
"""Writes the synthetic benchmark dataset of issue 9: N two-channel uint16 2048x2048 images.

Each image is a fluorescence-like field: a smooth, slowly varying background plus a camera
offset, blob-like nuclei (channel 0, "DNA") with a softer, wider halo around each of them
(channel 1, "cytoplasm"), and Poisson shot noise on top, so that byte-shuffle + deflate
compresses the tiles about as much as it does real 16-bit microscopy (high bytes smooth, low
bytes noisy). Per image it also writes an instance mask (uint16 label TIFF, 0 = background).

Layout written under OUT (the recipe in this folder expects exactly this):

    OUT/images/img_0000.tif       2 x 2048 x 2048 uint16, one page, planar (channels first)
    OUT/masks/img_0000.tif        2048 x 2048 uint16 instance labels
    OUT/annotations.csv           IDR-style: Image Name, Phenotype, Sample ID
    OUT/samples.csv               sample table: Sample ID, Individual, Sex, Age, Tissue
    OUT/recipe.yaml               copy of Benchmarks/recipe.yaml (inputs.root: .)
    OUT/DATASET.json              seed, N, size and the generator's own SHA-256

Deterministic: the same --seed and --count give byte-identical files (one numpy Generator per
image, seeded from (seed, image index), so image k does not depend on N). TIFFs are
uncompressed, as many IDR submissions are, so "input MB/s" measures the pipeline, not libtiff's
inflate.

Usage: python3 generate_dataset.py OUT [--count 24] [--seed 9] [--size 2048]
"""

import argparse
import hashlib
import json
import os
import shutil
import sys

import numpy as np
import tifffile

PHENOTYPES = ["normal", "enlarged nuclei", "condensed nuclei", "sparse"]
# Per phenotype: nucleus radius range (px), nuclei count range, DNA brightness (photons).
PHENOTYPE_PARAMS = {
    "normal": ((9, 14), (1000, 1300), 900),
    "enlarged nuclei": ((14, 20), (550, 700), 700),
    "condensed nuclei": ((6, 9), (1800, 2200), 1600),
    "sparse": ((9, 14), (350, 450), 900),
}
SAMPLES = 8  # samples (wells/biopsies); images are assigned round-robin


def smooth_background(rng, size, level):
    """A slowly varying illumination field: a few long-wavelength cosines plus vignetting."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    field = np.ones((size, size), np.float32)
    for _ in range(3):
        fx, fy = rng.uniform(0.3, 1.5, 2)
        phase = rng.uniform(0, 2 * np.pi)
        field += np.float32(rng.uniform(0.05, 0.15)) * np.cos(2 * np.pi * (fx * x + fy * y) + phase)
    field *= 1 - 0.35 * ((x - 0.5) ** 2 + (y - 0.5) ** 2)
    return level * field


def draw_nuclei(rng, size, params):
    """Returns (dna, halo, labels): float32 photon maps and the uint16 instance mask."""
    (r_lo, r_hi), (n_lo, n_hi), brightness = params
    dna = np.zeros((size, size), np.float32)
    halo = np.zeros((size, size), np.float32)
    labels = np.zeros((size, size), np.uint16)
    count = int(rng.integers(n_lo, n_hi + 1))
    label = 0
    for _ in range(count):
        cx, cy = rng.uniform(0, size, 2)
        a = rng.uniform(r_lo, r_hi)
        b = a * rng.uniform(0.6, 1.0)
        theta = rng.uniform(0, np.pi)
        peak = brightness * rng.uniform(0.6, 1.4)
        reach = int(np.ceil(2.5 * a)) + 2  # the halo reaches 2.5 radii
        x0, x1 = max(0, int(cx) - reach), min(size, int(cx) + reach + 1)
        y0, y1 = max(0, int(cy) - reach), min(size, int(cy) + reach + 1)
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dx, dy = xx + 0.5 - cx, yy + 0.5 - cy
        c, s = np.cos(theta), np.sin(theta)
        u, v = (c * dx + s * dy) / a, (-s * dx + c * dy) / b
        r2 = u * u + v * v
        inside = r2 < 1
        if not inside.any():
            continue
        label += 1
        # Chromatin texture: a little per-pixel modulation inside the nucleus.
        texture = 1 + 0.25 * rng.standard_normal(r2.shape).astype(np.float32)
        body = np.where(inside, peak * np.sqrt(np.clip(1 - r2, 0, 1)) * texture, 0).astype(np.float32)
        np.maximum(dna[y0:y1, x0:x1], body, out=dna[y0:y1, x0:x1])
        halo[y0:y1, x0:x1] += 0.35 * peak * np.exp(-r2 / 2.5)
        labels[y0:y1, x0:x1][inside] = label
    return dna, halo, labels


def make_image(seed, index, size, phenotype):
    rng = np.random.default_rng([seed, index])
    params = PHENOTYPE_PARAMS[phenotype]
    dna, halo, labels = draw_nuclei(rng, size, params)
    channels = []
    for signal, level in ((dna, 180.0), (halo, 120.0)):
        photons = smooth_background(rng, size, level) + signal
        counts = rng.poisson(photons).astype(np.float64)
        # Camera: gain 2.5 ADU/photon, offset 100 ADU, 16-bit saturation.
        channels.append(np.clip(100 + 2.5 * counts, 0, 65535).astype(np.uint16))
    return np.stack(channels), labels


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--size", type=int, default=2048)
    args = parser.parse_args(argv)
    if args.count < 1 or args.size < 64:
        parser.error("--count must be >= 1 and --size >= 64")

    os.makedirs(os.path.join(args.out, "images"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "masks"), exist_ok=True)
    rows = []
    for index in range(args.count):
        name = f"img_{index:04d}.tif"
        # Phenotype and sample come from the index alone, so image k is the same for every N.
        phenotype = PHENOTYPES[(index * 7 + 3) % len(PHENOTYPES)]
        sample = f"S{index % SAMPLES + 1:02d}"
        image, labels = make_image(args.seed, index, args.size, phenotype)
        tifffile.imwrite(os.path.join(args.out, "images", name), image, photometric="minisblack",
                         planarconfig="separate", metadata=None)
        tifffile.imwrite(os.path.join(args.out, "masks", name), labels, photometric="minisblack", metadata=None)
        rows.append((name, phenotype, sample))
        print(f"\r{index + 1}/{args.count} images", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    with open(os.path.join(args.out, "annotations.csv"), "w", newline="") as f:
        f.write("Image Name,Phenotype,Sample ID\n")
        for name, phenotype, sample in rows:
            f.write(f"{name},{phenotype},{sample}\n")
    with open(os.path.join(args.out, "samples.csv"), "w", newline="") as f:
        f.write("Sample ID,Individual,Sex,Age,Tissue\n")
        for k in range(SAMPLES):
            f.write(f"S{k + 1:02d},P{k // 2 + 1:02d},{'F' if k % 3 else 'M'},{40 + 5 * k},"
                    f"{'breast' if k % 2 else 'colon'}\n")
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copyfile(os.path.join(here, "recipe.yaml"), os.path.join(args.out, "recipe.yaml"))
    with open(os.path.join(args.out, "DATASET.json"), "w") as f:
        json.dump({"generator": "Benchmarks/generate_dataset.py", "generator_sha256": sha256(os.path.abspath(__file__)),
                   "seed": args.seed, "count": args.count, "size": args.size, "channels": 2, "dtype": "uint16"},
                  f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
