#!/usr/bin/python3
"""Held-out test scores: automl's ensemble, its best single trial, and
scikit-learn's HistGradientBoosting with default settings.

Run from the repository root after building (bench/run.sh does both):

    /usr/bin/python3 bench/ensemble_holdout.py [--trials 40] [--time 90s]
        [--datasets iris,wine,...] [--method selection] [--seed 1[,2,3]]

For every classification and regression set in ../shared/datasets (the
catalog's main table), the file's data lines are shuffled with the seed and
split 75% / 25% line by line (so automl reads both parts exactly as it reads
the original: quoting, missing tokens and separators untouched).  On the 75%:

  * automl: `automl run` on a generated spec (random search over a mixed
    space of learners, 5-fold CV, accuracy or rmse), which writes the
    ensemble model; `automl export --trial BEST` writes the best single
    trial's model.  Both predict the 25% with `automl predict`.
  * scikit-learn: HistGradientBoosting{Classifier,Regressor}() with default
    settings, reading the files as the catalog's baseline does (pandas,
    skipinitialspace, '?' missing, strings integer-coded and flagged
    categorical when they have at most 255 levels).

It prints one row per set (test accuracy or RMSE of each, and whether the
ensemble is at least as good as the best trial and as the baseline) and the
two counts the issue's targets are about, per split seed; with several
seeds (--seed 1,2,3) also the counts over all of them, since on the small
sets one split moves the counts by several sets.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "datasets")
AUTOML = os.environ.get("AUTOML", os.path.join(ROOT, "build", "cli", "automl"))

SPEC = """study: {name}
data:
  train: train.csv
  target: {target}
  task: {task}
  missing: ["", "NA", "?"]
cv: {{folds: 5, seed: {seed}}}
metric: {metric}
search:
  strategy: random
  trials: {trials}
  time_budget: {time}
  parallel: 2
  seed: {seed}
learners:
{learners}
ensemble: {{method: {method}}}
store: s.db
output: ensemble.model
"""

LEARNERS = {
    "classification": ["logistic_regression", "knn", "random_forest", "extra_trees",
                       "gradient_boosting", "naive_bayes"],
    "regression": ["ridge", "knn", "random_forest", "extra_trees", "gradient_boosting",
                   "elastic_net"],
}


def catalog():
    """(name, task, target) of every row of the catalog's main table."""
    rows = []
    text = open(os.path.join(SHARED, "CATALOG.md")).read()
    main = text.split("## Main table")[1].split("\n## ")[0]
    for line in main.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("name", "") or cells[0].startswith("---"):
            continue
        task = "regression" if cells[1] == "regression" else "classification"
        rows.append((cells[0], task, cells[2].strip("`")))
    return rows


def split_lines(path, seed, outdir):
    """Writes train.csv / test.csv: the header plus 75% / 25% of the data lines."""
    with open(path, newline="") as f:
        lines = f.read().splitlines(keepends=True)
    header, data = lines[0], [l for l in lines[1:] if l.strip()]
    rng = random.Random(seed)
    rng.shuffle(data)
    cut = int(round(len(data) * 0.75))
    for name, part in (("train.csv", data[:cut]), ("test.csv", data[cut:])):
        with open(os.path.join(outdir, name), "w", newline="") as f:
            f.write(header)
            f.writelines(l if l.endswith("\n") else l + "\n" for l in part)


def read_frame(path):
    df = pd.read_csv(path, skipinitialspace=True, na_values=["?"])
    df.columns = [c.strip() for c in df.columns]
    return df


def prepare(train, test, target, task):
    """The catalog baseline's encoding, fitted on the training part."""
    train = train[train[target].notna()]
    test = test[test[target].notna()]
    X, Xt = train.drop(columns=[target]), test.drop(columns=[target])
    cats = []
    for c in X.columns:
        if X[c].dtype == object:
            levels = {v: i for i, v in enumerate(sorted(X[c].dropna().unique()))}
            X[c] = X[c].map(levels)
            Xt[c] = Xt[c].map(levels)
            if len(levels) > 255:
                X, Xt = X.drop(columns=[c]), Xt.drop(columns=[c])
            else:
                cats.append(c)
    mask = [c in cats for c in X.columns]
    return X, train[target], Xt, test[target], mask


def label(v):
    """One spelling per class: text stripped, numbers as floats ("1" == "1.0")."""
    t = str(v).strip()
    try:
        return repr(float(t))
    except ValueError:
        return t


def score(task, y, pred):
    if task == "classification":
        y = [label(v) for v in y]
        pred = [label(v) for v in pred]
        return float(np.mean([a == b for a, b in zip(y, pred)]))
    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    return float(np.sqrt(np.mean((y - pred) ** 2)))


