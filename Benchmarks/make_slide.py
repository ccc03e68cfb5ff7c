#!/usr/bin/env python3
"""Writes a tiled, deflate-compressed (Big)TIFF larger than memory, one tile at a time.

Content is smooth (low-frequency waves plus a coarse grid of soft blobs) so that it compresses
well and the file stays small, yet every tile differs, so a misplaced tile or a wrong border
changes the bundle. With --mask, also writes a uint16 label TIFF of the same size (the blobs,
one id per blob) for instance-mask exports. Memory: one tile row of tiles at a time.

  python3 Benchmarks/make_slide.py OUT.tif --width 40000 --height 40000 --channels 2 --dtype uint16 \
      [--tile 256] [--mask OUT_mask.tif] [--bigtiff]
"""
import argparse

import numpy as np
import tifffile


def tile_values(y0, x0, th, tw, channel, dtype):
    # Separable waves and a blob pattern of period 64: a few 1-D evaluations per tile, so
    # writing 10^9 samples takes seconds, not minutes.
    y = np.arange(y0, y0 + th, dtype=np.float32)
    x = np.arange(x0, x0 + tw, dtype=np.float32)
    v = 0.5 + 0.2 * np.outer(np.cos(y / (71.0 + 7 * channel)), np.sin(x / (97.0 + 13 * channel)))
    dy, dx = (y % 64) - 32, (x % 64) - 32
    v += 0.25 * np.outer(np.exp(-dy * dy / 200.0), np.exp(-dx * dx / 200.0))
    # Quantized to 64 levels: long runs of equal samples keep the deflated file small.
    levels = np.clip(np.rint(v * 63), 0, 63)
    return (levels * (np.iinfo(dtype).max // 63)).astype(dtype)


def mask_values(y0, x0, th, tw):
    y, x = np.arange(y0, y0 + th), np.arange(x0, x0 + tw)
    dy, dx = (y % 64) - 32, (x % 64) - 32
    inside = (dy[:, None] ** 2 + dx[None, :] ** 2) < 300
    ids = (y[:, None] // 64) * 1000 + (x[None, :] // 64)
    return np.where(inside, ids % 65535 + 1, 0).astype(np.uint16)


def tiles(height, width, tile, channels, make):
    for c in range(channels):
        for y0 in range(0, height, tile):
            for x0 in range(0, width, tile):
                th, tw = min(tile, height - y0), min(tile, width - x0)
                out = make(y0, x0, th, tw, c)
                if (th, tw) != (tile, tile):
                    padded = np.zeros((tile, tile), dtype=out.dtype)
                    padded[:th, :tw] = out
                    out = padded
                yield out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--height", type=int, required=True)
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--dtype", default="uint8", choices=["uint8", "uint16"])
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--mask")
    p.add_argument("--bigtiff", action="store_true")
    a = p.parse_args()
    dtype = np.dtype(a.dtype)
    shape = (a.channels, a.height, a.width) if a.channels > 1 else (a.height, a.width)
    extra = {"planarconfig": "separate"} if a.channels > 1 else {}
    tifffile.imwrite(a.out, tiles(a.height, a.width, a.tile, a.channels,
                                  lambda y, x, th, tw, c: tile_values(y, x, th, tw, c, dtype)),
                     shape=shape, dtype=dtype, tile=(a.tile, a.tile), compression="zlib", compressionargs={"level": 1}, bigtiff=a.bigtiff,
                     photometric="minisblack", **extra)
    if a.mask:
        tifffile.imwrite(a.mask, tiles(a.height, a.width, a.tile, 1, lambda y, x, th, tw, c: mask_values(y, x, th, tw)),
                         shape=(a.height, a.width), dtype=np.uint16, tile=(a.tile, a.tile), compression="zlib", compressionargs={"level": 1},
                         bigtiff=a.bigtiff, photometric="minisblack")


if __name__ == "__main__":
    main()
