#!/usr/bin/env python3
"""End-to-end check of `trainset verify` on a sample bundle, with tifffile/Pillow/h5py.

1. `verify` on the untouched inputs must pass.
2. One pixel of one source image is changed (in a copy of the inputs, written back in the
   same format with tifffile or Pillow); `verify` must then fail, name exactly that input as
   changed, and list exactly the tiles whose rectangle covers the pixel (computed here from the
   bundle's /tiles table, independently of trainset). With edge padding a mirrored copy of the
   pixel can also land in a tile; such tiles are allowed but not required. When the recipe's
   sampling depends on pixels (a foreground filter), the changed pixel may change which tiles
   are kept, shifting every later tile, so then some tile must differ and nothing more. On a
   rescaled source the pixel changed is the file pixel under a tile pixel.

Usage: verify_tamper.py TRAINSET BUNDLE --inputs INPUT_ROOT
"""
import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import tifffile
from PIL import Image


def run_verify(trainset, bundle, inputs):
    out = subprocess.run([trainset, "verify", bundle, "--inputs", inputs, "--json"],
                         capture_output=True, text=True)
    return out.returncode, json.loads(out.stdout)


def change_one_pixel(path: pathlib.Path, x: int, y: int):
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic in (b"II", b"MM"):
        arr = tifffile.imread(path)
        planar = arr.ndim == 3 and arr.shape[0] <= 4 and arr.shape[-1] > 4
        idx = (slice(None), y, x) if planar else (y, x)
        arr[idx] = arr[idx] ^ 1
        tifffile.imwrite(path, arr, planarconfig="separate" if planar else None)
    else:
        img = Image.open(path)
        arr = np.array(img)
        arr[y, x] = arr[y, x] ^ 1
        Image.fromarray(arr, mode=img.mode).save(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trainset")
    ap.add_argument("bundle")
    ap.add_argument("--inputs", required=True)
    a = ap.parse_args()

    status, report = run_verify(a.trainset, a.bundle, a.inputs)
    if status != 0 or not report["passed"]:
        print(f"{a.bundle}: verify failed on untouched inputs: {report}")
        return 1

    with h5py.File(a.bundle, "r") as f:
        paths = [p.decode() if isinstance(p, bytes) else p for p in f["/sources/path"][:]]
        source = f["/tiles/source"][:]
        xs, ys = f["/tiles/x"][:], f["/tiles/y"][:]
        w, h = f["/tiles/width"][:], f["/tiles/height"][:]
        vw, vh = f["/tiles/valid_width"][:], f["/tiles/valid_height"][:]
        sampling = json.loads(f["manifest"][()]).get("sampling") or {}
        scale = None
        if "original_width" in f["/sources"]:
            scale = (f["/sources/original_width"][:] / f["/sources/width"][:],
                     f["/sources/original_height"][:] / f["/sources/height"][:])
    # A pixel inside the first tile, in the source file's own coordinates.
    target = int(source[0])
    px, py = int(xs[0]) + min(20, int(vw[0]) - 1), int(ys[0]) + min(10, int(vh[0]) - 1)
    fx, fy = px, py
    if scale is not None:
        # Rescaled sources: change the file pixel under the tile pixel (nearest, as masks are).
        fx, fy = int((px + 0.5) * scale[0][target]), int((py + 0.5) * scale[1][target])
    covering = {int(i) for i in np.nonzero((source == target) & (xs <= px) & (px < xs + vw) &
                                           (ys <= py) & (py < ys + vh))[0]}
    may_cover = {int(i) for i in np.nonzero(source == target)[0]}

    with tempfile.TemporaryDirectory() as tmp:
        copy = pathlib.Path(tmp) / "inputs"
        shutil.copytree(a.inputs, copy)
        change_one_pixel(copy / paths[target], fx, fy)
        status, report = run_verify(a.trainset, a.bundle, str(copy))

    problems = []
    if status != 1 or report["passed"]:
        problems.append(f"verify passed after a pixel of {paths[target]} changed")
    changed = [p["path"] for p in report["report"]["input_problems"]]
    if changed != [paths[target]]:
        problems.append(f"changed inputs reported {changed}, expected [{paths[target]}]")
    tiles = {t["index"] for t in report["report"]["differing_tiles"]}
    if sampling.get("foreground"):
        if not tiles:
            problems.append("no tile differs after a pixel of a kept tile changed")
    elif not covering <= tiles or not tiles <= may_cover:
        problems.append(f"differing tiles {sorted(tiles)}; the pixel lies in {sorted(covering)}")
    for p in problems:
        print(f"{a.bundle}: {p}")
    if not problems:
        print(f"{a.bundle}: verify passes untouched; names {paths[target]} and tiles {sorted(tiles)} after a one-pixel change")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
