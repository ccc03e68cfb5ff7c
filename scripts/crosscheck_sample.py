#!/usr/bin/env python3
"""Independent cross-check of an exported bundle against its inputs, with h5py, numpy,
tifffile and Pillow (none of which trainset uses).

For every tile it re-reads the source image itself, applies the channel selection, rescaling
(Pillow, to within one intensity level) and edge padding that the manifest records, and proves
that the stored tile equals those pixels; it does
the same for instance masks (rebuilt from the per-object files) and for image-level labels
(looked up in the annotation table through the recipe's key template). Boxes are rebuilt from
the Pascal VOC or CSV annotation files (parsed here with ElementTree and csv) and cut to each
tile by the bundle format's rule, or derived from the per-object mask files; the objects the
geometry policy dropped must be listed in the manifest by file and object. It also re-hashes
every input file against the manifest.

Usage: crosscheck_sample.py BUNDLE --inputs INPUT_ROOT
Exit status 0 when everything matches, 1 otherwise (each mismatch printed on one line).
"""
import argparse
import csv
import hashlib
import hmac
import json
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

import h5py
import numpy as np
import tifffile
import xml.etree.ElementTree as ET
import yaml
from PIL import Image

# Length units of OME-XML and ImageJ calibrations, in micrometres.
MICROMETRES = {"µm": 1, "μm": 1, "um": 1, "micron": 1, "microns": 1, "micrometer": 1, "micrometre": 1,
               "nm": 1e-3, "Å": 1e-4, "pm": 1e-6, "mm": 1e3, "cm": 1e4, "m": 1e6}


def read_image(path: pathlib.Path, palette: str | None) -> np.ndarray:
    """The image as C x H x W, the way tifffile / Pillow give it."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] in (b"II", b"MM"):
        arr = tifffile.imread(path)
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            contig = page.planarconfig == 1 and page.samplesperpixel > 1
            if palette == "rgb" and page.photometric == 3:
                arr = page.asrgb()
                contig = True
        if arr.ndim == 2:
            return arr[None]
        return np.moveaxis(arr, -1, 0) if contig else arr
    img = Image.open(path)
    if palette == "rgb" and img.mode == "P":
        img = img.convert("RGB")
    arr = np.asarray(img)
    return arr[None] if arr.ndim == 2 else np.moveaxis(arr, -1, 0)


def cut(arr: np.ndarray, x: int, y: int, w: int, h: int, edge: str, pad_value: float) -> np.ndarray:
    """Tile (x, y, w, h) of a ... x H x W array, padded past the right and bottom edges.

    Padding mirrors the whole image (numpy's 'reflect'), not just the part under the tile."""
    height, width = arr.shape[-2:]
    pad_y, pad_x = max(0, y + h - height), max(0, x + w - width)
    if pad_x or pad_y:
        widths = [(0, 0)] * (arr.ndim - 2) + [(0, pad_y), (0, pad_x)]
        if edge == "reflect":
            arr = np.pad(arr, widths, mode="reflect")
        else:
            arr = np.pad(arr, widths, mode="constant", constant_values=pad_value)
    return arr[..., y:y + h, x:x + w]


def metadata_pixel_size(path: pathlib.Path):
    """(x, y, origin) in µm per pixel from OME-XML PhysicalSizeX/Y or an ImageJ calibration, or None."""
    with open(path, "rb") as f:
        if f.read(2) not in (b"II", b"MM"):
            return None
    with tifffile.TiffFile(path) as tif:
        if tif.ome_metadata:
            pixels = next((e for e in ET.fromstring(tif.ome_metadata).iter() if e.tag.endswith("}Pixels")), None)
            if pixels is not None and "PhysicalSizeX" in pixels.attrib:
                x = float(pixels.attrib["PhysicalSizeX"]) * MICROMETRES[pixels.attrib.get("PhysicalSizeXUnit", "µm")]
                y = (float(pixels.attrib["PhysicalSizeY"]) * MICROMETRES[pixels.attrib.get("PhysicalSizeYUnit", "µm")]
                     if "PhysicalSizeY" in pixels.attrib else x)
                return x, y, "ome"
        ij = tif.imagej_metadata
        page = tif.pages[0]
        if ij and ij.get("unit") and "XResolution" in page.tags:
            unit = MICROMETRES[ij["unit"].replace("\\u00B5", "µ")]
            xr = page.tags["XResolution"].value
            yr = page.tags["YResolution"].value if "YResolution" in page.tags else xr
            return xr[1] / xr[0] * unit, yr[1] / yr[0] * unit, "imagej"
    return None


def rescaled_size(path: pathlib.Path, width: int, height: int, rescale: dict):
    """The size trainset must tile a source at (recipe spec §9), and where its pixel size came from."""
    size = metadata_pixel_size(path) if rescale.get("use_metadata", True) else None
    if size is None:
        x, y = rescale["source_pixel_size"]
        size = (x, y, "recipe")
    target = rescale["pixel_size"]
    # Rounded half away from zero (Python's round() would round half to even).
    return (max(int(np.floor(width * size[0] / target + 0.5)), 1), max(int(np.floor(height * size[1] / target + 0.5)), 1),
            size)


def rescale_image(arr: np.ndarray, width: int, height: int, method: str) -> np.ndarray:
    """C x H x W resampled with Pillow's float path (antialiased when shrinking), rounded half
    away from zero and clamped to the input's integer type."""
    resample = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[method]
    out = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32), mode="F")
                               .resize((width, height), resample), dtype=np.float64) for plane in arr])
    if arr.dtype == np.float32:
        return out.astype(np.float32)
    info = np.iinfo(arr.dtype)
    return np.clip(np.sign(out) * np.floor(np.abs(out) + 0.5), info.min, info.max).astype(arr.dtype)


