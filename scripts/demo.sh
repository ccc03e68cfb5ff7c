#!/usr/bin/env bash
# Sets up, builds trainset, and exports then validates every bundled sample.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product trainset
bin=.build/release/trainset
for recipe in samples/*/recipe.yaml; do
  echo "== $recipe"
  bundle=$("$bin" export "$recipe" --overwrite)
  "$bin" validate "$bundle"
  "$bin" inspect "$bundle"
done
