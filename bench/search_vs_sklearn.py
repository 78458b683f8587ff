#!/usr/bin/python3
"""Best 5-fold CV score of a 50-trial random search: automl against scikit-learn.

Run from the repository root after building (bench/run.sh does both):

    /usr/bin/python3 bench/search_vs_sklearn.py [--trials 50] [--datasets sonar,wine]

For each data set it runs, side by side on this machine:
  * automl: `automl run` on a generated spec (random search over logistic
    regression, knn and decision tree, 5-fold stratified CV, accuracy);
  * scikit-learn: RandomizedSearchCV over the same kind of space (the same
    learners and ranges, standardisation before logistic regression and knn,
    mean imputation, one-hot for strings) with StratifiedKFold(5, shuffle).
It prints both best scores, their ratio, and both wall times with their ratio.
The two tools draw different random candidates and different folds, so the
comparison is of search quality and speed, not of identical computations.
"""
import argparse
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
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold
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
    score = float([l for l in out.splitlines() if l.startswith("score")][0].split()[1])
    return score, elapsed


def run_sklearn(path, target, trials, seed):
    df = pd.read_csv(path, na_values=["", "NA", "?"], keep_default_na=False)
    df = df[df[target].notna()]
    y = df[target].astype(str).values
    X = df.drop(columns=[target])
    cats = [c for c in X.columns if X[c].dtype == object]
    nums = [c for c in X.columns if c not in cats]
    prep = ColumnTransformer([
        ("num", Pipeline([("imp", SimpleImputer()), ("sc", StandardScaler())]), nums),
        ("cat", OneHotEncoder(handle_unknown="ignore"), cats)])
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
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--datasets", default="sonar,wine")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "cli", "automl"))
    args = ap.parse_args()
    if not os.path.isdir(SHARED):
        print("bench: ../shared/datasets is absent; nothing to compare", file=sys.stderr)
        return 0
    print(f"{'data set':<20} {'automl':>8} {'sklearn':>8} {'ratio':>6}"
          f" {'automl s':>9} {'sklearn s':>9} {'speedup':>8}")
    with tempfile.TemporaryDirectory() as work:
        for name in args.datasets.split(","):
            path = os.path.join(SHARED, name + ".csv")
            a, ta = run_automl(args.binary, name, path, TARGETS[name], args.trials,
                               args.seed, work)
            s, ts = run_sklearn(path, TARGETS[name], args.trials, args.seed)
            print(f"{name:<20} {a:8.4f} {s:8.4f} {a / s:6.3f} {ta:9.2f} {ts:9.2f}"
                  f" {ts / ta:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
