"""Writes dsb-8b12e186.coco.json: the 7 DSB 2018 nuclei of image 8b12e186… as a COCO file.

Independent of trainset: boxes and RLE are computed here with numpy from the mask PNGs, the
compressed RLE strings with pycocotools' algorithm (rleToString) re-written in Python.
Annotations with an odd index use compressed counts, the others uncompressed lists.
Run from this folder: python3 make_coco_fixture.py /path/to/shared/data
"""
import json, os, sys
import numpy as np
from PIL import Image

def rle_counts(mask):
    flat = mask.flatten(order="F").astype(np.uint8)   # column-major, as COCO
    counts, prev, run = [], 0, 0
    for v in flat:
        if v != prev:
            counts.append(run); run = 0; prev = v
        run += 1
    counts.append(run)
    return counts

def rle_string(counts):
    out = []
    for i, x in enumerate(counts):
        if i > 2: x -= counts[i - 2]
        more = True
        while more:
            c = x & 0x1f; x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more: c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)

root = sys.argv[1]
image_id = "8b12e18670e4b24d03567d1e17c0c24fadf0ea2c1e763983dd6bb4c44b7376a6"
mask_dir = os.path.join(root, "dsb2018-nuclei-instance-masks/stage1_train", image_id, "masks")
anns = []
for k, name in enumerate(sorted(os.listdir(mask_dir))):
    m = np.array(Image.open(os.path.join(mask_dir, name))) > 0
    if m.ndim == 3: m = m.any(axis=2)
    ys, xs = np.nonzero(m)
    bbox = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
    counts = rle_counts(m)
    seg = {"size": [m.shape[0], m.shape[1]], "counts": rle_string(counts) if k % 2 else counts}
    anns.append({"id": 100 + k, "image_id": 1, "category_id": 1, "bbox": bbox, "area": int(m.sum()),
                 "iscrowd": 1 if k % 2 else 0, "segmentation": seg})
# One polygon annotation (a triangle) to cover COCO's polygon form.
anns.append({"id": 200, "image_id": 1, "category_id": 2, "bbox": [10.0, 20.0, 30.0, 40.0], "area": 600.0,
             "iscrowd": 0, "segmentation": [[10.0, 20.0, 40.0, 20.0, 10.0, 60.0]]})
doc = {"info": {"description": "DSB 2018 (BBBC038v1, CC0) image 8b12e186 as COCO, made by make_coco_fixture.py"},
       "images": [{"id": 1, "file_name": image_id + ".png", "width": 256, "height": 256}],
       "categories": [{"id": 1, "name": "nucleus"}, {"id": 2, "name": "triangle"}],
       "annotations": anns}
with open("dsb-8b12e186.coco.json", "w") as f:
    json.dump(doc, f, indent=1)
