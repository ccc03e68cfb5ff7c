#!/usr/bin/env bash
# Runs every test: the Swift test suites, then the Python cross-checks that compare trainset's
# output with independent readers (h5py, numpy, tifffile, Pillow), stitch tiles back and
# re-derive the sampled tile sets.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/swift-test.log
python3 scripts/make_image_fixtures.py --check
bin=.build/debug/trainset
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
for recipe in samples/*/recipe.yaml; do
  name=$(basename "$(dirname "$recipe")")
  bundle="$work/$name.h5"
  inputs=$(python3 -c "import sys, yaml, os; r = yaml.safe_load(open(sys.argv[1])); print(os.path.normpath(os.path.join(os.path.dirname(sys.argv[1]), r['inputs'].get('root', '.'))))" "$recipe")
  if "$bin" export "$recipe" --output "$bundle" --quiet \
     && "$bin" validate "$bundle" \
     && python3 scripts/check_bundle.py "$bundle" \
     && python3 scripts/crosscheck_sample.py "$bundle" --inputs "$inputs" \
     && python3 scripts/check_stitch.py "$bundle" --inputs "$inputs" \
     && python3 scripts/check_sampling.py "$bundle" --inputs "$inputs" \
     && python3 scripts/verify_tamper.py "$bin" "$bundle" --inputs "$inputs" \
     && python3 scripts/check_croissant.py "$bundle" \
     && "$bin" replay "$bundle" --inputs "$inputs" --all | tail -1 \
     && python3 scripts/check_report.py "$bin" "$bundle"; then
    passed=$((passed + 1))
  else
    echo "FAILED: sample $name" >&2
    failed=$((failed + 1))
  fi
done
echo "cross-checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
