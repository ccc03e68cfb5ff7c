#!/usr/bin/env bash
# Installs what trainset needs on a Debian 12 machine: the C libraries' -dev packages (only those
# missing) and the Python packages of the cross-checks. Safe to run again.
set -euo pipefail
# chromium: the report check renders trainset's HTML report headless. libisal-dev: ISA-L igzip,
# the deflate encoder of bundle chunks (zlib1g-dev: zlib, for deflate levels 4–9).
# slurmctld, slurmd, slurm-client, munge: scripts/check_slurm.sh runs a sharded export on a one-node Slurm.
packages=(libhdf5-dev libtiff-dev libopenblas-dev libpng-dev libjpeg-dev zlib1g-dev libisal-dev pkg-config chromium
          slurmctld slurmd slurm-client munge)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! python3 -c "import h5py, numpy, tifffile, PIL, yaml, mlcroissant" 2>/dev/null; then
  echo "installing Python packages for the cross-checks" >&2
  python3 -m pip install -q -r "$(dirname "$0")/requirements-check.txt"
fi
