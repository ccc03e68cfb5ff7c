#!/usr/bin/env bash
# What objects cost in an export (issue 3): the same job with and without boxes.
#
#   Benchmarks/objects_overhead.sh [N]
#
# Generates N (default 4) images of the issue 9 dataset (2048x2048, 2 channels, uint16, an instance
# label TIFF each) into $BENCH_WORK/objects-nN, then exports Benchmarks/recipe.yaml as it is and
# with `labels.objects.derive_boxes: true` (a box per nucleus in every tile), and the bccd-boxes
# sample with its VOC boxes, its CSV boxes and without labels. Each export runs 3 times; the best
# CPU seconds (user + sys) and peak RSS are printed. Release build; the machine is shared, so CPU
# seconds are the number to trust, not wall time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
count="${1:-4}"
work="${BENCH_WORK:-$here/.work}/objects-n$count"
mkdir -p "$work"
[ -f "$work/DATASET.json" ] || python3 "$here/generate_dataset.py" "$work" --count "$count" >/dev/null
cp "$here/recipe.yaml" "$work/recipe.yaml"
python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
s = open(f"{w}/recipe.yaml").read()
t = s.replace('    file: "masks/{stem}.tif"\n', '    file: "masks/{stem}.tif"\n  objects:\n    derive_boxes: true\n')
assert t != s, "Benchmarks/recipe.yaml no longer has the instance mask line this script extends"
open(f"{w}/recipe-boxes.yaml", "w").write(t)
PY
sed -e '/^labels:/,/min_visibility/d' -e "s|root: data|root: $repo/samples/bccd-boxes/data|" \
  "$repo/samples/bccd-boxes/recipe.yaml" > "$work/bccd-noobj.yaml"
(cd "$repo" && swift build -c release --product trainset 2>&1 | grep -E "error|warning:" >&2 || true)
trainset="$repo/.build/release/trainset"
for recipe in "$work/recipe.yaml" "$work/recipe-boxes.yaml" "$work/bccd-noobj.yaml" \
              "$repo/samples/bccd-boxes/recipe.yaml" "$repo/samples/bccd-boxes/recipe-csv.yaml"; do
  best="" rss=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%U %S %M" -o "$work/time.txt" "$trainset" export "$recipe" --output "$work/out.h5" --overwrite --quiet >/dev/null
    read -r user sys peak < "$work/time.txt"
    cpu=$(python3 -c "print(round($user + $sys, 2))")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(not ($cpu < $best))"; then best=$cpu rss=$peak; fi
  done
  rows=$(python3 -c "import h5py; f = h5py.File('$work/out.h5'); print(f['images'].shape[0], f['boxes/offsets'][-1] if 'boxes' in f else 0)")
  echo "$(basename "$(dirname "$recipe")")/$(basename "$recipe"): tiles, boxes = $rows; best CPU ${best} s, peak RSS ${rss} KB"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
