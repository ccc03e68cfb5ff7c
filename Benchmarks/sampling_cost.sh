#!/usr/bin/env bash
# What sampling and rescaling cost (specs/recipe/v1.md §8–§9): `trainset export --plan-only` and
# the full export of the issue-9 dataset (Benchmarks/generate_dataset.py, N 2048x2048 2-channel
# uint16 images with instance masks) with each option added to Benchmarks/recipe.yaml.
#
#   Benchmarks/sampling_cost.sh [N]      (default 8; data in $BENCH_WORK/sampling-nN, reused)
#
# The foreground filter is evaluated in planning: a mask filter reads every mask once more, an
# Otsu filter decodes every image once more. This script measures that against the plain plan.
# Prints a Markdown table (wall and CPU seconds and peak RSS from GNU time).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
count="${1:-8}"
work="${BENCH_WORK:-$here/.work}"
data="$work/sampling-n$count"
if [ ! -x /usr/bin/time ]; then apt-get update -qq && apt-get install -y -qq time >/dev/null; fi
[ -f "$data/DATASET.json" ] || python3 "$here/generate_dataset.py" "$data" --count "$count" >&2
(cd "$repo" && swift build -c release --product trainset >&2)
bin="$repo/.build/release/trainset"

declare -A extra=(
  [plain]=""
  [mask]=$'sampling:\n  foreground: {mask: instance, min_fraction: 0.05}'
  [otsu]=$'sampling:\n  foreground: {otsu: bright, min_fraction: 0.05}'
  [balance]=$'sampling:\n  balance: {per_class: 40, per_group: 10}'
  [random]=$'sampling:\n  random_tiles: 16'
  [rescale]=$'rescale: {pixel_size: 2, source_pixel_size: 1}'
)
echo "| recipe adds | step | tiles | wall s | CPU s | peak RSS MB |"
echo "|---|---|---:|---:|---:|---:|"
for name in plain mask otsu balance random rescale; do
  recipe="$data/recipe-$name.yaml"
  { cat "$data/recipe.yaml"; printf '%s\n' "${extra[$name]}"; } > "$recipe"
  for step in plan export; do
    args=(export "$recipe" --output "$data/out/$name.h5" --overwrite --quiet)
    [ "$step" = plan ] && args+=(--plan-only)
    /usr/bin/time -f "%e %U %S %M" -o "$data/time" "$bin" "${args[@]}" > "$data/stdout"
    read -r wall user sys rss < "$data/time"
    if [ "$step" = plan ]; then
      tiles=$(python3 -c "import json; print(json.load(open('$data/stdout'))['tiles'])")
    else
      tiles=$(python3 -c "import h5py; print(h5py.File('$data/out/$name.h5')['images'].shape[0])")
    fi
    echo "| ${name} | ${step} | ${tiles} | ${wall} | $(python3 -c "print(round($user + $sys, 2))") | $((rss / 1024)) |"
  done
done
