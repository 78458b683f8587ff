#!/usr/bin/python3
"""Search strategies on real data: automl's random, bayes and genetic (and
halving and bohb when the binary has them) beside Optuna's TPE over
scikit-learn.

Run from the repository root after building (bench/run.sh real does both):

    /usr/bin/python3 bench/search_real.py [--trials 30,60] [--seeds 1,2,3,4,5]
        [--datasets credit_g,pima_diabetes,...] [--preprocess]

One shared mixed space on every data set: a linear model (logistic
regression for classification, ridge for regression) over C or alpha, knn
over k and weights, random forest over trees, max_features and
min_samples_leaf, gradient boosting over rounds, learning rate and depth
(--preprocess adds a scaler choice, standard or minmax, to every learner).
Each tool runs max(--trials) trials per seed, 5-fold CV (stratified for
classification), accuracy or RMSE; the table shows the best CV score after
each budget in --trials.  Both tools' trial sequences are prefixes of the
longer run: automl's runner and this script's Optuna loop both ask a batch
of 8, evaluate it, then tell it, so the first 30 trials of a 60-trial run
are exactly a 30-trial run.

Optuna: TPESampler(seed, constant_liar=True), the learner a categorical and
each learner's parameters conditional on it, ask 8 / tell 8 like automl's
runner.  The scikit-learn models: LogisticRegression(max_iter=1000), Ridge,
KNeighbors*, RandomForest*, HistGradientBoosting* (automl's gradient
boosting is histogram-based; early stopping off, l2_regularization=1 and
min_samples_leaf near automl's min_child_weight=1: 1 row for regression,
4 for classification where a row's hessian is at most 1/4), after mean
imputation, standardisation (or the chosen scaler) and one-hot encoding.

The two tools use different folds (same count and kind, different
shuffles), different learner implementations and so different scores for
the same configuration: the TPE column compares whole searches, not
proposals on one objective.  Medians over seeds damp the fold noise.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")  # folds run in 2 processes instead

import numpy as np  # noqa: E402
import optuna  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import (HistGradientBoostingClassifier,  # noqa: E402
                              HistGradientBoostingRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "datasets")
BATCH = 8
# halving and bohb run this many times the longest budget in trials, so that
# a prefix of the run spends that budget's worth of full evaluations (most of
# their trials are on a fraction of the resource).
HALVING_FACTOR = 6
# name: (target, task)
DATASETS = {
    "credit_g": ("class", "classification"),
    "pima_diabetes": ("diabetes", "classification"),
    "breast_cancer_wdbc": ("target", "classification"),
    "sonar": ("Class", "classification"),
    "diabetes": ("target", "regression"),
    "abalone": ("Rings", "regression"),
    "wine_quality_white": ("quality", "regression"),
}
# The shared space; Optuna's suggestions below mirror it line by line.
SPACE = """learners:
  {linear}:
    {linear_param}: {{log_uniform: [1.0e-3, 1.0e3]}}
  knn:
    k: {{int: [1, 50]}}
    weights: [uniform, distance]
  random_forest:
    n_estimators: {{int_log: [10, 200]}}
    max_features: {{uniform: [0.1, 1.0]}}
    min_samples_leaf: {{int: [1, 20]}}
  gradient_boosting:
    n_estimators: {{int_log: [20, 300]}}
    learning_rate: {{log_uniform: [0.01, 0.3]}}
    max_depth: {{int: [2, 8]}}
"""
SPEC = """study: {name}
data:
  train: {path}
  target: {target}
  task: {task}
