#!/usr/bin/env bash
# Issue 7: what sharding costs. Exports the issue-9 dataset (N generated images, 2048² × 2 uint16,
# Benchmarks/recipe.yaml) once in one process and once as S shards run one after another (what S
# array tasks do, minus the parallelism), then merges the shards virtually and by copying, and
# validates the merged bundle. Prints a Markdown block of wall/CPU seconds, peak memory and sizes.
#
#   Benchmarks/shard_merge.sh [N] [S]        (defaults 8 and 4)
#
# Reuses the data of Benchmarks/run.sh ($BENCH_WORK/nN, default Benchmarks/.work).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
count=${1:-8}
shards=${2:-4}
work="${BENCH_WORK:-$here/.work}"
data="$work/n$count"
out="$work/shards-$count-$shards"

if [ ! -x /usr/bin/time ]; then apt-get update -qq && apt-get install -y -qq time >/dev/null; fi
generator_sha="$(sha256sum "$here/generate_dataset.py" | cut -d' ' -f1)"
if ! python3 -c "import json,sys; d=json.load(open('$data/DATASET.json')); sys.exit(d['count']!=$count or d['generator_sha256']!='$generator_sha')" 2>/dev/null; then
  echo "generating $count images into $data" >&2
  rm -rf "$data"
  python3 "$here/generate_dataset.py" "$data" --count "$count"
fi
cp "$here/recipe.yaml" "$data/recipe.yaml"
echo "building trainset (release)" >&2
(cd "$repo" && swift build -c release --product trainset 2>&1 | grep -E "error|warning:" >&2 || true)
trainset="$repo/.build/release/trainset"

rm -rf "$out"; mkdir -p "$out"
timed() { local name=$1; shift; /usr/bin/time -f "%e %U %S %M" -o "$out/$name.time" "$@" >/dev/null; }
timed single "$trainset" export "$data/recipe.yaml" --output "$out/single.h5" --quiet
timed plan "$trainset" plan "$data/recipe.yaml" --shards "$shards" --output "$out/plan.json" --quiet
for i in $(seq 0 $((shards - 1))); do
  timed "shard-$i" "$trainset" export "$data/recipe.yaml" --shard "$i/$shards" --plan "$out/plan.json" \
    --output "$out/m.shards/m-$i.h5" --quiet
done
timed merge-virtual "$trainset" merge "$out"/m.shards/m-*.h5 --output "$out/virtual.h5" --quiet
timed merge-copy "$trainset" merge "$out"/m.shards/m-*.h5 --output "$out/copy.h5" --copy --quiet
timed validate-virtual "$trainset" validate "$out/virtual.h5"
timed validate-single "$trainset" validate "$out/single.h5"

python3 - "$out" "$count" "$shards" <<'EOF'
import glob, json, os, re, subprocess, sys
out, count, shards = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def t(name):
    wall, user, system, rss = open(f"{out}/{name}.time").read().split()
    return float(wall), float(user) + float(system), int(rss) / 1024
def mb(path): return os.path.getsize(path) / 1e6
cpu = re.search(r"model name\s*: (.*)", open("/proc/cpuinfo").read()).group(1)
load = open("/proc/loadavg").read().split()[0]
print(f"{count} images of 2048² × 2 uint16 (Benchmarks/recipe.yaml), {shards} shards; {os.cpu_count()} cores ({cpu}), "
      f"load {load} at the end; release build")
print()
print("| step | wall s | CPU s | peak MB | output MB |")
print("|---|---:|---:|---:|---:|")
w, c, m = t("single"); print(f"| single-process export | {w:.1f} | {c:.1f} | {m:.0f} | {mb(f'{out}/single.h5'):.1f} |")
w, c, m = t("plan"); print(f"| `plan` (hashes every input, reads every header) | {w:.1f} | {c:.1f} | {m:.0f} | |")
parts = [t(f"shard-{i}") for i in range(shards)]
sizes = sum(mb(p) for p in glob.glob(f"{out}/m.shards/m-*.h5"))
print(f"| {shards} shard exports, one after another (sum) | {sum(p[0] for p in parts):.1f} | {sum(p[1] for p in parts):.1f} | "
      f"{max(p[2] for p in parts):.0f} | {sizes:.1f} |")
print(f"| slowest shard (the array's wall time with {shards} nodes) | {max(p[0] for p in parts):.1f} | "
      f"{max(p[1] for p in parts):.1f} | | |")
w, c, m = t("merge-virtual"); print(f"| `merge` (virtual) | {w:.1f} | {c:.1f} | {m:.0f} | {mb(f'{out}/virtual.h5'):.2f} |")
w, c, m = t("merge-copy"); print(f"| `merge --copy` | {w:.1f} | {c:.1f} | {m:.0f} | {mb(f'{out}/copy.h5'):.1f} |")
w, c, m = t("validate-virtual"); print(f"| `validate` merged (virtual) | {w:.1f} | {c:.1f} | {m:.0f} | |")
w, c, m = t("validate-single"); print(f"| `validate` single | {w:.1f} | {c:.1f} | {m:.0f} | |")
EOF
for b in single virtual copy; do echo "$b $("$trainset" validate "$out/$b.h5" | tail -1)"; done