def rescale_labels(labels: np.ndarray, width: int, height: int) -> np.ndarray:
    """Nearest neighbour: the source pixel holding each output pixel's centre."""
    h, w = labels.shape[-2:]
    ys = np.minimum(((np.arange(height) + 0.5) * (h / height)).astype(np.int64), h - 1)
    xs = np.minimum(((np.arange(width) + 0.5) * (w / width)).astype(np.int64), w - 1)
    return labels[..., ys[:, None], xs[None, :]]


def tiled_source(root: pathlib.Path, rel: str, manifest: dict, recipe: dict, sources: dict, s: int, problems: list):
    """The source as its tiles were cut from it: channels selected, rescaled when the recipe
    rescales (checking the recorded sizes), with its instance mask (or None), and whether the
    pixels must match exactly (False after rescaling: Pillow and trainset may round a level apart)."""
    source = read_image(root / rel, manifest["channels"].get("palette"))[manifest["channels"]["source_indices"]]
    masks = instance_mask(recipe, root, rel, source.shape[-2:]) if "instance_masks" in (recipe.get("labels") or {}) else None
    rescale = manifest.get("rescale")
    if not rescale:
        return source, masks, True
    h, w = source.shape[-2:]
    width, height, size = rescaled_size(root / rel, w, h, rescale)
    recorded = (int(sources["width"][s]), int(sources["height"][s]), int(sources["original_width"][s]),
                int(sources["original_height"][s]))
    if recorded != (width, height, w, h):
        problems.append(f"{rel}: /sources records sizes {recorded}, expected {(width, height, w, h)}")
    # libtiff hands TIFF resolutions (ImageJ calibrations) over as 32-bit floats: compare to 1e-6.
    for name, want in (("original_pixel_size_x", size[0]), ("original_pixel_size_y", size[1]),
                       ("pixel_size_x", size[0] * w / width), ("pixel_size_y", size[1] * h / height)):
        if abs(float(sources[name][s]) - want) > 1e-6 * want:
            problems.append(f"{rel}: /sources/{name} is {sources[name][s]}, expected {want}")
    return (rescale_image(source, width, height, rescale["filter"]),
            None if masks is None else rescale_labels(masks, width, height), False)


def sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundle_and_inputs(doc: str):
    """The command line every bundle-vs-inputs check takes: BUNDLE --inputs INPUT_ROOT."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("--inputs", required=True, help="the recipe's input root directory")
    args = parser.parse_args()
    return args, pathlib.Path(args.inputs)


def main() -> int:
    args, root = bundle_and_inputs(__doc__)
    problems: list[str] = []

    with h5py.File(args.bundle, "r") as f:
        manifest = json.loads(f["manifest"][()])
        recipe = yaml.safe_load(manifest["recipe"]["text"])
        images = f["images"]
        tiles = {name: f["tiles"][name][()] for name in f["tiles"]}
        sources = {name: f["sources"][name][()] for name in f["sources"]}
        class_names = [n.decode() for n in f["classes"]["name"][()]]
        instance = f["masks/instance"] if "masks" in f and "instance" in f["masks"] else None

        for entry in manifest["inputs"]:
            path = root / entry["path"]
            if not path.is_file():
                problems.append(f"{entry['path']}: listed in the manifest but missing")
            elif sha256(path) != entry["sha256"] or path.stat().st_size != entry["bytes"]:
                problems.append(f"{entry['path']}: SHA-256 or size differs from the manifest")

        tiling = manifest["tiling"]
        paths = [p.decode() for p in sources["path"]]
        labels_by_path = expected_labels(recipe, root, class_names)
        checked = inexact = 0
        tiled_masks = {}
        for s, rel in enumerate(paths):
            source, masks, exact = tiled_source(root, rel, manifest, recipe, sources, s, problems)
            tiled_masks[s] = masks
            if labels_by_path is not None:
                want = labels_by_path.get(rel, -1)
                if int(sources["label"][s]) != want:
                    problems.append(f"{rel}: source label {sources['label'][s]} but the table says {want}")
            augmented = "augmentation" in tiles
            for i in np.flatnonzero(tiles["source"] == s):
                x, y, w, h = (int(tiles[k][i]) for k in ("x", "y", "width", "height"))
                if augmented:
                    # Augmented pixels are checked by `trainset replay --all` (bit for bit from the
                    # stored parameters); here: the tile key the spec defines, and that masks hold
                    # only ids of the source's mask.
                    text = f"trainset/tile/v1\0{sources['sha256'][s].decode()}\0" + "0\0" + f"{x},{y},{w},{h}"
                    if tiles["key"][i].decode() != hashlib.sha256(text.encode()).hexdigest():
                        problems.append(f"tile {i}: key differs from SHA-256 of its source hash and rectangle")
                    if masks is not None and not set(np.unique(instance[i])) <= set(np.unique(masks)) | {0}:
                        problems.append(f"tile {i} ({rel}): instance mask holds ids its source mask does not")
                    checked += 1
                    continue
                want = cut(source, x, y, w, h, tiling["edge"], tiling["pad_value"])
                if exact and not np.array_equal(images[i], want):
                    problems.append(f"tile {i} ({rel} at x={x}, y={y}): pixels differ from the source")
                elif not exact:
                    difference = np.abs(images[i].astype(np.float64) - want)
                    inexact += int(np.count_nonzero(difference))
                    if difference.max() > 1:
                        problems.append(f"tile {i} ({rel} at x={x}, y={y}): pixels differ from Pillow's rescaled source "
                                        f"by up to {difference.max()}")
                if tiles["label"][i] != sources["label"][s]:
                    problems.append(f"tile {i}: label {tiles['label'][i]} differs from its source's")
                if masks is not None and not np.array_equal(instance[i], cut(masks, x, y, w, h, tiling["edge"], 0)):
                    problems.append(f"tile {i} ({rel}): instance mask differs from the mask files")
                checked += 1
        if "boxes" in f and "augmentation" not in tiles:
            problems += check_boxes(f, recipe, root, paths, tiles, class_names, manifest, tiled_masks)
        if checked != images.shape[0]:
            problems.append(f"checked {checked} tiles but /images holds {images.shape[0]}")
        if "samples" in f:
            problems += check_samples(f, recipe, root, paths, sources, tiles)

    for p in problems:
        print(f"{args.bundle}: {p}")
    rounding = f", {inexact} rescaled samples one level from Pillow's" if manifest.get("rescale") else ""
    print(f"{args.bundle}: {checked} tiles and {len(manifest['inputs'])} inputs checked{rounding}, {len(problems)} problems")
    return 1 if problems else 0


def split_of(group: str, seed: int, fractions: list[dict]) -> str:
    """specs/samples/v1.md §8.1, written from the spec, not from trainset's code."""
    key = b"trainset/split/v1\x00" + seed.to_bytes(8, "big")
    h = hmac.new(key, group.encode(), hashlib.sha256).digest()
    position = (int.from_bytes(h[:8], "big") >> 11) / 2**53
    total = 0.0
    for f in fractions[:-1]:
        total += f["fraction"]
        if position < total:
            return f["name"]
    return fractions[-1]["name"]


