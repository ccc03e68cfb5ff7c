#!/usr/bin/env python3
"""Dumps export chunks, byte-shuffled as HDF5's shuffle filter does, for deflate_bench.c.

Reads a bundle written by `trainset export` or `peer_export.py` (any file with /images and
optionally /masks/instance), takes every STEP-th tile, and writes the shuffled chunk bytes
back to back: OUT.images.bin (C x 256 x 256 uint16 per chunk) and OUT.masks.bin (256 x 256
uint32). Prints the chunk sizes for deflate_bench.

Usage: python3 deflate_chunks.py BUNDLE.h5 OUT [--step 4]
"""
import argparse

import h5py
import numpy as np


def shuffled(a):
    a = np.ascontiguousarray(a)
    return np.ascontiguousarray(a.view(np.uint8).reshape(-1, a.dtype.itemsize).T).tobytes()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bundle")
    p.add_argument("out")
    p.add_argument("--step", type=int, default=4)
    args = p.parse_args()
    with h5py.File(args.bundle) as f:
        for name, path in (("images", "images"), ("masks", "masks/instance")):
            if path not in f:
                continue
            d = f[path]
            with open(f"{args.out}.{name}.bin", "wb") as out:
                for i in range(0, d.shape[0], args.step):
                    out.write(shuffled(d[i]))
            print(name, d[0].nbytes)


if __name__ == "__main__":
    main()
