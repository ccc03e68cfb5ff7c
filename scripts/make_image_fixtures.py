#!/usr/bin/env python3
"""Image fixtures for the ImageFormats tests, and the independent reference they are checked against.

    make_image_fixtures.py              write the fixture images into Tests/Fixtures/images/
    make_image_fixtures.py --reference  write Tests/Fixtures/images/reference.json
    make_image_fixtures.py --check      recompute the reference and compare it with the committed one

The reference records, for every fixture and for the real images in ../shared/data, the shape (as
channels, height, width), dtype and SHA-256 of the pixels as the Python ecosystem reads them, in
planar order, little-endian:

- TIFF: tifffile. Page 0, except ImageJ channel stacks (channels=N, one slice, one frame) and
  OME-TIFF with SizeC > 1 and SizeZ = SizeT = 1, where tifffile.imread's (C, H, W) series is used.
  For single-page files the script asserts that tifffile.imread gives the same pixels.
- PNG: np.asarray(PIL.Image.open()); a bool array (mode "1") as uint8 0/1. 16-bit grey+alpha, RGB
  and RGBA come from imagecodecs.png_decode instead, because Pillow truncates those to 8 bits.
- JPEG: np.asarray(PIL.Image.open()).
- Palette images also get a "rgb" entry: the colour map applied (TIFF: 16-bit entries used as they
  are when all are <= 255, else >> 8; PNG: Image.convert("RGB")).

Needs numpy, tifffile, Pillow and imagecodecs.
"""

import hashlib
import json
import struct
import sys
import warnings
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import imagecodecs
import numpy as np
import PIL
import tifffile
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests" / "Fixtures" / "images"
SHARED = REPO.parent / "shared"
REFERENCE = FIXTURES / "reference.json"

W, H = 64, 48


# ---------------------------------------------------------------------------------------------
# Deterministic content


