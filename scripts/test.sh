#!/usr/bin/env bash
# Runs every test: the Swift test suites, then the Python cross-checks that compare trainset's
# output with independent readers (h5py, numpy, tifffile, Pillow).
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
  if "$bin" export "$recipe" --output "$bundle" --quiet \
     && "$bin" validate "$bundle" \
     && python3 scripts/check_bundle.py "$bundle" \
     && python3 scripts/crosscheck_sample.py "$bundle" --inputs "$(dirname "$recipe")/data" \
     && python3 scripts/verify_tamper.py "$bin" "$bundle" --inputs "$(dirname "$recipe")/data" \
     && python3 scripts/check_croissant.py "$bundle"; then
    passed=$((passed + 1))
  else
    echo "FAILED: sample $name" >&2
    failed=$((failed + 1))
  fi
done
echo "cross-checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
