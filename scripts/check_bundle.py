#!/usr/bin/env python3
"""Independent checker for trainset bundles (specs/bundle-format/v1.md), merged bundles included.

Re-implements, with h5py and numpy only, the structural checks of the spec and the content-hash
definition, so that CI can confirm the Swift writer and validator against a second
implementation built on a different HDF5 (h5py ships its own) and a different zlib.

Usage: check_bundle.py BUNDLE [BUNDLE ...]
Prints one line per problem (prefixed with the bundle path) and exits 1 if any bundle has a
problem; prints "<bundle>: OK <content hash>" and exits 0 otherwise.
"""

import hashlib
import json
import os
import re
import sys

import h5py
import numpy as np

FORMAT_NAME = "trainset-bundle"
PIXEL_DTYPES = ("uint8", "uint16", "float32")
DTYPE_NAMES = {
    np.dtype("uint8"): "uint8",
    np.dtype("uint16"): "uint16",
    np.dtype("uint32"): "uint32",
    np.dtype("int32"): "int32",
    np.dtype("int64"): "int64",
    np.dtype("float32"): "float32",
    np.dtype("float64"): "float64",
}
TABLES = {
    "/tiles": [("source", "int32"), ("x", "int64"), ("y", "int64"), ("width", "int32"), ("height", "int32"),
               ("valid_width", "int32"), ("valid_height", "int32"), ("label", "int32")],
    "/classes": [("id", "int32"), ("name", "string")],
    "/sources": [("path", "string"), ("sha256", "string"), ("key", "string"), ("width", "int64"),
                 ("height", "int64"), ("channels", "int32"), ("label", "int32")],
}
# Per-tile ragged groups (spec 4.4): besides `offsets` (int64, N + 1), each dataset's dtype, the
# width of its second dimension (None for 1-D) and the level of rows it holds.
RAGGED = {
    "/boxes": [("xyxy", "float32", 4, "object"), ("class_id", "int32", None, "object"),
               ("instance_id", "int64", None, "object")],
    "/points": [("xy", "float32", 2, "object"), ("class_id", "int32", None, "object"),
                ("instance_id", "int64", None, "object")],
    "/polygons": [("class_id", "int32", None, "object"), ("instance_id", "int64", None, "object"),
                  ("ring_count", "int32", None, "object"), ("vertex_count", "int32", None, "ring"),
                  ("xy", "float32", 2, "vertex")],
    "/image_labels": [("class_id", "int32", None, "object")],
}
HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_LISTED = 5


def dtype_name(ds):
    """The spec's dtype name for a dataset, or a descriptive name for anything else."""
    info = h5py.check_string_dtype(ds.dtype)
    if info is not None:
        if info.length is None and info.encoding == "utf-8":
            return "string"
        return f"other-string({info.encoding},{info.length})"
    # Compare without byte order: the name says what the values are, not how they are stored.
    return DTYPE_NAMES.get(ds.dtype.newbyteorder("="), f"other({ds.dtype})")


