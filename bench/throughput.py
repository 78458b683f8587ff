#!/usr/bin/python3
"""End-to-end throughput: the same 40 configurations with 5-fold CV through
`automl run` and through scikit-learn's GridSearchCV (n_jobs=2).

Run from the repository root after building (bench/run.sh throughput does
both):

    /usr/bin/python3 bench/throughput.py [--datasets adult,credit_g,pima_diabetes]
        [--repeats 3]

The 40 configurations are written out below (CONFIGS): 10 logistic
regressions, 14 k-nearest-neighbour models and 16 random forests.  automl
runs them as a `grid` search over explicit choice lists whose product is
exactly those 40 points (the grid takes every choice, so nothing is drawn;
logistic regression's tol is fixed at scikit-learn's default 1e-4, which
automl's solver reads the same way, instead of automl's default 1e-6);
scikit-learn runs GridSearchCV over the same lists (a list of grids, one per
learner), which is the same 40 fits per fold as RandomizedSearchCV over a
40-point space would be, without its sampling.  Both use 5 stratified folds
(different shuffles: each tool its own), accuracy, 2 workers.

automl's time is the whole process as a user runs it (`automl run spec
--fresh --quiet`: read the CSV, 200 fits, store every trial and its
out-of-fold predictions in SQLite, refit and export the best model;
`ensemble: {method: none}` so that, like GridSearchCV's refit, only the best
configuration is refitted); scikit-learn's is GridSearchCV.fit after reading
the CSV with pandas (refit=True).  Times are medians of --repeats runs, the
two tools taking turns, on a machine other jobs may share.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "datasets")
TARGETS = {"adult": "income", "credit_g": "class", "pima_diabetes": "diabetes"}

# The 40 configurations: each learner's grid is the product of its lists.
C_VALUES = [0.001, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0, 1000.0]  # 10
K_VALUES = [1, 3, 5, 9, 15, 25, 41]  # x 2 weights = 14
RF = {"n_estimators": [50, 100], "max_features": [0.1, 0.3],
      "min_samples_leaf": [1, 5], "max_depth": [0, 12]}  # 16
N_CONFIGS = len(C_VALUES) + 2 * len(K_VALUES) + 16

SPEC = """study: {name}
data:
  train: {path}
  target: {target}
cv: {{folds: 5, seed: 0}}
metric: accuracy
search:
  strategy: grid
  parallel: 2
  seed: 0
learners:
  logistic_regression:
    C: {c}
    tol: 1.0e-4
  knn:
    k: {k}
    weights: [uniform, distance]
  random_forest:
    n_estimators: {rf[n_estimators]}
    max_features: {rf[max_features]}
    min_samples_leaf: {rf[min_samples_leaf]}
    max_depth: {rf[max_depth]}
