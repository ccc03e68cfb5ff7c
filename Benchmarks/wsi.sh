#!/usr/bin/env bash
# A whole-slide image larger than memory (issue 9): generates a SIDE x SIDE tiled BigTIFF
# (2-channel uint16, 256² deflated tiles, smooth content; Benchmarks/make_slide.py) with a
# uint16 instance-label TIFF, and exports it with 256² tiles, reflect edges, deflate level 1.
# The source is read by regions (specs/recipe/v1.md §7.1); prints wall and CPU time and peak RSS
# (GNU time: the export and its supervised child) against the decoded size.
#
#   Benchmarks/wsi.sh [SIDE] [--no-mask]     (default 40000; data in $BENCH_WORK/wsi-SIDE, reused)
#   TRAINSET_BIN=.build/debug/trainset Benchmarks/wsi.sh   # skip the release build
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
side="${1:-40000}"
mask=1
[ "${2:-}" = --no-mask ] && mask=0
work="${BENCH_WORK:-$here/.work}"
data="$work/wsi-$side"
mkdir -p "$data/data/masks"
if [ ! -x /usr/bin/time ]; then apt-get update -qq && apt-get install -y -qq time >/dev/null; fi
if [ ! -f "$data/data/slide.tif" ]; then
  args=("$data/data/slide.tif" --width "$side" --height "$side" --channels 2 --dtype uint16 --bigtiff)
  [ "$mask" = 1 ] && args+=(--mask "$data/data/masks/slide.tif")
  /usr/bin/time -f "generated in %e s, peak %M KB" python3 "$here/make_slide.py" "${args[@]}" >&2
fi
if [ -z "${TRAINSET_BIN:-}" ]; then
  (cd "$repo" && swift build -c release --product trainset >&2)
  TRAINSET_BIN="$repo/.build/release/trainset"
fi
masks=""
[ -f "$data/data/masks/slide.tif" ] && [ "$mask" = 1 ] && masks=$'labels:\n  instance_masks: {file: "masks/{stem}.tif"}'
cat > "$data/recipe.yaml" <<YAML
recipe_version: 1
dataset: {name: wsi-$side, version: 1.0.0, description: A generated whole-slide image., license: CC0-1.0}
seed: 40
inputs: {root: data, images: "slide.tif"}
$masks
tiling: {size: 256, stride: 256, edge: reflect}
output: {path: out/wsi.h5, deflate_level: 1}
YAML
/usr/bin/time -f "%e %U %S %M" -o "$data/time" "$TRAINSET_BIN" export "$data/recipe.yaml" --overwrite --quiet > /dev/null
read -r wall user sys rss < "$data/time"
decoded=$(python3 -c "print(round($side * $side * (2 * 2 + 4 * $mask) / 2**20))")
tiles=$(python3 -c "import json; print(json.load(open('$data/out/wsi.h5.manifest.json'))['counts']['tiles'])")
echo "| image | file MB | decoded MiB | tiles | wall s | CPU s | peak RSS MB | bundle MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
printf "| %s² × 2 uint16%s | %d | %d | %d | %.1f | %.1f | %d | %d |\n" "$side" "$([ "$mask" = 1 ] && echo ' + uint16 mask')" \
  "$(( ($(stat -c %s "$data/data/slide.tif") + $( [ "$mask" = 1 ] && stat -c %s "$data/data/masks/slide.tif" || echo 0)) / 1000000 ))" \
  "$decoded" "$tiles" "$wall" "$(python3 -c "print($user + $sys)")" "$(( rss / 1024 ))" \
  "$(( $(stat -c %s "$data/out/wsi.h5") / 1000000 ))"
