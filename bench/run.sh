#!/usr/bin/env bash
# Builds automl (build/) and runs benchmarks side by side with their Python
# counterparts (Debian's python3-sklearn, python3-xgboost, python3-pandas,
# /usr/bin/python3).  Each prints ratios automl / counterpart.
#
#   bash bench/run.sh [search|functions|overhead|real|throughput|core|linear|trees|
#                      boosting|misc|load|store|ensemble ...]
#
# functions: random, genetic and bayes (bench/search_functions.c) beside
# Optuna's TPE and CMA-ES (bench/search_functions_optuna.py) on Branin,
# Hartmann-6 and a mixed function, 20 seeds, median simple regret [quartiles]
# after 25/50/100 evaluations (about 3 minutes).  overhead: bayes' mean ms per
# proposal at 100/250/500 observations.  Both use a Release build (build-release/).
# real: random, bayes, genetic (and halving when built) beside Optuna's TPE over
# scikit-learn on six real data sets, one shared mixed space, 5 seeds, median
# best CV score after 30 and 60 trials (bench/search_real.py, about 40 minutes).
# throughput: the same 40 configurations with 5-fold CV through `automl run`
# and GridSearchCV(n_jobs=2) on pima_diabetes, credit_g and adult, whole-process
# wall times (bench/throughput.py, about 15 minutes).
#
# With no argument, every benchmark but real, throughput and ensemble runs
# (about half an hour on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash cmake/setup-debian.sh --bench
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 >/dev/null

py=/usr/bin/python3
release() {
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-release -j2 --target search_functions >/dev/null
}
functions() {
  release
  local tmp
  tmp=$(mktemp -d)
  # BLAS on one thread, as the runner pins it while it searches.
  OPENBLAS_NUM_THREADS=1 ./build-release/bench/search_functions --seeds 20 >"$tmp/c.csv"
  $py bench/search_functions_optuna.py --seeds 20 >"$tmp/optuna.csv"
  $py bench/search_functions_table.py "$tmp/c.csv" "$tmp/optuna.csv"
  rm -r "$tmp"
}
run() {
  echo "== $1"
  case "$1" in
    search)   $py bench/search_vs_sklearn.py --datasets sonar,wine,iris,glass,breast_cancer_wdbc,penguins ;;
    functions) functions ;;
    real)     $py bench/search_real.py ;;
    throughput) $py bench/throughput.py ;;
    overhead) release && OPENBLAS_NUM_THREADS=1 ./build-release/bench/search_functions --overhead ;;
    core)     $py bench/learners_core.py ;;
    linear)   $py bench/learners_linear.py ;;
    trees)    $py bench/learners_trees.py ;;
    boosting) $py bench/learners_boosting.py 1 3 && $py bench/learners_boosting.py 2 3 ;;
    misc)     $py bench/learners_misc.py 3 ;;
    load)     $py bench/load_vs_pandas.py ;;
    ensemble) $py bench/ensemble_holdout.py ;;
    store)    ./build/bench/store_bench ;;
    *) echo "bench: unknown benchmark '$1'" >&2; exit 2 ;;
  esac
}
if [ $# -eq 0 ]; then
  set -- search functions overhead core linear trees boosting misc load store
fi
for b in "$@"; do run "$b"; done
