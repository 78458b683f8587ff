#!/usr/bin/env bash
# Installs what automl needs to build and test on Debian 12, and nothing that
# is already there.  Safe to run again (idempotent).  Needs root when
# something is missing.
#
#   bash cmake/setup-debian.sh          build and test dependencies
#   bash cmake/setup-debian.sh --bench  also the Python side of bench/
set -euo pipefail

packages=(
  build-essential   # gcc, make, libc headers; libgomp (OpenMP) comes with gcc
  cmake             # >= 3.25 (Debian 12 ships 3.25.1)
  pkg-config
  libsqlite3-dev    # the trials store
  sqlite3           # plain sqlite3, used by the end-to-end test
  libyaml-dev       # the spec parser
  libcsv-dev        # RFC 4180 CSV parsing
  libopenblas-dev   # BLAS and LAPACK
  libcmocka-dev     # unit tests
  chromium          # headless browser for the HTML report test (tests/cli/test_report.c)
  clang             # libFuzzer targets (tests/fuzz, AML_FUZZ=ON)
  libclang-rt-14-dev # libFuzzer and the sanitizer runtimes for clang 14
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(python3 python3-sklearn python3-pandas python3-xgboost python3-optuna)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: every dependency is installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: installing packages needs root (run as root, or with sudo)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