store: {name}.db
output: {name}.model
ensemble: {{method: none}}
"""


def run_automl(binary, name, work):
    spec = os.path.join(work, name + ".yaml")
    with open(spec, "w") as f:
        f.write(SPEC.format(name=name, path=os.path.join(SHARED, name + ".csv"),
                            target=TARGETS[name], c=json.dumps(C_VALUES),
                            k=json.dumps(K_VALUES),
                            rf={k: json.dumps(v) for k, v in RF.items()}))
    t0 = time.perf_counter()
    subprocess.run([binary, "run", spec, "--fresh", "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    db = os.path.join(work, name + ".db")
    out = subprocess.run([binary, "best", db, "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    best = json.loads(out)
    trials = subprocess.run([binary, "trials", db, "--all", "--format", "json"],
                            check=True, capture_output=True, text=True).stdout
    trials = json.loads(trials)
    assert len(trials) == N_CONFIGS and all(t["status"] == "ok" for t in trials)
    return float(best["score"]), elapsed, trials


def sklearn_grid(seed):
    rf = {"model__" + k: v for k, v in RF.items()}
    rf["model__max_depth"] = [d or None for d in RF["max_depth"]]
    rf["model"] = [RandomForestClassifier(random_state=seed)]
    return [
        {"model": [LogisticRegression(max_iter=1000)], "model__C": C_VALUES},
        {"model": [KNeighborsClassifier()], "model__n_neighbors": K_VALUES,
         "model__weights": ["uniform", "distance"]},
        rf,
    ]


def run_sklearn(name, seed=0):
    target = TARGETS[name]
    df = pd.read_csv(os.path.join(SHARED, name + ".csv"), na_values=["", "NA", "?"],
                     keep_default_na=False, skipinitialspace=True)
    df = df[df[target].notna()]
    y = df[target].astype(str).values
    X = df.drop(columns=[target])
    cats = [c for c in X.columns if X[c].dtype == object]
    nums = [c for c in X.columns if c not in cats]
    # Dense output (sparse_threshold=0), like automl's frames: on adult the
    # default would go sparse (density 0.13), which makes scikit-learn's knn
    # and forests several times slower and the comparison unfair to it.
    prep = ColumnTransformer([
        ("num", Pipeline([("imp", SimpleImputer()), ("sc", StandardScaler())]), nums),
        ("cat", OneHotEncoder(handle_unknown="ignore"), cats)], sparse_threshold=0)
    pipe = Pipeline([("prep", prep), ("model", LogisticRegression())])
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    search = GridSearchCV(pipe, sklearn_grid(seed), cv=cv, scoring="accuracy", n_jobs=2)
    t0 = time.perf_counter()
    search.fit(X, y)
    elapsed = time.perf_counter() - t0
    assert len(search.cv_results_["params"]) == N_CONFIGS
    return search.best_score_, elapsed, search.cv_results_


def by_learner_automl(trials):
    """Seconds of automl's trials summed per learner (the trials table's column)."""
    out = {}
    for t in trials:
        out[t["learner"]] = out.get(t["learner"], 0.0) + float(t["seconds"] or 0.0)
    return out


def by_learner_sklearn(res):
    """Fit plus score seconds of scikit-learn's fits summed per learner (x5 folds)."""
    out = {}
    for p, fit, score in zip(res["params"], res["mean_fit_time"], res["mean_score_time"]):
        name = {"LogisticRegression": "logistic_regression", "KNeighborsClassifier": "knn",
                "RandomForestClassifier": "random_forest"}[type(p["model"]).__name__]
        out[name] = out.get(name, 0.0) + 5 * (fit + score)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="pima_diabetes,credit_g,adult")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "cli", "automl"))
    args = ap.parse_args()
    if not os.path.isdir(SHARED):
        print("bench: ../shared/datasets is absent; nothing to compare", file=sys.stderr)
        return 0
    assert N_CONFIGS == 40
    print(f"{N_CONFIGS} configurations (10 logistic regression, 14 knn, 16 random forest),"
          f" 5-fold stratified CV, accuracy, 2 workers; median of {args.repeats} runs")
    print("automl: whole `automl run` process; scikit-learn: GridSearchCV(n_jobs=2).fit."
          "  Each tool shuffles its own folds.")
    print(f"{'data set':<14} {'automl s':>9} {'sklearn s':>9} {'ratio':>6} {'target':>7}"
          f" {'automl best':>11} {'sklearn best':>12}")
    profile = []
    with tempfile.TemporaryDirectory() as work:
        for name in args.datasets.split(","):
            a, s = [], []
            for _ in range(args.repeats):  # interleaved, so both meet the same load
                a.append(run_automl(args.binary, name, work))
                s.append(run_sklearn(name))
            ta = float(np.median([r[1] for r in a]))
            ts = float(np.median([r[1] for r in s]))
            ok = "met" if ta <= 0.25 * ts else "missed"
            print(f"{name:<14} {ta:9.2f} {ts:9.2f} {ta / ts:6.3f} {ok:>7}"
                  f" {a[0][0]:11.4f} {s[0][0]:12.4f}", flush=True)
            profile.append((name, by_learner_automl(a[0][2]), by_learner_sklearn(s[0][2])))
    print("\nwhere the time goes (first run): seconds summed over each learner's trials;"
          " automl's\ntrial seconds are wall time of a trial on one worker, scikit-learn's"
          " are fit + score\ntime of its 5 folds (on 2 workers both sums are about twice"
          " the wall time)")
    print(f"{'data set':<14} {'learner':<20} {'automl s':>9} {'sklearn s':>9} {'ratio':>6}")
    for name, pa, ps in profile:
        for learner in ("logistic_regression", "knn", "random_forest"):
            x, y = pa.get(learner, 0.0), ps.get(learner, 0.0)
            print(f"{name:<14} {learner:<20} {x:9.2f} {y:9.2f} {x / y if y else 0:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
