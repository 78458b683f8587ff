#!/usr/bin/python3
"""gradient_boosting against XGBoost `hist` and scikit-learn's
HistGradientBoosting: equal trees (100), depth (6), bins (255), learning rate
(0.1), lambda 1, min_child_weight 1, and the same thread count on both sides.

    AML_FIT=build/bench/aml_fit /usr/bin/python3 bench/learners_boosting.py [THREADS] [REPEATS] [xgboost]

XGBoost comes from Debian's python3-xgboost (bash cmake/setup-debian.sh --bench).
scikit-learn's HistGradientBoosting grows leaf-wise (max_leaf_nodes=31 by
default); here it gets max_depth=6 and no leaf cap, and min_samples_leaf=1 so
that only the hessian bound limits splits, but it has no min_child_weight and
uses OpenMP threads from OMP_NUM_THREADS, so its row is indicative only.
Fit times are CPU times (user + sys) with one thread, wall times with more,
medians of REPEATS runs, printed after the scores.  A third argument
`xgboost` runs the XGBoost pairs only.
"""
import os
import sys

import learnerbench
from learnerbench import compare

GB = {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.1, "max_bins": 255,
      "l2_regularization": 1.0, "min_child_weight": 1.0}
XGB = "import xgboost"
SK = "from sklearn import ensemble"
SKC = ("max_iter=100, max_depth=6, max_leaf_nodes=None, learning_rate=0.1, max_bins=255,"
       " l2_regularization=1.0, min_samples_leaf=1, early_stopping=False")
DATA = [("adult", "clf"), ("letter", "clf"), ("bank_marketing", "clf"),
        ("california_housing", "reg"), ("diamonds", "reg")]


def pairs(threads):
    common = (f"tree_method='hist', max_bin=255, n_estimators=100, max_depth=6,"
              f" learning_rate=0.1, reg_lambda=1.0, min_child_weight=1.0, n_jobs={threads}")
    out = []
    for name, task in DATA:
        kind = "Classifier" if task == "clf" else "Regressor"
        x = f"xgboost.XGB{kind}({common})"
        s = f"ensemble.HistGradientBoosting{kind}({SKC})"
        out.append((name, "gradient_boosting", GB, x, XGB, False, "gb vs xgboost", threads))
        out.append((name, "gradient_boosting", GB, s, SK, False, "gb vs sklearn hgb",
                    threads))
    return out


if __name__ == "__main__":
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    # scikit-learn's OpenMP pool and XGBoost's follow this in the child processes.
    os.environ["OMP_NUM_THREADS"] = str(threads)
    todo = pairs(threads)
    if len(sys.argv) > 3 and sys.argv[3] == "xgboost":
        todo = [p for p in todo if p[6] == "gb vs xgboost"]
    # One thread: CPU time (steady on a shared machine); more: wall time.
    # One thread: CPU time on both sides (steadier on a shared machine); more: wall time.
    learnerbench.CPU = threads == 1
    compare(todo, repeats=int(sys.argv[2]) if len(sys.argv) > 2 else 3)