def scalar_str(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return scalar_str(value[()])
    return value if isinstance(value, str) else None


def str_list(value):
    if isinstance(value, np.ndarray) and value.ndim == 1:
        out = [scalar_str(v) for v in value]
        return out if all(isinstance(v, str) for v in out) else None
    return None


def filters_of(ds):
    """Filter names as this checker understands them."""
    names = []
    if ds.shuffle:
        names.append("shuffle")
    if ds.compression == "gzip":
        names.append("deflate")
    if ds.fletcher32:
        names.append("fletcher32")
    return names


def block_rows(ds):
    if ds.chunks:
        return ds.chunks[0]
    row = int(np.prod(ds.shape[1:])) if len(ds.shape) > 1 else 1
    return max(1, (4 << 20) // max(1, row))


def canonical_bytes(ds, dtype, block):
    """Canonical bytes of one block of rows (or of a scalar dataset when block is None)."""
    if dtype == "string":
        values = ds.asstr()[()] if block is None else ds.asstr()[block]
        values = [values] if isinstance(values, str) else list(values)
        out = bytearray()
        for v in values:
            b = v.encode("utf-8")
            out += len(b).to_bytes(4, "little") + b
        return bytes(out)
    data = ds[()] if block is None else ds[block]
    arr = np.ascontiguousarray(np.asarray(data), dtype=np.dtype(dtype).newbyteorder("<"))
    return arr.tobytes(order="C")


def all_datasets(f):
    paths = []
    f.visititems(lambda name, obj: paths.append("/" + name) if isinstance(obj, h5py.Dataset) else None)
    return sorted(paths, key=lambda p: p.encode("utf-8"))


class Checker:
    def __init__(self, path):
        self.path = path
        self.problems = []
        # Virtual tile arrays: (dataset, shard file, (first row, end row)), and those not to hash
        # because a source is missing (HDF5 would read it as zeros).
        self.virtual_sources = []
        self.unreadable = set()

    def problem(self, text):
        self.problems.append(text)

    def rows(self, where, rows, what):
        if rows:
            shown = ", ".join(str(r) for r in rows[:MAX_LISTED])
            more = f" and {len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
            self.problem(f"{where}: {len(rows)} row(s) {what} (rows {shown}{more})")

    def attr_str(self, obj, name, label):
        if name not in obj.attrs:
            self.problem(f"{label}: required attribute is missing")
            return None
        value = scalar_str(obj.attrs[name])
        if value is None:
            self.problem(f"{label}: must be a scalar string")
        return value

    def check_storage(self, ds, chunks, label=None):
        label = label or ds.name
        if ds.is_virtual:
            self.check_virtual(ds, chunks)
            return
        if ds.chunks != tuple(chunks):
            self.problem(f"{label}: chunk shape is {ds.chunks}, expected {tuple(chunks)}")
        self.check_filters(ds, label)

    def check_filters(self, ds, label=None):
        f = filters_of(ds)
        if "deflate" not in f or "fletcher32" not in f:
            self.problem(f"{label or ds.name}: filters are {f}, they must include deflate and fletcher32")

    def check_virtual(self, ds, chunks):
        """A merged bundle's tile array (bundle format §13.2): each mapping maps a whole shard
        dataset of the same path onto the next rows, from an existing file named relative to the
        bundle, whose dataset is stored as §4 requires."""
        directory = os.path.dirname(os.path.abspath(self.path))
        rest = tuple(ds.shape[1:])
        following = 0
        for i, m in enumerate(ds.virtual_sources()):
            name = m.file_name.replace("%%", "%")
            start, end = m.vspace.get_select_bounds()
            count = tuple(e - s + 1 for s, e in zip(start, end))
            src_start, src_end = m.src_space.get_select_bounds()
            src_count = tuple(e - s + 1 for s, e in zip(src_start, src_end))
            whole = m.vspace.get_select_npoints() == int(np.prod(count)) and m.src_space.get_select_npoints() == int(np.prod(src_count))
            if (not whole or start[0] != following or any(start[1:]) or count[1:] != rest or any(src_start)
                    or src_count != count or m.dset_name != ds.name or name.startswith("/") or name == "."):
                self.problem(f"{ds.name}: virtual mapping {i} ({name}:{m.dset_name}) must map a whole shard dataset of the same "
                             f"path, from a file named relative to the bundle, onto rows {following}…")
                self.unreadable.add(ds.name)
                continue
            rows = (start[0], start[0] + count[0])
            following = rows[1]
            self.virtual_sources.append((ds.name, name, rows))
            target = os.path.normpath(os.path.join(directory, name))
            if not os.path.exists(target):
                self.problem(f"{ds.name}: rows {rows[0]}..<{rows[1]} come from shard file {name}, which is missing (looked for {target})")
                self.unreadable.add(ds.name)
                continue
            with h5py.File(target, "r") as shard:
                source = shard.get(ds.name)
                if not isinstance(source, h5py.Dataset):
                    self.problem(f"{name}:{ds.name}: missing")
                    self.unreadable.add(ds.name)
                    continue
                if dtype_name(source) != dtype_name(ds) or source.shape != count:
                    self.problem(f"{name}:{ds.name}: is {dtype_name(source)} {source.shape}, the mapping expects {dtype_name(ds)} {count}")
                self.check_storage(source, chunks, label=f"{name}:{ds.name}")
        if following != ds.shape[0]:
            self.problem(f"{ds.name}: rows {following}..<{ds.shape[0]} are mapped to no shard file")

    def run(self):
        try:
            f = h5py.File(self.path, "r")
        except OSError as e:
            self.problem(f"cannot open the file: {e}")
            return None
        with f:
            return self.check(f)

    def check(self, f):
        # Root attributes.
        fmt = self.attr_str(f, "trainset_format", "/@trainset_format")
        if fmt is not None and fmt != FORMAT_NAME:
            self.problem(f'/@trainset_format: is "{fmt}", expected "{FORMAT_NAME}"')
        version = self.attr_str(f, "format_version", "/@format_version")
        if version is not None and not re.fullmatch(r"1\.\d+\.\d+", version):
            self.problem(f'/@format_version: version "{version}" is not supported (expected 1.x.y)')
        stored_hash = self.attr_str(f, "content_hash", "/@content_hash")
        if stored_hash is not None and not HASH_RE.match(stored_hash):
            self.problem(f'/@content_hash: "{stored_hash}" is not "sha256:" followed by 64 lower-case hex digits')

        # Images and masks.
        shape = None
        images = f.get("/images")
        if not isinstance(images, h5py.Dataset):
            self.problem("/images: required dataset is missing")
        elif images.ndim != 4 or dtype_name(images) not in PIXEL_DTYPES:
            self.problem(f"/images: must be 4-D uint8, uint16 or float32, found {dtype_name(images)} {images.shape}")
        else:
            shape = images.shape
            n, c, h, w = shape
            self.check_storage(images, (1, c, h, w))
            axes = self.attr_str(images, "axes", "/images@axes")
            if axes is not None and axes != "NCHW":
                self.problem(f'/images@axes: is "{axes}", expected "NCHW"')
            if "channel_names" not in images.attrs:
                self.problem("/images@channel_names: required attribute is missing")
            else:
                names = str_list(images.attrs["channel_names"])
                if names is None or len(names) != c:
                    self.problem(f"/images@channel_names: must be {c} strings, found {images.attrs['channel_names']!r}")
            for path, dt in (("/masks/instance", "uint32"), ("/masks/semantic", "uint16")):
                ds = f.get(path)
                if ds is None:
                    continue
                if not isinstance(ds, h5py.Dataset):
                    self.problem(f"{path}: must be a dataset")
                    continue
                if dtype_name(ds) != dt:
                    self.problem(f"{path}: dtype is {dtype_name(ds)}, expected {dt}")
                if ds.shape != (n, h, w):
                    self.problem(f"{path}: shape is {ds.shape}, expected {(n, h, w)}")
                self.check_storage(ds, (1, h, w))

        # Tables.
        tables = {}
        for tpath, required in TABLES.items():
            g = f.get(tpath)
            if not isinstance(g, h5py.Group):
                self.problem(f"{tpath}: required table (group) is missing")
                continue
            if "columns" not in g.attrs:
                self.problem(f"{tpath}@columns: required attribute is missing")
                continue
            names = str_list(g.attrs["columns"])
            if names is None:
                self.problem(f"{tpath}@columns: must be a 1-D string array")
                continue
            ok = True
            for i, (cname, _) in enumerate(required):
                if i >= len(names) or names[i] != cname:
                    found = names[i] if i < len(names) else "no column"
                    self.problem(f"{tpath}@columns: column {i} must be {cname}, found {found} (columns: {', '.join(names)})")
                    ok = False
                    break
            for extra in sorted(set(g.keys()) - set(names)):
                self.problem(f"{tpath}/{extra}: is not listed in {tpath}@columns")
            length = None
            columns = {}
            for cname in names:
                cpath = f"{tpath}/{cname}"
                ds = g.get(cname)
                if not isinstance(ds, h5py.Dataset):
                    self.problem(f"{cpath}: required dataset is missing")
                    ok = False
                    continue
                if ds.ndim != 1:
                    self.problem(f"{cpath}: must be 1-D, has shape {ds.shape}")
                    ok = False
                    continue
                dt = dtype_name(ds)
                want = dict(required).get(cname)
                if want is not None and dt != want:
                    self.problem(f"{cpath}: dtype is {dt}, expected {want}")
                    ok = False
                elif dt not in ("int32", "int64", "float64", "string"):
                    self.problem(f"{cpath}: dtype is {dt}, expected int32, int64, float64 or string")
                    ok = False
                if ds.chunks is None:
                    self.problem(f"{cpath}: must be chunked")
                elif dt != "string":
                    self.check_filters(ds)
                if length is not None and ds.shape[0] != length:
                    self.problem(f"{cpath}: has {ds.shape[0]} rows, {tpath}/{names[0]} has {length}")
                    ok = False
                length = ds.shape[0] if length is None else length
                if ok:
                    try:
                        columns[cname] = list(ds.asstr()[()]) if dt == "string" else ds[()]
                    except OSError as e:
                        self.problem(f"{cpath}: cannot be read ({e})")
                        ok = False
            if ok:
                tables[tpath] = columns

        if all(t in tables for t in TABLES):
            self.check_table_content(tables, shape)
        ragged_rows = {}
        if shape is not None and "/classes" in tables:
            ragged_rows = self.check_ragged(f, shape, {int(v) for v in tables["/classes"]["id"]})

        # Digests and content hash.
        digests = {}
        complete = True
        for p in all_datasets(f):
            if p == "/manifest":
                continue
            if p in self.unreadable:
                self.problem(f"{p}: not hashed: some of its data is in shard files that are missing or unusable")
                complete = False
                continue
            ds = f[p]
            dt = dtype_name(ds)
            if dt.startswith("other"):
                self.problem(f"{p}: dtype {dt} is not one of the bundle format's types")
                complete = False
                continue
            sha = hashlib.sha256()
            if ds.shape == ():
                sha.update(canonical_bytes(ds, dt, None))
            else:
                step = block_rows(ds)
                for start in range(0, ds.shape[0], step):
                    stop = min(ds.shape[0], start + step)
                    try:
                        sha.update(canonical_bytes(ds, dt, slice(start, stop)))
                    except OSError as e:
                        tile = p == "/images" or p.startswith("/masks/")
                        which = f"tile {start}" if tile and stop - start == 1 else f"rows {start}..<{stop}"
                        # h5py reports a failed Fletcher-32 check as a generic filter failure.
                        self.problem(f"{p}: {which}: cannot be read (checksum or decompression failure: {e})")
                        complete = False
            digests[p] = {"path": p, "dtype": dt, "shape": list(ds.shape), "sha256": sha.hexdigest()}
        recomputed = None
        if complete:
            lines = "".join(
                f"{d['path']}\t{d['dtype']}\t{'x'.join(str(n) for n in d['shape'])}\t{d['sha256']}\n"
                for d in sorted(digests.values(), key=lambda d: d["path"].encode("utf-8")))
            recomputed = "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()
            if stored_hash is not None and stored_hash != recomputed:
                self.problem(f"/@content_hash: {stored_hash} differs from the hash recomputed from the data ({recomputed})")

        self.check_manifest(f, stored_hash, recomputed, digests if complete else None, shape, tables, ragged_rows)
        return recomputed

    def check_ragged(self, f, shape, class_ids):
        """Offsets, dtypes and shapes, class ids, coordinates inside the tile; rows per group."""
        n, _, h, w = shape
        rows_of = {}
        for gpath, spec in RAGGED.items():
            g = f.get(gpath)
            if g is None:
                continue
            if not isinstance(g, h5py.Group):
                self.problem(f"{gpath}: must be a group")
                continue
            data, ok = {}, True
            for name, dt, width, _ in [("offsets", "int64", None, "object")] + spec:
                ds = g.get(name)
                path = f"{gpath}/{name}"
                if not isinstance(ds, h5py.Dataset):
                    self.problem(f"{path}: required dataset is missing")
                    ok = False
                    continue
                want_shape_ok = ds.ndim == (1 if width is None else 2) and (width is None or ds.shape[1] == width)
                if dtype_name(ds) != dt or not want_shape_ok:
                    self.problem(f"{path}: must be {dt} of shape [rows{'' if width is None else f', {width}'}], "
                                 f"found {dtype_name(ds)} {ds.shape}")
                    ok = False
                    continue
                if ds.chunks is None:
                    self.problem(f"{path}: must be chunked")
                else:
                    self.check_filters(ds)
                data[name] = ds[()]
            if not ok:
                continue
            levels = {}
            for name, _, _, level in spec:
                levels.setdefault(level, set()).add(len(data[name]))
            if any(len(v) != 1 for v in levels.values()):
                self.problem(f"{gpath}: datasets of one level differ in length {levels}")
                continue
            rows = levels["object"].pop()
            off = data["offsets"]
            if len(off) != n + 1:
                self.problem(f"{gpath}/offsets: has {len(off)} entries, expected N + 1 = {n + 1}")
                continue
            if off[0] != 0 or off[-1] != rows or np.any(np.diff(off) < 0):
                self.problem(f"{gpath}/offsets: must start at 0, never decrease and end at the {rows} rows of the group")
                continue
            cls = data["class_id"]
            self.rows(f"{gpath}/class_id", [i for i, c in enumerate(cls) if c != -1 and int(c) not in class_ids],
                      "hold a class id that is neither -1 nor in /classes/id")

            def outside(xy):
                xy = xy.astype(np.float64)
                return ~(np.isfinite(xy).all(axis=1) & (xy[:, 0] >= 0) & (xy[:, 1] >= 0) & (xy[:, 0] <= w) & (xy[:, 1] <= h))
            if gpath == "/boxes":
                b = data["xyxy"]
                bad = outside(b[:, :2]) | outside(b[:, 2:]) | (b[:, 0] > b[:, 2]) | (b[:, 1] > b[:, 3])
                self.rows(f"{gpath}/xyxy", list(np.flatnonzero(bad)),
                          f"are not finite boxes inside the {w}x{h} tile with xMin <= xMax and yMin <= yMax")
            elif gpath in ("/points", "/polygons"):
                self.rows(f"{gpath}/xy", list(np.flatnonzero(outside(data["xy"]))),
                          f"are not finite {'points' if gpath == '/points' else 'vertices'} inside the {w}x{h} tile")
            if gpath == "/polygons":
                rc, vc = data["ring_count"], data["vertex_count"]
                self.rows(f"{gpath}/ring_count", list(np.flatnonzero(rc < 1)), "give a polygon no ring")
                self.rows(f"{gpath}/vertex_count", list(np.flatnonzero(vc < 3)), "give a ring fewer than 3 vertices")
                if int(rc.sum()) != len(vc):
                    self.problem(f"{gpath}/ring_count: adds up to {int(rc.sum())} rings, {gpath}/vertex_count has {len(vc)}")
                if int(vc.sum()) != len(data["xy"]):
                    self.problem(f"{gpath}/vertex_count: adds up to {int(vc.sum())} vertices, {gpath}/xy has {len(data['xy'])}")
            if gpath == "/image_labels":
                self.rows(f"{gpath}/class_id", [t for t in range(n) if np.any(np.diff(cls[off[t]:off[t + 1]]) <= 0)],
                          "of tiles (listed by tile) are not ascending without repeats")
            rows_of[gpath] = rows
        return rows_of

    def check_table_content(self, tables, shape):
        tiles, classes, sources = tables["/tiles"], tables["/classes"], tables["/sources"]
        ntiles = len(tiles["label"])
        if shape is not None and ntiles != shape[0]:
            self.problem(f"/tiles: has {ntiles} rows, /images has {shape[0]} tiles")
        ids = [int(v) for v in classes["id"]]
        seen = set()
        self.rows("/classes/id", [i for i, v in enumerate(ids) if v in seen or seen.add(v)], "repeat a class id")
        self.rows("/classes/id", [i for i, v in enumerate(ids) if v < 0], "have a negative class id")
        valid = set(ids)
        label = [int(v) for v in tiles["label"]]
        self.rows("/tiles/label", [i for i, v in enumerate(label) if v != -1 and v not in valid],
                  "have a label that is neither -1 nor an id in /classes/id")
        self.rows("/sources/label", [i for i, v in enumerate(sources["label"]) if v != -1 and int(v) not in valid],
                  "have a label that is neither -1 nor an id in /classes/id")
        nsources = len(sources["path"])
        src = [int(v) for v in tiles["source"]]
        bad = [i for i, s in enumerate(src) if s < 0 or s >= nsources]
        self.rows("/tiles/source", bad, f"refer to no row of /sources (0..<{nsources})")
        if shape is not None:
            self.rows("/tiles/width", [i for i, v in enumerate(tiles["width"]) if v != shape[3]],
                      f"differ from the tile width {shape[3]}")
            self.rows("/tiles/height", [i for i, v in enumerate(tiles["height"]) if v != shape[2]],
                      f"differ from the tile height {shape[2]}")
        outside, wrong = [], []
        for i in range(ntiles):
            if i in bad:
                continue
            sw, sh = int(sources["width"][src[i]]), int(sources["height"][src[i]])
            x, y = int(tiles["x"][i]), int(tiles["y"][i])
            if x < 0 or y < 0 or x >= sw or y >= sh:
                outside.append(i)
                continue
            ew, eh = min(int(tiles["width"][i]), sw - x), min(int(tiles["height"][i]), sh - y)
            if int(tiles["valid_width"][i]) != ew or int(tiles["valid_height"][i]) != eh:
                wrong.append(i)
        self.rows("/tiles/x", outside, "place the tile's top-left corner outside its source image")
        self.rows("/tiles/valid_width", wrong,
                  "have valid_width/valid_height different from the tile's overlap with its source image")

    def check_manifest(self, f, stored_hash, recomputed, digests, shape, tables, ragged_rows):
        ds = f.get("/manifest")
        if not isinstance(ds, h5py.Dataset):
            self.problem("/manifest: required dataset is missing")
            return
        if dtype_name(ds) != "string" or ds.shape != ():
            self.problem(f"/manifest: must be a scalar variable-length string, found {dtype_name(ds)} {ds.shape}")
            return
        text = ds.asstr()[()]
        version = f.attrs.get("format_version")
        minor = int(version.split(".")[1]) if isinstance(version, str) and re.fullmatch(r"1\.\d+\.\d+", version) else 0
        if "manifest_sha256" in f.attrs:
            actual = hashlib.sha256(text.encode("utf-8")).hexdigest()
            if f.attrs["manifest_sha256"] != actual:
                self.problem(f"/manifest: its text has SHA-256 {actual}, /@manifest_sha256 says {f.attrs['manifest_sha256']}")
        elif minor >= 1:
            self.problem("/@manifest_sha256: required since format 1.1.0, missing")
        try:
            m = json.loads(text)
        except ValueError as e:
            self.problem(f"/manifest: is not valid JSON: {e}")
            return
        fmt = m.get("format", {})
        if fmt.get("name") != FORMAT_NAME or not re.fullmatch(r"1\.\d+\.\d+", str(fmt.get("version"))):
            self.problem(f"/manifest: format is {fmt}, expected {FORMAT_NAME} 1.x.y")
        mh = m.get("content_hash")
        if stored_hash is not None and mh != stored_hash:
            self.problem(f"/manifest: content_hash {mh} differs from the root attribute content_hash {stored_hash}")
        if recomputed is not None and mh != recomputed:
            self.problem(f"/manifest: content_hash {mh} differs from the hash recomputed from the data {recomputed}")
        if digests is not None:
            listed = {d.get("path"): d for d in m.get("datasets", [])}
            for p, d in digests.items():
                if p not in listed:
                    self.problem(f"{p}: is not listed in /manifest datasets")
                elif listed[p] != d:
                    self.problem(f"{p}: manifest digest {listed[p]} differs from the data {d}")
            for p in sorted(set(listed) - set(digests)):
                self.problem(f"{p}: is listed in /manifest datasets but does not exist")
        objects = m.get("objects")
        if objects is not None:
            for gpath in ("/boxes", "/points", "/polygons"):
                if objects.get(gpath[1:]) != ragged_rows.get(gpath, 0):
                    self.problem(f"/manifest: objects.{gpath[1:]} is {objects.get(gpath[1:])}, "
                                 f"{gpath} has {ragged_rows.get(gpath, 0)} rows")
        counts = m.get("counts", {})
        self.check_merge(m, counts)
        if shape is not None and counts.get("tiles") != shape[0]:
            self.problem(f"/manifest: counts.tiles is {counts.get('tiles')}, /images has {shape[0]} tiles")
        if "/sources" in tables and counts.get("sources") != len(tables["/sources"]["path"]):
            self.problem(f"/manifest: counts.sources is {counts.get('sources')}, "
                         f"/sources has {len(tables['/sources']['path'])} rows")
        if "/tiles" in tables and "/classes" in tables:
            labels = [int(v) for v in tables["/tiles"]["label"]]
            if counts.get("unlabeled_tiles") != labels.count(-1):
                self.problem(f"/manifest: counts.unlabeled_tiles is {counts.get('unlabeled_tiles')}, "
                             f"/tiles/label has {labels.count(-1)} tiles with -1")
            per_class = {c.get("id"): c for c in counts.get("per_class", [])}
            for cid, name in zip(tables["/classes"]["id"], tables["/classes"]["name"]):
                entry = per_class.get(int(cid))
                if entry is None:
                    self.problem(f"/manifest: counts.per_class has no entry for class {cid} ({name})")
                    continue
                if entry.get("name") != name:
                    self.problem(f'/manifest: counts.per_class names class {cid} "{entry.get("name")}", '
                                 f'/classes/name says "{name}"')
                if entry.get("tiles") != labels.count(int(cid)):
                    self.problem(f"/manifest: counts.per_class gives class {cid} ({name}) {entry.get('tiles')} tiles, "
                                 f"/tiles/label has {labels.count(int(cid))}")


    def check_merge(self, m, counts):
        merge = m.get("merge")
        if merge is None:
            if self.virtual_sources:
                self.problem(f"{self.virtual_sources[0][0]}: is virtual, but /manifest has no merge member")
            return
        tile = source = 0
        for i, part in enumerate(merge.get("shards", [])):
            if part.get("index") != i or part.get("first_tile") != tile or part.get("first_source") != source:
                self.problem(f"/manifest: merge.shards[{i}] is not shard {i} at tile {tile}, source {source}")
            tile = part.get("first_tile", 0) + part.get("tiles", 0)
            source = part.get("first_source", 0) + part.get("sources", 0)
        if tile != counts.get("tiles") or source != counts.get("sources"):
            self.problem(f"/manifest: merge.shards hold {tile} tiles and {source} sources, counts say "
                         f"{counts.get('tiles')} and {counts.get('sources')}")
        if merge.get("layout") != "virtual":
            if self.virtual_sources:
                self.problem(f"{self.virtual_sources[0][0]}: is virtual, but merge.layout is {merge.get('layout')}")
            return
        parts = {part.get("file"): part for part in merge.get("shards", [])}
        directory = os.path.dirname(os.path.abspath(self.path))
        for dataset, name, rows in self.virtual_sources:
            part = parts.get(name)
            if part is None:
                self.problem(f"{dataset}: shard file {name} is not listed in /manifest merge.shards")
                continue
            if rows != (part["first_tile"], part["first_tile"] + part["tiles"]):
                self.problem(f"{dataset}: rows {rows[0]}..<{rows[1]} come from {name}, which holds shard {part['index']}'s tiles")
            target = os.path.normpath(os.path.join(directory, name))
            if os.path.exists(target):
                with h5py.File(target, "r") as shard:
                    if scalar_str(shard.attrs.get("content_hash")) != part.get("content_hash"):
                        self.problem(f"{name}: content hash differs from the one recorded for shard {part['index']} in merge.shards")


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    deflate = h5py.h5z.filter_avail(h5py.h5z.FILTER_DEFLATE)
    failed = False
    for path in argv[1:]:
        checker = Checker(path)
        content_hash = checker.run()
        for p in checker.problems:
            print(f"{path}: {p}")
        if checker.problems:
            failed = True
            print(f"{path}: INVALID ({len(checker.problems)} problems)")
        else:
            print(f"{path}: OK {content_hash} (read with h5py {h5py.__version__}, HDF5 {h5py.version.hdf5_version}, "
                  f"built-in deflate {'available' if deflate else 'MISSING'})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
