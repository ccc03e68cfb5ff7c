#!/usr/bin/env python3
"""Stitches a bundle's tiles back into whole images with the blending windows stored in
/stitch (bundle format §5.6), written from the spec with h5py and numpy, and proves that the
result reproduces every source image over the pixels its tiles cover: exactly for plain tiles,
within one intensity level of Pillow for rescaled sources. Also checks the stored windows
against the spec's formulas and each tile's grid cell against /grid.

Bundles whose tiles are augmented (their pixels no longer sit at their grid cell) or not on a
grid (random tiles, no /grid) are reported and skipped.

Usage: check_stitch.py BUNDLE --inputs INPUT_ROOT
Exit status 0 when everything matches, 1 otherwise (each mismatch printed on one line).
"""
import json
import sys

import h5py
import numpy as np
import yaml

from crosscheck_sample import bundle_and_inputs, tiled_source

MODES = ("crop", "average", "hann")


def spec_window(mode: str, n: int, overlap: int) -> np.ndarray:
    """§5.6: the window of one axis of n samples with the grid's overlap."""
    if mode == "average":
        return np.ones(n)
    if mode == "crop":
        lead = overlap // 2
        w = np.ones(n)
        w[:lead] = 0
        w[n - (overlap - lead):] = 0
        return w
    return np.maximum(np.sin(np.pi * (np.arange(n) + 0.5) / n) ** 2, 1e-3)


def tile_window(stored: np.ndarray, mode: str, overlap: int, index: int, count: int) -> np.ndarray:
    """§5.6: a crop window gives the band facing the image border weight 1 (no neighbour owns it)."""
    w = stored.copy()
    if mode == "crop":
        lead = overlap // 2
        if index == 0:
            w[:lead] = 1
        if index == count - 1:
            w[len(w) - (overlap - lead):] = 1
    return w


def main() -> int:
    args, root = bundle_and_inputs(__doc__)
    problems: list[str] = []
    with h5py.File(args.bundle, "r") as f:
        if "grid" not in f:
            print(f"{args.bundle}: no /grid (tiles are not on a grid); nothing to stitch")
            return 0
        if "augmentation" in f["tiles"]:
            print(f"{args.bundle}: tiles are augmented, so their pixels are not at their grid cells; nothing to stitch")
            return 0
        manifest = json.loads(f["manifest"][()])
        recipe = yaml.safe_load(manifest["recipe"]["text"])
        tiles = {name: f["tiles"][name][()] for name in f["tiles"]}
        grid = {name: f["grid"][name][()] for name in f["grid"]}
        sources = {name: f["sources"][name][()] for name in f["sources"]}
        images = f["images"]
        tile_w, tile_h = images.shape[3], images.shape[2]
        windows = {}
        for mode in MODES:
            for axis, n, overlap in (("x", tile_w, int(grid["overlap_x"][0])), ("y", tile_h, int(grid["overlap_y"][0]))):
                stored = f["stitch"][f"{mode}_{axis}"][()]
                if stored.shape != (n,) or np.abs(stored - spec_window(mode, n, overlap)).max() > 1e-12:
                    problems.append(f"/stitch/{mode}_{axis}: differs from the spec's {mode} window of {n} samples")
                windows[mode, axis] = stored
        paths = [p.decode() for p in sources["path"]]
        compared = full = 0
        for s, rel in enumerate(paths):
            rows, columns = int(grid["rows"][s]), int(grid["columns"][s])
            sx, sy, ox, oy = (int(grid[k][s]) for k in ("stride_x", "stride_y", "overlap_x", "overlap_y"))
            if (ox, oy) != (max(0, tile_w - sx), max(0, tile_h - sy)):
                problems.append(f"{rel}: /grid overlap ({ox}, {oy}) is not tile size - stride")
            mine = np.flatnonzero(tiles["source"] == s)
            if len(mine) == 0:
                continue
            reference, _, exact = tiled_source(root, rel, manifest, recipe, sources, s, problems)
            height, width = reference.shape[-2:]
            for i in mine:
                r, c = int(tiles["grid_row"][i]), int(tiles["grid_column"][i])
                if not (0 <= r < rows and 0 <= c < columns) or (tiles["x"][i], tiles["y"][i]) != (c * sx, r * sy):
                    problems.append(f"tile {i} ({rel}): at ({tiles['x'][i]}, {tiles['y'][i]}), not at grid cell ({r}, {c})")
            is_full = len(mine) == rows * columns
            full += is_full
            for mode in MODES:
                total = np.zeros(reference.shape, dtype=np.float64)
                weight = np.zeros((height, width), dtype=np.float64)
                for i in mine:
                    r, c = int(tiles["grid_row"][i]), int(tiles["grid_column"][i])
                    x, y, vw, vh = (int(tiles[k][i]) for k in ("x", "y", "valid_width", "valid_height"))
                    w2 = np.outer(tile_window(windows[mode, "y"], mode, oy, r, rows),
                                  tile_window(windows[mode, "x"], mode, ox, c, columns))[:vh, :vw]
                    total[:, y:y + vh, x:x + vw] += w2 * images[i][:, :vh, :vw]
                    weight[y:y + vh, x:x + vw] += w2
                covered = weight > 0
                stitched = total[:, covered] / weight[covered]
                want = reference[:, covered].astype(np.float64)
                error = np.abs(stitched - want).max(initial=0)
                integer = np.issubdtype(reference.dtype, np.integer)
                if exact and integer and not np.array_equal(np.rint(stitched), want):
                    problems.append(f"{rel}: {mode} stitching, rounded to integers, differs from the source")
                elif error > (1e-6 * max(1.0, np.abs(want).max(initial=0)) if exact else 1 + 1e-6):
                    problems.append(f"{rel}: {mode} stitching differs from the source by up to {error}")
                if is_full:
                    # A full grid covers the image up to the last tile's far edge (all of it when padded).
                    extent = np.zeros_like(covered)
                    extent[:min(height, (rows - 1) * sy + tile_h), :min(width, (columns - 1) * sx + tile_w)] = True
                    if sx <= tile_w and sy <= tile_h and not np.array_equal(covered, extent):
                        problems.append(f"{rel}: {mode} stitching leaves {int((extent & ~covered).sum())} pixels uncovered")
                    if mode == "crop" and sx <= tile_w and sy <= tile_h and not np.all(weight[covered] == 1):
                        problems.append(f"{rel}: crop weights do not give every pixel exactly one owner")
                compared += int(covered.sum()) * reference.shape[0]
    for p in problems:
        print(f"{args.bundle}: {p}")
    print(f"{args.bundle}: stitched {len(paths)} sources ({full} full grids) in {len(MODES)} modes, "
          f"{compared} samples compared, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