def check_samples(f, recipe: dict, root: pathlib.Path, paths: list[str], sources: dict, tiles: dict) -> list[str]:
    """/samples text columns equal the sample table's cells for each source's row (matched by
    the recipe's keys through the annotation table), and splits follow the group hash."""
    problems = []
    spec = recipe["samples"]
    ann = recipe["inputs"]["annotations"]
    with open(root / ann["file"], newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    image_of = {}
    for row in rows:
        rel = re.sub(r"\{([^}]+)\}", lambda m: row[m.group(1)], ann["image_path"])
        image_of[rel] = row
    with open(root / spec["table"], newline="", encoding="utf-8-sig") as fh:
        sample_rows = {tuple(r[k].strip() for k in spec["keys"]): r for r in csv.DictReader(fh)}
    released = {c["name"]: c for c in json.loads(f["manifest"][()])["samples"]["columns"] if c["released"]}
    text_columns = [n for n, c in released.items() if c["type"] in ("categorical", "text") and c["treatment"] == "keep"]
    for s, rel in enumerate(paths):
        r = int(sources["sample"][s])
        key = tuple(image_of[rel][k].strip() for k in spec["keys"])
        want = sample_rows.get(key)
        if want is None or r < 0:
            continue
        for name in text_columns:
            got = f["samples"][name.replace("/", "_")][r].decode()
            if got != want[name].strip():
                problems.append(f"{rel}: /samples/{name} row {r} is {got!r}, the table says {want[name]!r}")
    splits = spec.get("splits")
    if splits and splits.get("fractions") and splits.get("stratification", "rank") == "none":
        seed = splits.get("seed", recipe.get("seed", 0))
        groups = [g.decode() for g in sources["group"]]
        for s, rel in enumerate(paths):
            want = split_of(image_of[rel][splits["group_column"]].strip(), seed, splits["fractions"])
            if sources["split"][s].decode() != want:
                problems.append(f"{rel}: split {sources['split'][s].decode()!r}, the spec's hash gives {want!r}")
        tile_split = [t.decode() for t in tiles["split"]]
        for i, s in enumerate(tiles["source"]):
            if tile_split[i] != sources["split"][s].decode():
                problems.append(f"tile {i}: split {tile_split[i]!r} differs from its source's")
                break
        seen = {}
        for g, sp in zip(groups, (x.decode() for x in sources["split"])):
            if seen.setdefault(g, sp) != sp:
                problems.append(f"group {g!r} is in splits {seen[g]!r} and {sp!r}")
    return problems


def expected_labels(recipe: dict, root: pathlib.Path, class_names: list[str]):
    """Image path -> class id, from the annotation table, independently of the tool."""
    spec = (recipe.get("labels") or {}).get("image_class")
    if not spec:
        return None
    table = recipe["inputs"]["annotations"]
    fold = (lambda v: " ".join(v.split()).casefold()) if spec.get("match") == "case_insensitive" else (lambda v: v)
    ids = {fold(n): i for i, n in enumerate(class_names)}
    out = {}
    with open(root / table["file"], newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            path = re.sub(r"\{([^}]+)\}", lambda m: row[m.group(1)], table["image_path"])
            out[path] = ids.get(fold(row[spec["column"]]), -1)
    return out


def annotated_boxes(spec: dict, root: pathlib.Path, rel: str, size: tuple[int, int]):
    """The image's boxes as (label, [x0, y0, x1, y1] continuous, ref, file, degenerate), read from
    its VOC file or the CSV, corners converted from inclusive pixel indices by hand."""
    stem, name = pathlib.PurePosixPath(rel).stem, pathlib.PurePosixPath(rel).name
    if "voc" in spec:
        path = spec["voc"].replace("{stem}", stem).replace("{name}", name)
        out = []
        for k, obj in enumerate(ET.parse(root / path).getroot().findall("object"), start=1):
            x0, y0, x1, y1 = (float(obj.find(f"bndbox/{c}").text) for c in ("xmin", "ymin", "xmax", "ymax"))
            out.append((obj.find("name").text.strip(), [x0 - 1, y0 - 1, x1, y1], f"object {k}", path, x1 <= x0 or y1 <= y0))
        return out
    c = spec["csv"]
    base = {"pixel_index_0": 0, "pixel_index_1": 1}.get(c["coordinates"])
    out = []
    with open(root / c["file"], newline="", encoding="utf-8-sig") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            if row[c["image"]].strip() not in (rel, name):
                continue
            b = c["box"]
            x0, y0, x1, y1 = (float(row[b[k]]) for k in ("x_min", "y_min", "x_max", "y_max"))
            if base is None:
                out.append((row[c["label"]].strip(), [x0, y0, x1, y1], f"line {line}", c["file"], x1 <= x0 or y1 <= y0))
            else:
                out.append((row[c["label"]].strip(), [x0 - base, y0 - base, x1 - base + 1, y1 - base + 1], f"line {line}",
                            c["file"], x1 <= x0 or y1 <= y0))
    return out


def check_boxes(f, recipe, root, paths, tiles, class_names, manifest, tiled_masks) -> list[str]:
    """Every tile's /boxes rows equal the boxes rebuilt here: annotated boxes (scaled with the
    image when the recipe rescales) cut to the tile and kept when at least min_area pixels and
    min_visibility of them remain, or the bounding boxes of the ids of the mask as tiled (the
    mask files, rescaled by nearest neighbour when the recipe rescales) inside the image."""
    problems = []
    spec = recipe["labels"]["objects"]
    min_area, min_vis = float(spec.get("min_area", 1)), float(spec.get("min_visibility", 0.25))
    policy = spec.get("geometry", "error")
    fold = (lambda v: " ".join(v.split()).casefold()) if spec.get("match") == "case_insensitive" else (lambda v: v)
    ids = {fold(n): int(i) for i, n in zip(f["classes"]["id"][()], class_names)}
    g = f["boxes"]
    offsets, xyxy, cls, inst = g["offsets"][()], g["xyxy"][()], g["class_id"][()], g["instance_id"][()]
    issues = set(manifest["objects"]["issues"])
    for s, rel in enumerate(paths):
        width, height = (int(f["sources"][k][s]) for k in ("width", "height"))
        # Annotations are in the file's pixels; with rescale they scale with the image (recipe spec §9).
        file_width, file_height = ((int(f["sources"][k][s]) for k in ("original_width", "original_height"))
                                   if "original_width" in f["sources"] else (width, height))
        sx, sy = width / file_width, height / file_height
        masks = None
        if spec.get("derive_boxes"):
            masks = tiled_masks[s]
            boxes = []
        else:
            boxes = []
            for label, b, ref, file, degenerate in annotated_boxes(spec, root, rel, (file_width, file_height)):
                outside = b[0] < 0 or b[1] < 0 or b[2] > file_width or b[3] > file_height
                if degenerate or (outside and policy != "clip"):
                    what = "zero-area" if degenerate else "partly outside the image"
                    if not any(i.startswith(f"{file}: {ref} ({label}): {what}") and i.endswith("; dropped") for i in issues):
                        problems.append(f"{file}: {ref} ({label}) is {what} but the manifest's objects.issues does not list it")
                    continue
                if outside:
                    b = [max(b[0], 0), max(b[1], 0), min(b[2], file_width), min(b[3], file_height)]
                boxes.append((ids[fold(label)], [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy]))
        for i in np.flatnonzero(tiles["source"] == s):
            x, y, w, h = (int(tiles[k][i]) for k in ("x", "y", "width", "height"))
            want = []
            if masks is not None:
                tile = np.zeros((h, w), dtype=np.uint32)
                vh, vw = min(h, height - y), min(w, width - x)
                tile[:vh, :vw] = masks[y:y + vh, x:x + vw]
                cid = ids.get(fold(spec.get("instance_class", "")), -1)
                for u in np.unique(tile):
                    if u == 0:
                        continue
                    ys, xs = np.nonzero(tile == u)
                    want.append((cid, int(u), [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]))
            for cid, b in boxes:
                c = [max(b[0] - x, 0), max(b[1] - y, 0), min(b[2] - x, w), min(b[3] - y, h)]
                area = max(0, c[2] - c[0]) * max(0, c[3] - c[1])
                if area >= min_area and area / ((b[2] - b[0]) * (b[3] - b[1])) >= min_vis:
                    want.append((cid, -1, c))
            got = [(int(cls[k]), int(inst[k]), list(xyxy[k])) for k in range(offsets[i], offsets[i + 1])]
            want = [(c, u, list(np.asarray(b, dtype=np.float32))) for c, u, b in want]
            if got != want:
                problems.append(f"tile {i} ({rel} at x={x}, y={y}): boxes {got} differ from the annotations' {want}")
    return problems


def instance_mask(recipe: dict, root: pathlib.Path, rel: str, shape) -> np.ndarray:
    """Instance ids 1..n in sorted file-name order of the per-object mask files."""
    spec = recipe["labels"]["instance_masks"]
    stem = pathlib.PurePosixPath(rel).stem
    if "objects_dir" in spec:
        directory = root / spec["objects_dir"].replace("{stem}", stem)
        out = np.zeros(shape, dtype=np.uint32)
        for i, path in enumerate(sorted(p for p in directory.iterdir() if p.is_file()), start=1):
            out[np.asarray(Image.open(path)) != 0] = i
        return out
    return read_image(root / spec["file"].replace("{stem}", stem), None)[0].astype(np.uint32)


if __name__ == "__main__":
    sys.exit(main())
