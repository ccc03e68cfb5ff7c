#!/usr/bin/env python3
"""Checks the Croissant metadata written next to a bundle, independently of trainset.

1. `mlcroissant validate` exits 0 with no error, and mlcroissant loads it with no validation
   errors (its warnings are printed, not fatal).
2. Our own check of the fields Croissant 1.1 requires or recommends and mlcroissant only warns
   about: name, description, license, url, creator, datePublished, version, citeAs, conformsTo,
   and a sha256 on every FileObject that matches the file.
3. mlcroissant reads every record of `tiles` (which also checks the CSV's SHA-256), and each
   record equals the bundle's /tiles and /sources rows read with h5py.

Usage: check_croissant.py BUNDLE
"""
import hashlib
import json
import logging
import pathlib
import shutil
import subprocess
import sys

import h5py
import mlcroissant as mlc

REQUIRED = ["name", "description", "license", "url", "creator", "datePublished", "version", "citeAs", "conformsTo"]


def main():
    bundle = pathlib.Path(sys.argv[1])
    meta = pathlib.Path(str(bundle) + ".croissant.json")
    problems = []
    doc = json.loads(meta.read_text())
    for key in REQUIRED:
        if doc.get(key) in (None, "", []):
            problems.append(f"{meta.name}: required field {key} is missing or empty")
    if doc.get("conformsTo") != "http://mlcommons.org/croissant/1.1":
        problems.append(f"{meta.name}: conformsTo is {doc.get('conformsTo')!r}, expected Croissant 1.1")
    for fo in doc.get("distribution", []):
        path = meta.parent / fo["contentUrl"]
        actual = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
        if fo.get("sha256") != actual:
            problems.append(f"{meta.name}: {fo['@id']}: sha256 {fo.get('sha256')} but {path.name} hashes to {actual}")

    # The command-line validator, as a publisher would run it.
    cli = shutil.which("mlcroissant")
    if cli is None:
        problems.append("mlcroissant command not found (pip install mlcroissant)")
    else:
        run = subprocess.run([cli, "validate", "--jsonld", str(meta)], capture_output=True, text=True)
        if run.returncode != 0 or "error" in (run.stdout + run.stderr).lower().replace("errors: 0", ""):
            problems.append(f"{meta.name}: mlcroissant validate: exit {run.returncode}: {(run.stdout + run.stderr).strip()[-500:]}")

    logging.disable(logging.INFO)
    try:
        ds = mlc.Dataset(jsonld=str(meta))
    except Exception as e:  # mlcroissant raises ValidationError listing every error
        problems.append(f"{meta.name}: mlcroissant: {e}")
        ds = None
    if ds is not None:
        for w in ds.metadata.ctx.issues.warnings:
            print(f"{meta.name}: mlcroissant warning: {w}")
        records = list(ds.records("tiles"))
        with h5py.File(bundle, "r") as f:
            paths = [p.decode() for p in f["/sources/path"][:]]
            source, xs, ys, labels = (f[f"/tiles/{c}"][:] for c in ("source", "x", "y", "label"))
            splits = [s.decode() for s in f["/tiles/split"][:]] if "split" in f["tiles"] else None
        if len(records) != len(xs):
            problems.append(f"{meta.name}: tiles has {len(records)} records, the bundle {len(xs)} tiles")
        for r in records:
            i = r["tiles/tile"]
            got = (r["tiles/source"].decode(), r["tiles/x"], r["tiles/y"], r["tiles/label"],
                   r["tiles/split"].decode() if "tiles/split" in r else None)
            want = (paths[source[i]], int(xs[i]), int(ys[i]), int(labels[i]), splits[i] if splits else None)
            if got != want:
                problems.append(f"{meta.name}: tile {i}: Croissant record {got} but bundle row {want}")
                break
    for p in problems:
        print(p)
    if not problems:
        print(f"{meta.name}: valid Croissant 1.1; {len(records)} tile records equal the bundle's tables")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
