#!/usr/bin/env python3
"""Re-derives, from the recipe spec (§8, §9) and the inputs alone, which tiles a bundle whose
recipe samples must hold, and compares them with the bundle: tile positions (the grid, or random
positions from a Philox4x32-10 stream written here from specs/augmentation/v1.md §1), the
foreground fraction of every position (masks rebuilt from their files, or Otsu's threshold
computed here), the class balance with its per-group cap (SplitMix64 ranks), /tiles/foreground,
and the manifest's counts per source and class.

Usage: check_sampling.py BUNDLE --inputs INPUT_ROOT   (a bundle without sampling is skipped)
Exit status 0 when everything matches, 1 otherwise (each mismatch printed on one line).
"""
import csv
import hashlib
import json
import pathlib
import re
import sys

import h5py
import numpy as np
import yaml

from crosscheck_sample import bundle_and_inputs, cut, instance_mask, read_image, rescale_labels, rescaled_size, sha256

MASK32, MASK64 = (1 << 32) - 1, (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def splitmix64(x: int) -> int:
    z = (x + GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def philox4x32_10(counter, key):
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for r in range(10):
        if r:
            k0, k1 = (k0 + 0x9E3779B9) & MASK32, (k1 + 0xBB67AE85) & MASK32
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & MASK32, p1 & MASK32, ((p0 >> 32) ^ c3 ^ k1) & MASK32, p0 & MASK32
    return c0, c1, c2, c3


class Stream:
    """Sequential draws of specs/augmentation/v1.md §1 for (seed, tile key, augmentation, stream)."""

    def __init__(self, seed, tile_key, augmentation=0, stream=0):
        k = splitmix64(seed ^ splitmix64((tile_key + GOLDEN) & MASK64))
        self.key, self.augmentation, self.stream = (k & MASK32, k >> 32), augmentation, stream
        self.words, self.block = [], 0

    def word(self):
        if not self.words:
            i = self.block
            self.words = list(philox4x32_10((i & MASK32, i >> 32, self.augmentation, self.stream), self.key))
            self.block += 1
        return self.words.pop(0)

    def uniform(self):
        hi, lo = self.word() >> 5, self.word() >> 6
        return (hi * 2 ** 26 + lo) * 2.0 ** -53

    def integer(self, n):
        return min(int(self.uniform() * n), n - 1)


def origins(extent, tile, stride, edge):
    """Recipe spec §7."""
    out, o = [], 0
    while (o + tile <= extent) if edge == "drop" else (o < extent):
        out.append(o)
        if edge != "drop" and o + tile >= extent:
            break
        o += stride
    return out


def positions(width, height, tiling, sampling, seed, sha):
    """Planned (x, y) tile origins: the grid in row-major order, or distinct random positions (§8.1)."""
    tw, th = tiling["tile_width"], tiling["tile_height"]
    count = sampling.get("random_tiles")
    if count is None:
        return [(x, y) for y in origins(height, th, tiling["stride_y"], tiling["edge"])
                for x in origins(width, tw, tiling["stride_x"], tiling["edge"])]
    if tw > width or th > height:
        return []
    cols, rows = width - tw + 1, height - th + 1
    if count >= cols * rows:
        return [(x, y) for y in range(rows) for x in range(cols)]
    key = int.from_bytes(hashlib.sha256(f"trainset/random-tiles/v1\0{sha}".encode()).digest()[:8], "big")
    stream, seen = Stream(seed, key), []
    while len(seen) < count:
        x = stream.integer(cols)
        y = stream.integer(rows)
        if (x, y) not in seen:
            seen.append((x, y))
    return sorted(seen, key=lambda p: (p[1], p[0]))


def otsu(image: np.ndarray, polarity: str):
    """Tissue map and threshold by a brute-force Otsu over 256 bins of the channel mean (§8.2)."""
    mean = image.astype(np.float64).sum(axis=0) / image.shape[0]
    lo, hi = mean.min(), mean.max()
    if hi <= lo:
        return np.zeros(mean.shape, dtype=np.uint32), hi
    bins = np.minimum(((mean - lo) / (hi - lo) * 256).astype(np.int64), 255)
    hist = np.bincount(bins.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    best, threshold = -1.0, 0
    for t in range(256):
        w0, w1 = hist[:t + 1].sum(), hist[t + 1:].sum()
        if w0 == 0 or w1 == 0:
            continue
        m0, m1 = (hist[:t + 1] * levels[:t + 1]).sum() / w0, (hist[t + 1:] * levels[t + 1:]).sum() / w1
        between = w0 * w1 * (m0 - m1) ** 2
        if between > best:
            best, threshold = between, t
    dark = bins <= threshold
    return (dark if polarity == "dark" else ~dark).astype(np.uint32), lo + (threshold + 1) / 256 * (hi - lo)


def check_balance(balance, reported, candidates, tiles, variants, groups):
    """The caps, counted on the bundle's own tiles (one per grid tile, whatever the variants),
    and the manifest's per-class report against the candidates."""
    problems, kept, per_group = [], {}, {}
    for i in range(0, len(tiles["source"]), variants):
        c, g = int(tiles["label"][i]), groups[int(tiles["source"][i])]
        kept[c] = kept.get(c, 0) + 1
        per_group[c, g] = per_group.get((c, g), 0) + 1
    for c, n in sorted(kept.items()):
        most = max(v for (k, _), v in per_group.items() if k == c)
        if n > balance.get("per_class", n) or most > balance.get("per_group", most):
            problems.append(f"class {c}: the bundle holds {n} tiles, up to {most} of one group, over the recipe's caps")
    want = []
    for c in sorted({x["class"] for x in candidates}):
        mine = [x for x in candidates if x["class"] == c]
        want.append({"id": c, "candidates": len(mine), "kept": kept.get(c, 0), "groups": len({x["group"] for x in mine}),
                     "max_per_group": max([v for (k, _), v in per_group.items() if k == c], default=0)})
    have = [{k: e[k] for k in ("id", "candidates", "kept", "groups", "max_per_group")} for e in reported]
    if have != want:
        problems.append(f"manifest sampling.classes {have} differ from the recount {want}")
    return problems


def main() -> int:
    args, root = bundle_and_inputs(__doc__)
    problems: list[str] = []
    with h5py.File(args.bundle, "r") as f:
        manifest = json.loads(f["manifest"][()])
        recipe = yaml.safe_load(manifest["recipe"]["text"])
        sampling = recipe.get("sampling")
        if not sampling:
            print(f"{args.bundle}: the recipe does not sample; nothing to check")
            return 0
        tiles = {name: f["tiles"][name][()] for name in f["tiles"]}
        sources = {name: f["sources"][name][()] for name in f["sources"]}
    tiling, seed = manifest["tiling"], recipe.get("seed", 0)
    paths = [p.decode() for p in sources["path"]]
    foreground, balance = sampling.get("foreground"), sampling.get("balance")
    group_of = {}
    if balance and balance.get("group_column"):
        table = recipe["inputs"]["annotations"]
        with open(root / table["file"], newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                group_of[re.sub(r"\{([^}]+)\}", lambda m: row[m.group(1)], table["image_path"])] = row[balance["group_column"]]

    planned, fractions, thresholds, candidates = [], [], [], []
    for s, rel in enumerate(paths):
        image = read_image(root / rel, manifest["channels"].get("palette"))[manifest["channels"]["source_indices"]]
        height, width = image.shape[-2:]
        if manifest.get("rescale"):
            width, height, _ = rescaled_size(root / rel, width, height, manifest["rescale"])
        sha = sha256(root / rel)
        spots = positions(width, height, tiling, sampling, seed, sha)
        threshold = None
        if foreground and spots:
            if "otsu" in foreground:
                fmap, threshold = otsu(image, foreground["otsu"])
            elif foreground["mask"] == "instance":
                fmap = instance_mask(recipe, root, rel, image.shape[-2:])
            else:
                stem = pathlib.PurePosixPath(rel).stem
                fmap = read_image(root / recipe["labels"]["semantic_masks"]["file"].replace("{stem}", stem), None)[0]
            if manifest.get("rescale"):
                fmap = rescale_labels(fmap, width, height)
            tw, th = tiling["tile_width"], tiling["tile_height"]
            frac = [np.count_nonzero(cut(fmap, x, y, tw, th, tiling["edge"], 0)) / (tw * th) for x, y in spots]
        else:
            frac = [None] * len(spots)
        keep = [i for i, v in enumerate(frac) if v is None or v >= foreground["min_fraction"]]
        planned.append(spots)
        fractions.append(frac)
        thresholds.append(threshold)
        for i in keep:
            x, y = spots[i]
            text = f"trainset/tile/v1\0{sha}\0" + "0\0" + f"{x},{y},{tiling['tile_width']},{tiling['tile_height']}"
            candidates.append({"source": s, "spot": i, "key": int(hashlib.sha256(text.encode()).hexdigest()[:16], 16),
                               "class": int(sources["label"][s]), "group": group_of.get(rel, rel)})

    chosen = list(range(len(candidates)))
    if balance:
        per_class, per_group = balance.get("per_class", float("inf")), balance.get("per_group", float("inf"))
        order = sorted(range(len(candidates)), key=lambda i: (
            splitmix64(seed ^ candidates[i]["key"]), candidates[i]["key"], candidates[i]["class"],
            candidates[i]["group"].encode(), i))
        class_count, group_count, chosen = {}, {}, []
        for i in order:
            c, g = candidates[i]["class"], (candidates[i]["class"], candidates[i]["group"])
            if class_count.get(c, 0) < per_class and group_count.get(g, 0) < per_group:
                class_count[c] = class_count.get(c, 0) + 1
                group_count[g] = group_count.get(g, 0) + 1
                chosen.append(i)
        chosen.sort()

    expected = {s: [] for s in range(len(paths))}
    for i in chosen:
        expected[candidates[i]["source"]].append(candidates[i]["spot"])
    variants = recipe.get("augmentation", {}).get("variants", 1)
    got = {s: [] for s in range(len(paths))}
    for i in range(0, len(tiles["source"]), variants):
        got[int(tiles["source"][i])].append(i)
    if balance:
        problems += check_balance(balance, manifest["sampling"].get("classes") or [], candidates, tiles, variants,
                                  [group_of.get(rel, rel) for rel in paths])
    report = manifest["sampling"]["sources"]
    checked = 0
    for s, rel in enumerate(paths):
        want = [planned[s][j] for j in expected[s]]
        have = [(int(tiles["x"][i]), int(tiles["y"][i])) for i in got[s]]
        if want != have:
            problems.append(f"{rel}: the bundle holds tiles at {have[:4]}..., the spec selects {want[:4]}... "
                            f"({len(have)} vs {len(want)})")
            continue
        checked += len(want)
        if foreground:
            for i, j in zip(got[s], expected[s]):
                if float(tiles["foreground"][i]) != fractions[s][j]:
                    problems.append(f"tile {i} ({rel}): /tiles/foreground {tiles['foreground'][i]}, recomputed {fractions[s][j]}")
        below = sum(1 for v in fractions[s] if v is not None and v < foreground["min_fraction"]) if foreground else 0
        counts = (len(planned[s]), below, len(planned[s]) - below - len(want), len(want))
        entry = report[s]
        recorded = (entry["positions"], entry["below_foreground"], entry["over_cap"], entry["kept"])
        if entry["path"] != rel or recorded != counts:
            problems.append(f"{rel}: manifest sampling counts {recorded}, recomputed {counts} (positions, below, over cap, kept)")
        if thresholds[s] is not None and abs(entry.get("otsu_threshold", float("nan")) - thresholds[s]) > 1e-9 * abs(thresholds[s]):
            problems.append(f"{rel}: manifest otsu_threshold {entry.get('otsu_threshold')}, recomputed {thresholds[s]}")
    for p in problems:
        print(f"{args.bundle}: {p}")
    print(f"{args.bundle}: {sum(map(len, planned))} planned positions in {len(paths)} sources re-derived, "
          f"{checked} kept tiles match, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
