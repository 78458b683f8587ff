#!/usr/bin/env bash
# README command (1): install what is missing, build, then run the shipped
# example end to end: search, leaderboard, exported model, predictions.
set -euo pipefail
cd "$(dirname "$0")/.."

bash cmake/setup-debian.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2

ex=examples/penguins
# --fresh: start the study over (without it, running again continues the stored study).
./build/cli/automl run "$ex/spec.yaml" --fresh
./build/cli/automl best "$ex/penguins.db"
./build/cli/automl predict "$ex/penguins.model" "$ex/new_penguins.csv" --proba \
  --out "$ex/predictions.csv"
cat "$ex/predictions.csv"
