#!/usr/bin/env python3
"""The issue-9 peer: the export job written the way a fast, idiomatic Python user would.

tifffile + OpenCV + h5py, a pool of worker processes. Workers read each input file once (hashing
the bytes as they go, for the manifest), decode it, cut the 256x256 / stride 224 tile grid
(`reflect` past the edges, numpy's reflect = OpenCV's BORDER_REFLECT_101), augment, byte-shuffle
and zlib-compress every chunk themselves; the parent only writes the finished chunks with
`write_direct_chunk`, so HDF5 never runs a filter. The file is a normal shuffle+deflate HDF5 file
that any reader decodes.

Augmentation (default): per source tile `--variants` (4) variants, each drawn from its own
seeded generator (seed, image, tile, variant), so results do not depend on the worker count:
  horizontal flip (p = 0.5) -> rot90 (k uniform in 0..3) -> affine (rotation uniform ±30°, scale
  uniform 0.8–1.2, about the tile centre) -> Gaussian blur σ = 1 -> gamma 0.8.
The three geometric steps are composed into one inverse map and applied with one `warpAffine`
on the *source image* (bilinear for the image, nearest for the mask, BORDER_REFLECT_101 outside
the image), as trainset's augmentation spec does (specs/augmentation/v1.md §4). Blur is OpenCV's
(kernel 9 for σ = 1 on 16-bit, mirrored border); gamma is a 65536-entry lookup table.

`--no-augment`: exactly what the trainset recipe (Benchmarks/recipe.yaml) does today: the tiles
themselves, no variants. Use it to compare like for like.

Output layout (close to the trainset bundle's): /images [N,2,256,256] uint16, /masks/instance
[N,256,256] uint32, one chunk per tile, shuffle + deflate level 1; /tiles/{source,x,y,variant,label};
/sources/name; /classes/name; /manifest (JSON: every input with its SHA-256, job parameters).
trainset additionally stores Fletcher-32 per chunk and a content hash; the peer does not.

Prints one JSON line of statistics on stdout, including the sum of every process's peak RSS
(`/usr/bin/time` only sees the largest single process).

Usage: python3 peer_export.py DATA_DIR OUT.h5 [--no-augment] [--workers 2] [--variants 4]
"""

import argparse
import csv
import hashlib
import io
import json
import multiprocessing as mp
import os
import resource
import sys
import time
import zlib

import cv2
import h5py
import numpy as np
import tifffile

TILE, STRIDE = 256, 224
CLASSES = ["normal", "enlarged nuclei", "condensed nuclei", "sparse"]

# Per-worker settings, set once by the pool initializer.
_job = {}


def grid_origins(extent):
    """Tile origins 0, s, 2s, … up to the first tile that reaches the edge (recipe spec §7)."""
    origins, x = [], 0
    while True:
        origins.append(x)
        if x + TILE >= extent:
            return origins
        x += STRIDE


def shuffled_deflate(array, level):
    """HDF5's shuffle filter (byte k of every element together) followed by zlib, for one chunk."""
    a = np.ascontiguousarray(array)
    planes = a.view(np.uint8).reshape(-1, a.dtype.itemsize).T
    return zlib.compress(np.ascontiguousarray(planes), level)


def read_hashed(path):
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha256(data).hexdigest(), len(data), tifffile.imread(io.BytesIO(data))


def inverse_map(rng, x0, y0):
    """The 2x3 matrix taking output tile pixels to source-image pixels for one drawn variant."""
    n = TILE - 1
    hflip = rng.random() < 0.5
    k = int(rng.integers(4))
    angle = rng.uniform(-30.0, 30.0)
    scale = rng.uniform(0.8, 1.2)
    forward_affine = np.vstack([cv2.getRotationMatrix2D((n / 2, n / 2), angle, scale), [0, 0, 1]])
    inverse = np.linalg.inv(forward_affine)
    rot_inv = np.array([[0.0, -1.0, n], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # numpy rot90, k = 1
    for _ in range(k):
        inverse = rot_inv @ inverse
    if hflip:
        inverse = np.array([[-1.0, 0.0, n], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) @ inverse
    inverse = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0], [0.0, 0.0, 1.0]]) @ inverse
    return inverse[:2], {"hflip": bool(hflip), "rot90": k, "angle": angle, "scale": scale}


def init_worker(level, augment, variants, seed):
    cv2.setNumThreads(1)  # one process per core already
    _job.update(level=level, augment=augment, variants=variants, seed=seed,
                gamma=np.round(65535.0 * (np.arange(65536) / 65535.0) ** 0.8).astype(np.uint16))