def hgb(train_csv, test_csv, target, task):
    train, test = read_frame(train_csv), read_frame(test_csv)
    X, y, Xt, yt, mask = prepare(train, test, target, task)
    if task == "classification":
        model = HistGradientBoostingClassifier(categorical_features=mask or None,
                                               random_state=0)
        y, yt = y.astype(str), yt.astype(str)
    else:
        model = HistGradientBoostingRegressor(categorical_features=mask or None,
                                              random_state=0)
    model.fit(X, y)
    return score(task, yt, model.predict(Xt))


def automl(args, cwd):
    r = subprocess.run([AUTOML] + args, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("automl %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def automl_test_score(model, cwd, target, task):
    automl(["predict", model, "test.csv", "--out", "pred.csv"], cwd)
    pred = pd.read_csv(os.path.join(cwd, "pred.csv"))
    test = read_frame(os.path.join(cwd, "test.csv"))
    keep = test[target].notna().to_numpy()
    col = pred.columns[0]
    return score(task, test[target][keep], pred[col][keep])


def run_set(name, task, target, a, work):
    d = os.path.join(work, name)
    os.makedirs(d)
    split_lines(os.path.join(SHARED, name + ".csv"), a.seed, d)
    metric = "accuracy" if task == "classification" else "rmse"
    learners = "\n".join("  %s:" % l for l in LEARNERS[task])
    with open(os.path.join(d, "spec.yaml"), "w") as f:
        f.write(SPEC.format(name=name, target=target, task=task, metric=metric,
                            trials=a.trials, time=a.time, seed=a.seed, learners=learners,
                            method=a.method))
    t0 = time.time()
    out = automl(["run", "spec.yaml", "--quiet"], d)
    secs = time.time() - t0
    best = str(json.loads(automl(["best", "s.db", "--format", "json"], d))["number"])
    automl(["export", "s.db", "--trial", best, "--out", "best.model"], d)
    ens = automl_test_score("ensemble.model", d, target, task)
    single = automl_test_score("best.model", d, target, task)
    base = hgb(os.path.join(d, "train.csv"), os.path.join(d, "test.csv"), target, task)
    return ens, single, base, secs


def run_seed(a, sets):
    """One split seed: the table and its two counts; returns (wins_best, wins_hgb, n)."""
    print("%-20s %-6s %10s %10s %10s %6s %6s %7s" % ("data set", "metric", "ensemble",
          "best trial", "HGB", ">=best", ">=HGB", "seconds"))
    wins_best = wins_hgb = n = 0
    with tempfile.TemporaryDirectory() as work:
        for name, task, target in sets:
            try:
                ens, single, base, secs = run_set(name, task, target, a, work)
            except Exception as e:  # a failing set is reported, the others go on
                print("%-20s failed: %s" % (name, e))
                continue
            better = (lambda x, y: x >= y) if task == "classification" else (lambda x, y: x <= y)
            b1, b2 = better(ens, single), better(ens, base)
            wins_best += b1
            wins_hgb += b2
            n += 1
            print("%-20s %-6s %10.4g %10.4g %10.4g %6s %6s %7.0f" % (
                name, "acc" if task == "classification" else "rmse", ens, single, base,
                "yes" if b1 else "no", "yes" if b2 else "no", secs))
            sys.stdout.flush()
    print("seed %d: ensemble >= best single trial on %d of %d sets; >= HistGradientBoosting "
          "on %d of %d" % (a.seed, wins_best, n, wins_hgb, n))
    return wins_best, wins_hgb, n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--time", default="90s")
    p.add_argument("--method", default="selection")
    p.add_argument("--seed", default="1", help="a split seed, or several: 1,2,3")
    p.add_argument("--datasets", default="")
    a = p.parse_args()
    sets = catalog()
    if a.datasets:
        want = a.datasets.split(",")
        sets = [s for s in sets if s[0] in want]
    totals = [0, 0, 0]
    seeds = [int(x) for x in str(a.seed).split(",")]
    for seed in seeds:
        a.seed = seed
        for i, v in enumerate(run_seed(a, sets)):
            totals[i] += v
        print()
    if len(seeds) > 1:
        b1, b2, n = totals
        print("all %d seeds: ensemble >= best single trial on %d of %d (%.0f%%); >= "
              "HistGradientBoosting on %d of %d (%.0f%%)" % (len(seeds), b1, n, 100.0 * b1 / n,
                                                            b2, n, 100.0 * b2 / n))


if __name__ == "__main__":
    main()
