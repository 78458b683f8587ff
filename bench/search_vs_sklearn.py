#!/usr/bin/python3
"""Best 5-fold CV score of a 50-trial random search: automl against scikit-learn.

Run from the repository root after building (bench/run.sh does both):

    /usr/bin/python3 bench/search_vs_sklearn.py [--trials 50] [--datasets sonar,wine]
        [--seeds 1,2,...,10]

For each data set it runs, side by side on this machine:
  * automl: `automl run` on a generated spec (random search over logistic
    regression, knn and decision tree, 5-fold stratified CV, accuracy);
  * scikit-learn: RandomizedSearchCV over the same kind of space (the same
    learners and ranges, standardisation before logistic regression and knn,
    mean imputation, one-hot for strings) with StratifiedKFold(5, shuffle).
Each seed sets both tools' search seed and CV shuffle.  It prints, per data
set, the median over seeds of both best scores, their ratio, how many seeds
automl was at least as good, and both median wall times with their ratio.
The two tools draw different candidates and different folds, so the
comparison is of search quality and speed, not of identical computations.
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
from scipy.stats import loguniform, randint
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "datasets")
TARGETS = {"sonar": "Class", "wine": "target", "iris": "Species", "glass": "Type",
           "breast_cancer_wdbc": "target", "penguins": "species"}

SPEC = """study: {name}
data:
  train: {path}
  target: {target}
  task: classification
cv: {{folds: 5, stratified: true, seed: {seed}}}
metric: accuracy
search:
  strategy: random
  trials: {trials}
  parallel: 2
  seed: {seed}
  defaults_first: false  # compare the strategies' own proposals only
learners:
  logistic_regression:
    C: {{log_uniform: [1.0e-3, 1.0e3]}}
  knn:
    k: {{int: [1, 50]}}
    weights: [uniform, distance]
  decision_tree:
    max_depth: {{int: [1, 20]}}
    min_samples_leaf: 2
store: {name}.db
"""


def run_automl(binary, name, path, target, trials, seed, workdir):
    spec = os.path.join(workdir, name + ".yaml")
    with open(spec, "w") as f:
        f.write(SPEC.format(name=name, path=path, target=target, trials=trials, seed=seed))
    t0 = time.perf_counter()
    subprocess.run([binary, "run", spec, "--fresh", "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    out = subprocess.run([binary, "best", os.path.join(workdir, name + ".db")], check=True,
                         capture_output=True, text=True).stdout
    fields = dict(l.split(None, 1) for l in out.splitlines() if " " in l)
    best = (fields["learner"].strip(), json.loads(fields["params"]))
    return float(fields["score"]), elapsed, best


def sklearn_estimator(learner, params, seed):
    """The scikit-learn model for an automl configuration."""
    if learner == "logistic_regression":
        return LogisticRegression(C=params.get("C", 1.0), max_iter=1000)
    if learner == "knn":
        return KNeighborsClassifier(n_neighbors=params.get("k", 5),
                                    weights=params.get("weights", "uniform"))
    if learner == "decision_tree":
        depth = params.get("max_depth", 0)
        return DecisionTreeClassifier(max_depth=depth or None,
                                      min_samples_leaf=params.get("min_samples_leaf", 1),
                                      random_state=seed)
    raise ValueError(learner)


def load(path, target):
    df = pd.read_csv(path, na_values=["", "NA", "?"], keep_default_na=False)
    df = df[df[target].notna()]
    y = df[target].astype(str).values
    X = df.drop(columns=[target])
    cats = [c for c in X.columns if X[c].dtype == object]
    nums = [c for c in X.columns if c not in cats]
    prep = ColumnTransformer([
        ("num", Pipeline([("imp", SimpleImputer()), ("sc", StandardScaler())]), nums),
        ("cat", OneHotEncoder(handle_unknown="ignore"), cats)])
    return X, y, prep


def rescore(path, target, best, seed):
    """automl's best configuration scored by scikit-learn on scikit-learn's folds."""
    X, y, prep = load(path, target)
    pipe = Pipeline([("prep", prep), ("clf", sklearn_estimator(*best, seed))])
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    return cross_val_score(pipe, X, y, cv=cv, scoring="accuracy").mean()


def run_sklearn(path, target, trials, seed):
    X, y, prep = load(path, target)
    pipe = Pipeline([("prep", prep), ("clf", LogisticRegression())])
    space = [
        {"clf": [LogisticRegression(max_iter=1000)], "clf__C": loguniform(1e-3, 1e3)},
        {"clf": [KNeighborsClassifier()], "clf__n_neighbors": randint(1, 51),
         "clf__weights": ["uniform", "distance"]},
        {"clf": [DecisionTreeClassifier(min_samples_leaf=2, random_state=seed)],
         "clf__max_depth": randint(1, 21)},
    ]
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    search = RandomizedSearchCV(pipe, space, n_iter=trials, cv=cv, scoring="accuracy",
                                n_jobs=2, random_state=seed)
    t0 = time.perf_counter()
    search.fit(X, y)
    return search.best_score_, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seeds", default="1,2,3,4,5,6,7,8,9,10")
    ap.add_argument("--datasets", default="sonar,wine")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "cli", "automl"))
    args = ap.parse_args()
    if not os.path.isdir(SHARED):
        print("bench: ../shared/datasets is absent; nothing to compare", file=sys.stderr)
        return 0
    seeds = [int(x) for x in args.seeds.split(",")]
    print(f"{args.trials}-trial random search, best 5-fold accuracy, median of seeds {seeds}")
    print("'automl' is automl's own CV score; 'same folds' rescores automl's best")
    print("configuration with scikit-learn on scikit-learn's folds.  That column is biased")
    print("towards scikit-learn, whose best was selected on those very folds (the")
    print("winner's curse); automl selected on other folds.")
    print(f"{'data set':<20} {'automl':>8} {'sklearn':>8} {'ratio':>6} {'a>=s':>5}"
          f" {'same folds':>10} {'ratio':>6} {'a>=s':>5}"
          f" {'automl s':>9} {'sklearn s':>9} {'speedup':>8}")
    with tempfile.TemporaryDirectory() as work:
        for name in args.datasets.split(","):
            path = os.path.join(SHARED, name + ".csv")
            runs = []
            for seed in seeds:
                a, ta, best = run_automl(args.binary, name, path, TARGETS[name],
                                         args.trials, seed, work)
                s, ts = run_sklearn(path, TARGETS[name], args.trials, seed)
                same = rescore(path, TARGETS[name], best, seed)
                runs.append((a, s, ta, ts, same))
            a, s, ta, ts, same = (float(np.median([r[i] for r in runs])) for i in range(5))
            wins = sum(r[0] >= r[1] for r in runs)
            same_wins = sum(r[4] >= r[1] - 1e-12 for r in runs)
            n = len(runs)
            print(f"{name:<20} {a:8.4f} {s:8.4f} {a / s:6.3f} {wins:>2}/{n:<2}"
                  f" {same:10.4f} {same / s:6.3f} {same_wins:>2}/{n:<2}"
                  f" {ta:9.2f} {ts:9.2f} {ts / ta:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