cv: {{folds: 5, seed: {seed}}}
metric: {metric}
search:
  strategy: {strategy}
  trials: {trials}
  parallel: 2
  seed: {seed}
  defaults_first: false  # compare the strategies' own proposals only
{preprocess}{space}store: {name}.db
ensemble: {{method: none}}
"""


def metric_of(task):
    return "accuracy" if task == "classification" else "rmse"


def best_after(scores, n, task, compute=False):
    """Best full-resource score of the first n trials (compute=False), or of the
    trials whose resources add up to at most n full evaluations (compute=True).
    scores holds (score or None when failed, resource); halving's partial
    evaluations do not count for the best, as they do not in automl."""
    if compute:
        spent = np.cumsum([r for _, r in scores])
        prefix = [x for x, c in zip(scores, spent) if c <= n + 1e-9]
    else:
        prefix = scores[:n]
    ok = [s for s, r in prefix if s is not None and r >= 1.0 - 1e-9]
    if not ok:
        return float("nan")
    return max(ok) if task == "classification" else min(ok)


def run_automl(binary, strategy, name, trials, seed, preprocess, work):
    target, task = DATASETS[name]
    linear, param = (("logistic_regression", "C") if task == "classification"
                     else ("ridge", "alpha"))
    spec = os.path.join(work, name + ".yaml")
    with open(spec, "w") as f:
        f.write(SPEC.format(
            name=name, path=os.path.join(SHARED, name + ".csv"), target=target, task=task,
            seed=seed, metric=metric_of(task), strategy=strategy, trials=trials,
            preprocess="preprocess:\n  scale: [standard, minmax]\n" if preprocess else "",
            space=SPACE.format(linear=linear, linear_param=param)))
    t0 = time.perf_counter()
    subprocess.run([binary, "run", spec, "--fresh", "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    out = subprocess.run([binary, "trials", os.path.join(work, name + ".db"), "--all",
                          "--format", "csv"], check=True, capture_output=True,
                         text=True).stdout
    rows = sorted(csv.DictReader(out.splitlines()), key=lambda r: int(r["number"]))
    return [(float(r["score"]) if r["status"] == "ok" else None,
             float(r.get("resource") or 1.0)) for r in rows], elapsed


def automl_has(binary, strategy, work):
    """Whether the binary accepts `strategy` (it rejects an unknown one as bad input)."""
    spec = os.path.join(work, "probe.yaml")
    with open(spec, "w") as f:
        f.write(SPEC.format(name="probe", path=os.path.join(SHARED, "sonar.csv"),
                            target="Class", task="classification", seed=1,
                            metric="accuracy", strategy=strategy, trials=1, preprocess="",
                            space="learners:\n  knn: {k: 5}\n"))
    r = subprocess.run([binary, "run", spec, "--fresh", "--quiet"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode != 2  # 1 is fine: one partial evaluation exports nothing


def load(name):
    target, task = DATASETS[name]
    df = pd.read_csv(os.path.join(SHARED, name + ".csv"), na_values=["", "NA", "?"],
                     keep_default_na=False)
    df = df[df[target].notna()]
    y = df[target].values
    y = y.astype(str) if task == "classification" else y.astype(float)
    X = df.drop(columns=[target])
    cats = [c for c in X.columns if X[c].dtype == object]
    nums = [c for c in X.columns if c not in cats]
    return X, y, nums, cats


def sklearn_pipeline(trial, task, nums, cats, preprocess, seed):
    """The scikit-learn pipeline of an Optuna trial drawn from the shared space."""
    cls = task == "classification"
    learner = trial.suggest_categorical(
        "learner", ["linear", "knn", "random_forest", "gradient_boosting"])
    scaler = StandardScaler()
    if preprocess and trial.suggest_categorical("scale", ["standard", "minmax"]) == "minmax":
        scaler = MinMaxScaler()
    if learner == "linear":
        c = trial.suggest_float("linear_c", 1e-3, 1e3, log=True)
        model = LogisticRegression(C=c, max_iter=1000) if cls else Ridge(alpha=c)
    elif learner == "knn":
        kw = dict(n_neighbors=trial.suggest_int("knn_k", 1, 50),
                  weights=trial.suggest_categorical("knn_weights", ["uniform", "distance"]))
        model = KNeighborsClassifier(**kw) if cls else KNeighborsRegressor(**kw)
    elif learner == "random_forest":
        kw = dict(n_estimators=trial.suggest_int("rf_n", 10, 200, log=True),
                  max_features=trial.suggest_float("rf_max_features", 0.1, 1.0),
                  min_samples_leaf=trial.suggest_int("rf_min_leaf", 1, 20),
                  random_state=seed)
        model = RandomForestClassifier(**kw) if cls else RandomForestRegressor(**kw)
    else:
        kw = dict(max_iter=trial.suggest_int("gb_n", 20, 300, log=True),
                  learning_rate=trial.suggest_float("gb_lr", 0.01, 0.3, log=True),
                  max_depth=trial.suggest_int("gb_depth", 2, 8), max_leaf_nodes=None,
                  l2_regularization=1.0, early_stopping=False,
                  min_samples_leaf=4 if cls else 1, random_state=seed)
        model = (HistGradientBoostingClassifier(**kw) if cls
                 else HistGradientBoostingRegressor(**kw))
    prep = ColumnTransformer([
        ("num", Pipeline([("imp", SimpleImputer()), ("sc", scaler)]), nums),
        ("cat", OneHotEncoder(handle_unknown="ignore"), cats)])
    return Pipeline([("prep", prep), ("model", model)])


def run_tpe(name, trials, seed, preprocess):
    """Optuna TPE, ask 8 / tell 8; the CV score of every trial in order."""
    _, task = DATASETS[name]
    X, y, nums, cats = load(name)
    cls = task == "classification"
    cv = (StratifiedKFold(5, shuffle=True, random_state=seed) if cls
          else KFold(5, shuffle=True, random_state=seed))
    scoring = "accuracy" if cls else "neg_root_mean_squared_error"
    study = optuna.create_study(
        direction="maximize" if cls else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed, constant_liar=True))
    scores = []
    t0 = time.perf_counter()
    while len(scores) < trials:
        batch = [study.ask() for _ in range(min(BATCH, trials - len(scores)))]
        values = []
        for trial in batch:
            pipe = sklearn_pipeline(trial, task, nums, cats, preprocess, seed)
            s = cross_val_score(pipe, X, y, cv=cv, scoring=scoring, n_jobs=2).mean()
            values.append(s if cls else -s)
        for trial, v in zip(batch, values):
            study.tell(trial, v)
        scores.extend((v, 1.0) for v in values)
    return scores, time.perf_counter() - t0


def fmt(x):
    return f"{x:9.4f}" if abs(x) < 1000 else f"{x:9.1f}"


# Table columns: (heading, the runs it reads, counted by resource spent).
COLUMNS = [("random", "random", False), ("bayes", "bayes", False),
           ("genetic", "genetic", False), ("halving", "halving", False),
           ("halv@res", "halving", True), ("bohb@res", "bohb", True), ("tpe", "tpe", False)]


def medians(results, name, n, columns):
    task = DATASETS[name][1]
    out = {}
    for head, key, compute in columns:
        runs = results[name].get(key)
        out[head] = (float(np.median([best_after(r[0], n, task, compute) for r in runs]))
                     if runs else float("nan"))
    return out


def print_budget(results, names, columns, n):
    print(f"\nbest CV score after {n} trials, median over seeds"
          " (accuracy: higher is better; rmse: lower is better)")
    print(f"{'data set':<20} {'metric':<8}" + "".join(f" {c[0]:>9}" for c in columns)
          + "  bayes>=random  bayes>=tpe")
    wins_r = wins_t = 0
    for name in names:
        task = DATASETS[name][1]
        med = medians(results, name, n, columns)
        sign = 1 if task == "classification" else -1
        br = sign * med["bayes"] >= sign * med["random"]
        bt = sign * med["bayes"] >= sign * med["tpe"]
        wins_r += br
        wins_t += bt
        cells = "".join(f" {fmt(med[c[0]])}" if not np.isnan(med[c[0]]) else f" {'-':>9}"
                        for c in columns)
        print(f"{name:<20} {metric_of(task):<8}{cells}  {'yes' if br else 'no':>13}"
              f"  {'yes' if bt else 'no':>10}")
    for key in ("halving", "bohb"):
        runs = [r for name in names for r in results[name].get(key, [])]
        if runs:
            full_t = np.median([sum(x is not None and r >= 1 - 1e-9 for x, r in run[0][:n])
                                for run in runs])
            trials_r = np.median([np.sum(np.cumsum([r for _, r in run[0]]) <= n + 1e-9)
                                  for run in runs])
            print(f"{key}: median {full_t:.0f} full evaluations in the first {n} trials;"
                  f" {n} full evaluations' worth of resource = {trials_r:.0f} trials")
    k = len(names)
    print(f"targets: bayes >= random on {wins_r}/{k} sets (target >= 4 of 5): "
          f"{'met' if wins_r * 5 >= 4 * k else 'missed'}; bayes >= TPE on {wins_t}/{k} "
          f"(target >= 3 of 5): {'met' if wins_t * 5 >= 3 * k else 'missed'}")


def print_table(results, names, budgets):
    """results[name][strategy] = list over seeds of (scores, seconds)."""
    columns = [c for c in COLUMNS if c[1] in results[names[0]]]
    for n in budgets:
        print_budget(results, names, columns, n)
    keys = [k for k in ("random", "bayes", "genetic", "halving", "bohb", "tpe")
            if k in results[names[0]]]
    print(f"\nmedian wall seconds of a search ({budgets[-1]} trials; halving and bohb"
          f" {HALVING_FACTOR * budgets[-1]}):")
    print(f"{'data set':<20}" + "".join(f" {k:>9}" for k in keys))
    for name in names:
        print(f"{name:<20}" + "".join(
            f" {np.median([r[1] for r in results[name][k]]):9.1f}" for k in keys))


def print_header(names, seeds, budgets, preprocess, halving):
    print(f"search on real data: {len(names)} sets, seeds {seeds}, 5-fold CV, "
          f"budgets {budgets}, preprocess choice {'on' if preprocess else 'off'}")
    print("automl and scikit-learn use DIFFERENT folds (same count, own shuffles) and "
          "their own learners,")
    print("so the tpe column compares whole searches, not the same objective.")
    if not halving:
        print("halving: not in this automl build; its column is left out.")
    else:
        print("halving and bohb count every evaluation as a trial, most of them on a"
              " fraction of the\nresource; their best is over full evaluations only"
              " (as automl's own best is).  'halving' is\nat equal trials; 'halv@res'"
              " and 'bohb@res' at equal resource: the trials whose resources add up"
              "\nto at most N full evaluations.")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", default="30,60")
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--datasets",
                    default="credit_g,pima_diabetes,breast_cancer_wdbc,sonar,diabetes,abalone")
    ap.add_argument("--preprocess", action="store_true",
                    help="add a scaler choice (standard, minmax) to every learner")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "cli", "automl"))
    ap.add_argument("--save", help="write the raw results here as they come (JSON)")
    ap.add_argument("--load", help="print the table of --save files (a,b,...) and stop")
    args = ap.parse_args()
    if args.load:  # several files (comma-separated) are merged, first file first
        saved = {"names": [], "results": {}}
        for path in args.load.split(","):
            with open(path) as f:
                part = json.load(f)
            saved["names"] += part["names"]
            saved["results"].update(part["results"])
            saved.update({k: part[k] for k in ("seeds", "budgets", "preprocess")})
        done = [n for n in dict.fromkeys(saved["names"]) if n in saved["results"]]
        print_header(done, saved["seeds"], saved["budgets"], saved["preprocess"],
                     "halving" in saved["results"][done[0]])
        print_table(saved["results"], done, saved["budgets"])
        return 0
    if not os.path.isdir(SHARED):
        print("bench: ../shared/datasets is absent; nothing to compare", file=sys.stderr)
        return 0
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    budgets = sorted(int(x) for x in args.trials.split(","))
    seeds = [int(x) for x in args.seeds.split(",")]
    names = args.datasets.split(",")
    with tempfile.TemporaryDirectory() as work:
        strategies = ["random", "bayes", "genetic"]
        halving = automl_has(args.binary, "halving", work)
        if halving:
            strategies += ["halving", "bohb"]
        print_header(names, seeds, budgets, args.preprocess, halving)
        results = {}
        for name in names:
            results[name] = {s: [] for s in strategies + ["tpe"]}
            for seed in seeds:
                for s in strategies:
                    n = budgets[-1] * (HALVING_FACTOR if s in ("halving", "bohb") else 1)
                    results[name][s].append(run_automl(
                        args.binary, s, name, n, seed, args.preprocess, work))
                results[name]["tpe"].append(
                    run_tpe(name, budgets[-1], seed, args.preprocess))
                if args.save:
                    with open(args.save, "w") as f:
                        json.dump({"names": names, "budgets": budgets, "seeds": seeds,
                                   "preprocess": args.preprocess, "results": results}, f)
            print(f"  {name} done", file=sys.stderr, flush=True)
    print_table(results, names, budgets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
