#!/usr/bin/env bash
# Issue 9 side-by-side run: trainset (release) vs the Python peer on the same generated data.
#
#   Benchmarks/run.sh [N] [--augmented-peer]
#
# N (default 24) images are generated once into $BENCH_WORK/nN (default Benchmarks/.work, ignored
# by git) and reused while the generator and N are unchanged. Both tools then export the same
# data, one after the other, with warm page cache (the generator just wrote the files, and the
# first tool's read warms them for the second anyway). Each run is wrapped in /usr/bin/time -v.
#
# `trainset export` runs Benchmarks/recipe.yaml, the issue's full job (4 augmented variants per
# tile, deflate 1 + shuffle) with one worker thread per core. The peer always runs its
# tiles-only job (`--no-augment`); with --augmented-peer it also runs its full job, the like-for-like
# comparison whose ratio the results print.
#
# Prints a Markdown results block (machine facts + table) and writes it to $BENCH_WORK/results-N.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
count=24
augmented=0
for arg in "$@"; do
  case "$arg" in
    --augmented-peer) augmented=1 ;;
    ''|*[!0-9]*) echo "usage: $0 [N] [--augmented-peer]" >&2; exit 2 ;;
    *) count="$arg" ;;
  esac
done
work="${BENCH_WORK:-$here/.work}"
data="$work/n$count"
out="$work/out-$count"

# Tools: GNU time for peak RSS and CPU seconds; the peer's Python packages.
if [ ! -x /usr/bin/time ]; then apt-get update -qq && apt-get install -y -qq time >/dev/null; fi
python3 -c "import cv2, h5py, tifffile, numpy" 2>/dev/null || python3 -m pip install -q -r "$here/requirements.txt"

# Data, once per (generator version, N).
generator_sha="$(sha256sum "$here/generate_dataset.py" | cut -d' ' -f1)"
if ! python3 -c "import json,sys; d=json.load(open('$data/DATASET.json')); sys.exit(d['count']!=$count or d['generator_sha256']!='$generator_sha')" 2>/dev/null; then
  echo "generating $count images into $data" >&2
  rm -rf "$data"
  python3 "$here/generate_dataset.py" "$data" --count "$count"
fi
cp "$here/recipe.yaml" "$data/recipe.yaml"   # the recipe may have changed since the data was made

echo "building trainset (release)" >&2
(cd "$repo" && swift build -c release --product trainset 2>&1 | grep -E "error|warning:" >&2 || true)
trainset="$repo/.build/release/trainset"

rm -rf "$out"; mkdir -p "$out"
sync
echo "trainset export" >&2
cut -d" " -f1 /proc/loadavg > "$out/load-trainset.txt"
/usr/bin/time -v -o "$out/time-trainset.txt" "$trainset" export "$data/recipe.yaml" --output "$out/trainset.h5" --quiet
echo "peer --no-augment" >&2
cut -d" " -f1 /proc/loadavg > "$out/load-peer.txt"
/usr/bin/time -v -o "$out/time-peer.txt" python3 "$here/peer_export.py" "$data" "$out/peer.h5" --no-augment \
  > "$out/peer-stats.json"
if [ "$augmented" = 1 ]; then
  echo "peer (augmented, 4 variants)" >&2
  cut -d" " -f1 /proc/loadavg > "$out/load-peer-aug.txt"
  /usr/bin/time -v -o "$out/time-peer-aug.txt" python3 "$here/peer_export.py" "$data" "$out/peer-aug.h5" \
    > "$out/peer-aug-stats.json"
fi

python3 - "$data" "$out" "$count" <<'EOF' | tee "$work/results-$count.md"
import datetime, json, os, platform, re, subprocess, sys
import h5py
data, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

def gnu_time(path):
    text = open(path).read()
    get = lambda key: re.search(re.escape(key) + r": (.*)", text).group(1).strip()
    clock = [float(p) for p in get("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")]
    wall = sum(v * 60 ** i for i, v in enumerate(reversed(clock)))
    return wall, float(get("User time (seconds)")) + float(get("System time (seconds)")), int(get("Maximum resident set size (kbytes)")) / 1024

input_bytes = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(data)
                  for f in files if f.endswith((".tif", ".csv")))
cpu = re.search(r"model name\s*: (.*)", open("/proc/cpuinfo").read()).group(1)
print(f"N = {count} images of 2048×2048×2 uint16 ({input_bytes / 1e6:.0f} MB of TIFF + CSV input), "
      f"{datetime.date.today().isoformat()}, `nproc` = {os.cpu_count()}, {cpu}, "
      f"Python {platform.python_version()}, warm page cache.\n")
print("| run | tiles | wall s | tiles/s | input MB/s | CPU s | peak RSS MB | output MB | load at start |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
rows = [(f"trainset export ({os.cpu_count()} workers, 4 augmented variants)", "trainset.h5", "time-trainset.txt", None,
         "load-trainset.txt"),
        ("peer --no-augment (2 workers)", "peer.h5", "time-peer.txt", "peer-stats.json", "load-peer.txt"),
        ("peer, 4 augmented variants (2 workers)", "peer-aug.h5", "time-peer-aug.txt", "peer-aug-stats.json",
         "load-peer-aug.txt")]
results = {}
for name, h5, timing, stats, load in rows:
    if not os.path.exists(os.path.join(out, timing)):
        continue
    wall, cpu_s, rss = gnu_time(os.path.join(out, timing))
    with h5py.File(os.path.join(out, h5)) as f:
        tiles = f["images"].shape[0]
    size = os.path.getsize(os.path.join(out, h5))
    rss_text = f"{rss:.0f}"
    if stats:
        total = json.load(open(os.path.join(out, stats)))["sum_peak_rss_mb"]
        rss_text += f" (Σ processes {total:.0f})"
    results[h5] = (tiles / wall, size)
    print(f"| {name} | {tiles} | {wall:.1f} | {tiles / wall:.1f} | {input_bytes / 1e6 / wall:.1f} | {cpu_s:.1f} | {rss_text} | {size / 1e6:.1f} | {open(os.path.join(out, load)).read().strip()} |")
print()
if "peer-aug.h5" in results:
    (t_rate, t_size), (p_rate, p_size) = results["trainset.h5"], results["peer-aug.h5"]
    print(f"trainset / peer (like for like, 4 augmented variants per tile): throughput ×{t_rate / p_rate:.2f}, "
          f"output size ×{t_size / p_size:.3f}.")
else:
    print("Run with --augmented-peer for the like-for-like ratio (the peer's tiles-only job does a quarter of the work).")
print("Load is the 1-minute load average when the run started (other jobs on the machine inflate wall time, "
      "much less CPU seconds).")
EOF
