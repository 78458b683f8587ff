#!/usr/bin/env bash
# Builds automl and runs every benchmark side by side with its Python
# counterparts (Debian's python3-sklearn and friends, /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."
bash cmake/setup-debian.sh --bench
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2
/usr/bin/python3 bench/search_vs_sklearn.py "$@"