def process_image(task):
    index, image_path, mask_path = task
    image_sha, image_bytes, image = read_hashed(image_path)   # (2, H, W) uint16
    mask_sha, mask_bytes, mask = read_hashed(mask_path)       # (H, W) uint16
    level = _job["level"]
    h, w = mask.shape
    xs, ys = grid_origins(w), grid_origins(h)
    chunks, tiles = [], []
    if not _job["augment"]:
        pad_x, pad_y = xs[-1] + TILE - w, ys[-1] + TILE - h
        if pad_x > 0 or pad_y > 0:
            image = np.pad(image, ((0, 0), (0, pad_y), (0, pad_x)), mode="reflect")
            mask = np.pad(mask, ((0, pad_y), (0, pad_x)), mode="reflect")
        for y in ys:
            for x in xs:
                chunks.append((shuffled_deflate(image[:, y:y + TILE, x:x + TILE], level),
                               shuffled_deflate(mask[y:y + TILE, x:x + TILE].astype(np.uint32), level)))
                tiles.append((x, y, 0))
    else:
        hwc = cv2.merge([image[0], image[1]])  # OpenCV wants channels last
        gamma = _job["gamma"]
        t = 0
        for y in ys:
            for x in xs:
                for v in range(_job["variants"]):
                    rng = np.random.default_rng([_job["seed"], index, t, v])
                    m, _ = inverse_map(rng, x, y)
                    img = cv2.warpAffine(hwc, m, (TILE, TILE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                         borderMode=cv2.BORDER_REFLECT_101)
                    msk = cv2.warpAffine(mask, m, (TILE, TILE), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                                         borderMode=cv2.BORDER_REFLECT_101)
                    img = cv2.GaussianBlur(img, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT_101)
                    img = gamma[img]
                    chunks.append((shuffled_deflate(img.transpose(2, 0, 1), level),
                                   shuffled_deflate(msk.astype(np.uint32), level)))
                    tiles.append((x, y, v))
                t += 1
    inputs = [(image_path, image_sha, image_bytes), (mask_path, mask_sha, mask_bytes)]
    return index, inputs, tiles, chunks, os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest(), os.path.getsize(path)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data")
    p.add_argument("output")
    p.add_argument("--no-augment", action="store_true", help="tiles only, as the trainset recipe today")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--variants", type=int, default=4)
    p.add_argument("--level", type=int, default=1, help="zlib level")
    p.add_argument("--seed", type=int, default=9)
    args = p.parse_args(argv)
    start = time.monotonic()

    with open(os.path.join(args.data, "annotations.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    tasks = [(i, os.path.join(args.data, "images", r["Image Name"]), os.path.join(args.data, "masks", r["Image Name"]))
             for i, r in enumerate(rows)]
    # Every image is 2048x2048 here, but plan from the headers rather than assume.
    shapes = []
    for _, image_path, _ in tasks:
        with tifffile.TiffFile(image_path) as tif:
            shapes.append(tif.series[0].shape)
    channels = shapes[0][0]
    per_source = [len(grid_origins(s[2])) * len(grid_origins(s[1])) for s in shapes]
    variants = 1 if args.no_augment else args.variants
    total = sum(per_source) * variants

    tables = {k: np.zeros(total, np.int32) for k in ("source", "x", "y", "variant", "label")}
    manifest_inputs = []
    rss = {}
    with h5py.File(args.output, "w") as out:
        images = out.create_dataset("images", (total, channels, TILE, TILE), np.uint16,
                                    chunks=(1, channels, TILE, TILE), compression="gzip",
                                    compression_opts=args.level, shuffle=True)
        masks = out.create_dataset("masks/instance", (total, TILE, TILE), np.uint32, chunks=(1, TILE, TILE),
                                   compression="gzip", compression_opts=args.level, shuffle=True)
        pool = mp.get_context("fork").Pool(args.workers, init_worker,
                                           (args.level, not args.no_augment, variants, args.seed))
        n = 0
        for index, inputs, tiles, chunks, pid, maxrss in pool.imap(process_image, tasks):
            label = CLASSES.index(rows[index]["Phenotype"])
            for (x, y, v), (image_chunk, mask_chunk) in zip(tiles, chunks):
                images.id.write_direct_chunk((n, 0, 0, 0), image_chunk)
                masks.id.write_direct_chunk((n, 0, 0), mask_chunk)
                for key, value in (("source", index), ("x", x), ("y", y), ("variant", v), ("label", label)):
                    tables[key][n] = value
                n += 1
            manifest_inputs += [{"path": os.path.relpath(path, args.data), "sha256": sha, "bytes": size}
                                for path, sha, size in inputs]
            rss[pid] = max(rss.get(pid, 0), maxrss)
        pool.close()
        pool.join()
        assert n == total, (n, total)
        for key, values in tables.items():
            out.create_dataset(f"tiles/{key}", data=values, compression="gzip", compression_opts=args.level)
        out.create_dataset("sources/name", data=[r["Image Name"] for r in rows], dtype=h5py.string_dtype())
        out.create_dataset("classes/name", data=CLASSES, dtype=h5py.string_dtype())
        for name in ("annotations.csv", "samples.csv"):
            sha, size = sha256_file(os.path.join(args.data, name))
            manifest_inputs.append({"path": name, "sha256": sha, "bytes": size})
        manifest_inputs.sort(key=lambda e: e["path"])
        manifest = {"job": {"tile": TILE, "stride": STRIDE, "edge": "reflect", "deflate_level": args.level,
                            "shuffle": True, "augment": not args.no_augment, "variants": variants, "seed": args.seed},
                    "inputs": manifest_inputs}
        out.create_dataset("manifest", data=json.dumps(manifest, sort_keys=True), dtype=h5py.string_dtype())

    parent_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"tiles": total, "seconds": round(time.monotonic() - start, 3), "workers": args.workers,
                      "parent_peak_rss_mb": round(parent_rss / 1024, 1),
                      "sum_peak_rss_mb": round((parent_rss + sum(rss.values())) / 1024, 1)}))


if __name__ == "__main__":
    main(sys.argv[1:])
