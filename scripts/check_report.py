#!/usr/bin/env python3
"""Checks `trainset report` in a real browser: headless Chromium renders the page, and the
screenshot must contain the thumbnails of the first contact-sheet row pixel for pixel (found by
searching the screenshot, so the check does not depend on fonts or layout).

Usage: check_report.py TRAINSET BUNDLE
"""
import base64
import io
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

TOLERANCE = 2  # colour management may move a channel by a level or two


def find(screen: np.ndarray, patch: np.ndarray) -> bool:
    """Whether `patch` occurs in `screen` (both H x W x 3 int arrays) within TOLERANCE."""
    h, w = patch.shape[:2]
    # Anchor on the patch pixel farthest from the page background, so few candidates match.
    distance = np.abs(patch - 255).sum(axis=2)
    ay, ax = np.unravel_index(np.argmax(distance), distance.shape)
    anchor = patch[ay, ax]
    ys, xs = np.nonzero(np.all(np.abs(screen - anchor) <= TOLERANCE, axis=2))
    for y, x in zip(ys - ay, xs - ax):
        if 0 <= y and 0 <= x and y + h <= screen.shape[0] and x + w <= screen.shape[1]:
            if np.abs(screen[y:y + h, x:x + w] - patch).max() <= TOLERANCE:
                return True
    return False


def main() -> int:
    trainset, bundle = sys.argv[1], sys.argv[2]
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("check_report: chromium not found; install Debian's chromium package (scripts/setup.sh does)")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        page = pathlib.Path(tmp) / "report.html"
        shot = pathlib.Path(tmp) / "shot.png"
        subprocess.run([trainset, "report", bundle, "-o", str(page), "--per-class", "4"], check=True, capture_output=True)
        html = page.read_text()
        rows = re.findall(r"<div class=row>(.*?)</div>\n", html)
        first_row = next((r for r in rows if "<img" in r), "")
        thumbs = [np.asarray(Image.open(io.BytesIO(base64.b64decode(b))).convert("RGB")).astype(int)
                  for b in re.findall(r'src="data:image/png;base64,([^"]+)"', first_row)]
        if not thumbs:
            print(f"{bundle}: the report has no thumbnails")
            return 1
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--screenshot={shot}", "--window-size=1400,1000", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
        screen = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    missing = [i for i, t in enumerate(thumbs) if not find(screen, t)]
    if missing:
        print(f"{bundle}: thumbnails {missing} of the first row are not in the browser's screenshot")
        return 1
    print(f"{bundle}: report renders in Chromium; all {len(thumbs)} thumbnails of the first row found in the screenshot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