def gradient(dtype, channels=1, width=W, height=H, seed=0):
    """A smooth image plus a little noise, so lossy codecs have something realistic to do."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = []
    for c in range(channels):
        base = (x / width * 0.6 + y / height * 0.3 + 0.1 * c) % 1.0
        planes.append(base + rng.uniform(-0.05, 0.05, size=(height, width)))
    a = np.clip(np.stack(planes, axis=-1), 0, 1)
    if dtype == np.float32:
        out = (a * 1000 - 200).astype(np.float32)
    else:
        out = (a * np.iinfo(dtype).max).astype(dtype)
    return out[..., 0] if channels == 1 else out


# ---------------------------------------------------------------------------------------------
# A minimal PNG writer, for what Pillow cannot write (bit depths below 8, 16-bit colour, Adam7)


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _pack_rows(a, bits, samples):
    """Rows of `a` (H, W[, S]) as PNG scanline bytes, without filter bytes."""
    if bits == 16:
        return [r.astype(">u2").tobytes() for r in a]
    if bits == 8:
        return [r.astype(np.uint8).tobytes() for r in a]
    rows = []
    per = 8 // bits
    for r in a:
        b = bytearray((len(r) * bits + 7) // 8)
        for x, v in enumerate(r):
            b[x // per] |= int(v) << (8 - bits * (x % per + 1))
        rows.append(bytes(b))
    return rows


def write_png(path, a, bits, color_type, palette=None, trns=None, interlace=False):
    h, w = a.shape[:2]
    samples = 1 if a.ndim == 2 else a.shape[2]
    if interlace:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        raw = b""
        for x0, y0, dx, dy in passes:
            sub = a[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += b"".join(b"\0" + r for r in _pack_rows(sub, bits, samples))
    else:
        raw = b"".join(b"\0" + r for r in _pack_rows(a, bits, samples))
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, color_type, 0, 0, int(interlace)))
    if palette is not None:
        out += _chunk(b"PLTE", bytes(palette))
    if trns is not None:
        out += _chunk(b"tRNS", bytes(trns))
    out += _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    Path(path).write_bytes(out)


def write_tiny_tiff(path, width, height):
    """A valid little-endian TIFF header whose one strip claims width x height uint8 pixels."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8 + 2 + 12 * 9 + 4), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHII", tag, typ, count, value) if typ == 4 else struct.pack("<HHIHH", tag, typ, count, value, 0)
    Path(path).write_bytes(b"II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + bytes(range(16)))


# ---------------------------------------------------------------------------------------------
# Fixtures


APERIO = "Aperio Image Library v12.0.15 \n"
# The "text" drawn on the label: a value the main image never holds, so a test can prove that
# no label pixel reached a bundle.
LABEL_INK = 3


def write_slide_with_associated_images(path):
    """An Aperio-SVS-like slide: the tiled full-resolution image, a thumbnail, one pyramid
    level, then the label and macro images that on real slides can show a patient's name. Only
    page 0 is the image; trainset must never read the others as pixels."""
    main = np.clip(gradient(np.uint8, 3, 64, 48, seed=5), 8, 255).astype(np.uint8)
    label = np.full((24, 32, 3), 250, np.uint8)
    label[8:16, 4:28] = LABEL_INK
    macro = np.full((24, 64, 3), 240, np.uint8)
    macro[4:20, 40:60] = LABEL_INK
    with tifffile.TiffWriter(path) as t:
        t.write(main, photometric="rgb", tile=(16, 16),
                description=APERIO + "64x48 [0,0 64x48] (16x16) RAW|AppMag = 20|MPP = 0.5", subfiletype=0)
        t.write(main[::4, ::4].copy(), photometric="rgb", description=APERIO + "64x48 -> 16x12 - |AppMag = 20", subfiletype=0)
        t.write(main[::2, ::2].copy(), photometric="rgb", tile=(16, 16),
                description=APERIO + "64x48 [0,0 64x48] -> 32x24 (16x16) RAW|AppMag = 20", subfiletype=1)
        t.write(label, photometric="rgb", description=APERIO + "label 32x24", subfiletype=1)
        t.write(macro, photometric="rgb", description=APERIO + "macro 64x24", subfiletype=9)
    # A file whose only image page is a label must be refused, not exported.
    with tifffile.TiffWriter(path.with_name("bad_label_only.tif")) as t:
        t.write(label, photometric="rgb", description=APERIO + "label 32x24", subfiletype=1)


def make_fixtures():
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for old in FIXTURES.iterdir():
        if old.name != "reference.json":
            old.unlink()
    f = FIXTURES
    imw = tifffile.imwrite

    # Sample types, channels, layouts
    imw(f / "u8_gray.tif", gradient(np.uint8))
    imw(f / "u16_gray.tif", gradient(np.uint16))
    imw(f / "f32_gray.tif", gradient(np.float32))
    imw(f / "u8_rgb_contig.tif", gradient(np.uint8, 3), photometric="rgb")
    imw(f / "u16_rgb_planar.tif", np.moveaxis(gradient(np.uint16, 3), -1, 0), photometric="rgb", planarconfig="separate")
    imw(f / "u8_rgba_contig.tif", gradient(np.uint8, 4), photometric="rgb", extrasamples=["unassalpha"])
    imw(f / "u8_2ch_contig.tif", gradient(np.uint8, 2), photometric="minisblack", planarconfig="contig")
    imw(f / "f32_3ch_planar.tif", np.moveaxis(gradient(np.float32, 3), -1, 0), photometric="minisblack", planarconfig="separate")
    imw(f / "u16_strips7.tif", gradient(np.uint16), rowsperstrip=7)
    imw(f / "u8_rgb_strips5_lzw.tif", gradient(np.uint8, 3), photometric="rgb", rowsperstrip=5, compression="lzw")
    # Tiles: 50x40 is not a multiple of 16, so edge tiles are padded.
    imw(f / "u16_tiled.tif", gradient(np.uint16, width=50, height=40), tile=(16, 16))
    imw(f / "u8_rgb_tiled_contig.tif", gradient(np.uint8, 3, 50, 40), photometric="rgb", tile=(16, 16), compression="zlib")
    imw(f / "u16_rgb_tiled_planar.tif", np.moveaxis(gradient(np.uint16, 3, 50, 40), -1, 0), photometric="rgb",
        planarconfig="separate", tile=(16, 32), compression="lzw", predictor=True)
    imw(f / "f32_tiled_float_predictor.tif", gradient(np.float32, width=50, height=40), tile=(16, 16),
        compression="zlib", predictor=3)
    # Compressions
    imw(f / "u16_lzw.tif", gradient(np.uint16), compression="lzw")
    imw(f / "u16_lzw_predictor.tif", gradient(np.uint16), compression="lzw", predictor=True)
    imw(f / "u8_rgb_lzw_predictor.tif", gradient(np.uint8, 3), photometric="rgb", compression="lzw", predictor=True)
    imw(f / "u16_adobe_deflate.tif", gradient(np.uint16), compression="zlib")
    imw(f / "u16_deflate.tif", gradient(np.uint16), compression="deflate")
    imw(f / "u8_packbits.tif", gradient(np.uint8), compression="packbits")
    imw(f / "u16_zstd.tif", gradient(np.uint16), compression="zstd")
    imw(f / "u16_lzma.tif", gradient(np.uint16), compression="lzma")
    imw(f / "f32_zlib_float_predictor.tif", gradient(np.float32), compression="zlib", predictor=3)
    imw(f / "u8_rgb_webp.tif", gradient(np.uint8, 3), photometric="rgb", compression="webp", compressionargs={"lossless": True})
    imw(f / "u8_rgb_jpeg_ycbcr.tif", gradient(np.uint8, 3), photometric="rgb", compression="jpeg")
    imw(f / "u8_gray_jpeg.tif", gradient(np.uint8), compression="jpeg")
    imw(f / "u8_rgb_jpeg_tiled.tif", gradient(np.uint8, 3, 50, 40), photometric="rgb", tile=(16, 16), compression="jpeg")
    # Byte order, BigTIFF, pages
    imw(f / "u16_bigendian.tif", gradient(np.uint16), byteorder=">")
    imw(f / "f32_bigendian_lzw.tif", gradient(np.float32), byteorder=">", compression="lzw")
    imw(f / "u16_bigtiff.tif", gradient(np.uint16), bigtiff=True)
    imw(f / "u8_multipage.tif", np.stack([gradient(np.uint8, seed=s) for s in range(3)]), photometric="minisblack")
    imw(f / "u16_imagej_channels.tif", np.stack([gradient(np.uint16, seed=s) for s in range(3)]), imagej=True,
        metadata={"axes": "CYX"}, resolution=(1 / 0.5, 1 / 0.5), resolutionunit="NONE")
    imw(f / "u16_imagej_zc.tif", np.stack([gradient(np.uint16, seed=s) for s in range(4)]).reshape(2, 2, H, W),
        imagej=True, metadata={"axes": "ZCYX"})
    imw(f / "u16_ome_channels.ome.tif", np.stack([gradient(np.uint16, seed=s) for s in range(2)]), ome=True,
        metadata={"axes": "CYX", "UUID": "urn:uuid:00000000-0000-4000-8000-000000000001",
                  "Channel": {"Name": ["DAPI", "GFP"]}, "PhysicalSizeX": 0.325,
                  "PhysicalSizeY": 0.325})
    # Photometric interpretations
    index = (gradient(np.uint8) // 32).astype(np.uint8)
    ramp = np.arange(256, dtype=np.uint16)
    imw(f / "u8_palette.tif", index, photometric="palette",
        colormap=np.stack([ramp * 257, (255 - ramp) * 257, (ramp // 2) * 257]))
    imw(f / "u8_palette_8bit_colormap.tif", index, photometric="palette",
        colormap=np.stack([ramp, 255 - ramp, ramp // 2]))
    imw(f / "u8_miniswhite.tif", gradient(np.uint8), photometric="miniswhite")

    # A 64-megapixel image in a few KB, for region reads that must not decode the whole image:
    # every 512x512 tile is constant (its tile index), except tile (row 7, column 9), a gradient.
    big = np.repeat(np.repeat(np.arange(256, dtype=np.uint8).reshape(16, 16), 512, axis=0), 512, axis=1)
    big[7 * 512:8 * 512, 9 * 512:10 * 512] = (np.arange(512 * 512) % 251).reshape(512, 512).astype(np.uint8)
    imw(f / "region_large_tiled.tif", big, tile=(512, 512), compression="zstd")

    write_slide_with_associated_images(f / "wsi_associated.tif")

    # Unsupported TIFFs
    imw(f / "bad_int16.tif", gradient(np.uint16).astype(np.int16))
    imw(f / "bad_bilevel.tif", gradient(np.uint8) > 128)
    imw(f / "bad_jpeg2000.tif", gradient(np.uint8), compression="jpeg2000")
    imw(f / "bad_float64.tif", gradient(np.float32, width=16, height=8).astype(np.float64))
    # Damaged TIFFs
    data = (f / "u16_lzw.tif").read_bytes()
    (f / "bad_truncated.tif").write_bytes(data[: len(data) // 2])
    with tifffile.TiffFile(f / "u16_lzw.tif") as t:
        offset = t.pages[0].dataoffsets[0]
    corrupt = bytearray(data)
    corrupt[offset:offset + 64] = bytes((i * 37 + 11) % 256 for i in range(64))
    (f / "bad_corrupt_lzw.tif").write_bytes(bytes(corrupt))
    write_tiny_tiff(f / "bad_huge_dimensions.tif", 100000, 100000)

    # PNG
    Image.fromarray(gradient(np.uint8)).save(f / "gray8.png")
    Image.fromarray(gradient(np.uint16)).save(f / "gray16.png")
    Image.fromarray(gradient(np.uint8, 3)).save(f / "rgb8.png")
    Image.fromarray(gradient(np.uint8, 4)).save(f / "rgba8.png")
    Image.fromarray(gradient(np.uint8, 2), mode="LA").save(f / "gray_alpha8.png")
    write_png(f / "rgb16.png", gradient(np.uint16, 3), 16, 2)
    write_png(f / "rgba16.png", gradient(np.uint16, 4), 16, 6)
    write_png(f / "gray_alpha16.png", gradient(np.uint16, 2), 16, 4)
    pal = Image.fromarray(index, mode="P")
    pal.putpalette([v for i in range(256) for v in (i, 255 - i, i // 2)])
    pal.save(f / "palette8.png")
    write_png(f / "palette4_trns.png", index % 16, 4, 3, palette=[v for i in range(16) for v in (i * 16, 200, 255 - i * 16)],
              trns=[255, 0, 128])
    for bits in (1, 2, 4):
        write_png(f / f"gray{bits}.png", (gradient(np.uint8) >> (8 - bits)).astype(np.uint8), bits, 0)
    write_png(f / "rgb8_interlaced.png", gradient(np.uint8, 3, 37, 29), 8, 2, interlace=True)
    data = (f / "rgb8.png").read_bytes()
    (f / "bad_truncated.png").write_bytes(data[: len(data) // 2])
    (f / "bad_huge_dimensions.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))

    # JPEG
    Image.fromarray(gradient(np.uint8)).save(f / "gray.jpg", quality=90)
    Image.fromarray(gradient(np.uint8, 3)).save(f / "rgb420.jpg", quality=90)
    Image.fromarray(gradient(np.uint8, 3)).save(f / "rgb444.jpg", quality=90, subsampling=0)
    Image.fromarray(gradient(np.uint8, 3, 37, 29)).save(f / "rgb_progressive.jpg", quality=85, progressive=True)
    Image.fromarray(gradient(np.uint8, 4), mode="RGBA").convert("CMYK").save(f / "bad_cmyk.jpg")
    data = (f / "rgb420.jpg").read_bytes()
    (f / "bad_truncated.jpg").write_bytes(data[: len(data) // 2])
    sof = data.index(b"\xff\xc0")
    (f / "bad_huge_dimensions.jpg").write_bytes(data[:sof + 5] + struct.pack(">HH", 60000, 60000) + data[sof + 9:])

    # Not an image at all
    (f / "bad_random.bin").write_bytes(bytes((i * 7919 + 13) % 251 for i in range(512)))


# ---------------------------------------------------------------------------------------------
# Reference


def chw(a, axes):
    """`a` with axes `axes` (tifffile letters) as (C, H, W)."""
    if a.dtype == bool:
        a = a.astype(np.uint8)
    if a.ndim == 2:
        return a[None]
    channel = next(i for i, letter in enumerate(axes) if letter in "SC")
    return np.moveaxis(a, channel, 0)


def tiff_colormap_rgb(cmap, indices):
    table = cmap.astype(np.uint8) if cmap.max() <= 255 else (cmap >> 8).astype(np.uint8)
    return table[:, indices[0]]


def tiff_pixels(path):
    """(array CHW, source, colour map or None) as specified in the module docstring."""
    with tifffile.TiffFile(path) as t:
        page = t.pages[0]
        cmap = page.colormap if page.photometric == tifffile.PHOTOMETRIC.PALETTE else None
        channel_pages = False
        if t.is_ome:
            pixels = ET.fromstring(t.pages[0].description).find(".//{*}Image/{*}Pixels")
            size = {k: int(pixels.get("Size" + k, 1)) for k in "CZT"}
            channel_pages = size["C"] > 1 and size["Z"] == 1 and size["T"] == 1 and page.samplesperpixel == 1
        elif t.is_imagej:
            ij = t.imagej_metadata
            channel_pages = (ij.get("channels", 1) > 1 and ij.get("slices", 1) <= 1 and ij.get("frames", 1) <= 1
                             and page.samplesperpixel == 1)
        if channel_pages:
            series = t.series[0]
            assert series.axes == "CYX", series.axes
            return series.asarray(), "tifffile.imread", cmap
        a = chw(page.asarray(), page.axes)
        if len(t.pages) == 1:
            assert np.array_equal(chw(tifffile.imread(path), t.series[0].axes), a)
            return a, "tifffile.imread", cmap
        return a, "tifffile page 0", cmap


def png_header(path):
    head = Path(path).read_bytes()[:26]
    return head[24], head[25]  # bit depth, colour type


def pixels_of(path):
    """[(palette mode, array CHW, source)] for one image file."""
    magic = Path(path).read_bytes()[:4]
    if magic[:2] in (b"II", b"MM"):
        a, source, cmap = tiff_pixels(path)
        out = [("indices", a, source)]
        if cmap is not None:
            out.append(("rgb", tiff_colormap_rgb(cmap, a), source + " + colour map"))
        return out
    with Image.open(path) as im:
        if magic == b"\x89PNG":
            bits, color_type = png_header(path)
            if bits == 16 and color_type in (2, 4, 6):
                return [("indices", chw(imagecodecs.png_decode(Path(path).read_bytes()), "YXS"), "imagecodecs.png_decode")]
            out = [("indices", chw(np.asarray(im), "YXS"), "Pillow")]
            if im.mode == "P":
                # Pillow warns that a palette with tRNS "should be converted to RGBA"; the alpha is ignored on purpose.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    rgb = np.asarray(im.convert("RGB"))
                out.append(("rgb", chw(rgb, "YXS"), "Pillow convert('RGB')"))
            return out
        return [("indices", chw(np.asarray(im), "YXS"), "Pillow")]


def entry(root, rel, path):
    rows = []
    for palette, a, source in pixels_of(path):
        le = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False)
        rows.append({"root": root, "path": rel, "palette": palette, "shape": list(a.shape), "dtype": str(a.dtype),
                     "sha256": hashlib.sha256(le.tobytes()).hexdigest(), "source": source})
    return rows


def shared_images():
    data = SHARED / "data"
    dsb = sorted((data / "dsb2018-nuclei-instance-masks" / "stage1_train").glob("*"))
    paths = []
    for sample in dsb:
        paths += sorted((sample / "images").glob("*.png"))
        paths += sorted((sample / "masks").glob("*.png"))[:2]
    paths += sorted((data / "bccd-blood-cell-boxes" / "BCCD" / "JPEGImages").glob("*.jpg"))
    paths += sorted((data / "ome-tiff-aics-zeiss").glob("*.tif*"))
    paths += sorted(p for p in (data / "unlabeled-real-tiffs").rglob("*") if p.suffix.lower() in (".tif", ".tiff"))
    return paths


def build_reference(require_shared=True):
    rows = []
    for path in sorted(FIXTURES.iterdir()):
        if path.name == "reference.json" or path.name.startswith(("bad_", "region_")):
            continue
        rows += entry("fixtures", path.name, path)
    if (SHARED / "data").is_dir():
        for path in shared_images():
            rows += entry("shared", str(path.relative_to(SHARED)), path)
    elif require_shared:
        sys.exit(f"{SHARED / 'data'} is missing: the reference covers the shared data too")
    return {"generator": {"numpy": np.__version__, "tifffile": tifffile.__version__, "Pillow": PIL.__version__,
                          "imagecodecs": imagecodecs.__version__},
            "entries": rows}


def main(argv):
    if argv == []:
        make_fixtures()
    elif argv == ["--reference"]:
        REFERENCE.write_text(json.dumps(build_reference(), indent=1, sort_keys=True) + "\n")
    elif argv == ["--check"]:
        committed = json.loads(REFERENCE.read_text())["entries"]
        fresh = build_reference(require_shared=False)["entries"]
        if not (SHARED / "data").is_dir():
            # A checkout without the shared data can still check every committed fixture; say
            # loudly what was not checked rather than fail or pass silently.
            skipped = [r for r in committed if r["root"] == "shared"]
            committed = [r for r in committed if r["root"] != "shared"]
            print(f"SKIPPED {len(skipped)} reference entries of {SHARED / 'data'}: directory not found")
        key = lambda r: (r["root"], r["path"], r["palette"])
        old, new = {key(r): r for r in committed}, {key(r): r for r in fresh}
        problems = [f"missing from reference.json: {k}" for k in sorted(new.keys() - old.keys())]
        problems += [f"no longer produced: {k}" for k in sorted(old.keys() - new.keys())]
        problems += [f"differs: {k}: {old[k]} != {new[k]}" for k in sorted(old.keys() & new.keys())
                     if {f: old[k][f] for f in ("shape", "dtype", "sha256")} != {f: new[k][f] for f in ("shape", "dtype", "sha256")}]
        if problems:
            print("\n".join(problems))
            sys.exit(1)
        print(f"reference.json matches: {len(fresh)} entries")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
