"""Shared harness for the learner benchmarks (bench/learners_*.py).

Each pair runs automl's learner (through bench/aml_fit, built by bench/run.sh)
and its scikit-learn or XGBoost counterpart on the same 75/25 train/test split
of a data set in ../shared/datasets, each in its own process so that peak
memory (ru_maxrss) is its own, and prints one row per pair:

  data set, learner, fit time ratio, predict time ratio, peak memory ratio,
  automl's test score, the counterpart's test score

Ratios are automl / counterpart (below 1 means automl is faster or smaller).
The counterpart sees the same preprocessing automl does: mean imputation,
standardisation when automl's learner wants it, one-hot encoding of strings.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "datasets")
AML_FIT = os.environ.get("AML_FIT", os.path.join(ROOT, "build", "bench", "aml_fit"))

# name -> (target, task, extra pandas read_csv arguments)
DATASETS = {
    "adult": ("income", "classification", {"skipinitialspace": True}),
    "letter": ("lettr", "classification", {}),
    "bank_marketing": ("y", "classification", {}),
    "california_housing": ("median_house_value", "regression", {}),
    "diamonds": ("price", "regression", {}),
    "digits": ("target", "classification", {}),
    "breast_cancer_wdbc": ("target", "classification", {}),
    "sonar": ("Class", "classification", {}),
    "diabetes": ("target", "regression", {}),
    "wine_quality_white": ("quality", "regression", {}),
}


def split(name, workdir, seed=0, max_rows=None):
    """Writes NAME_train.csv and NAME_test.csv (75/25) and returns their paths."""
    import pandas as pd

    target, _, kw = DATASETS[name]
    df = pd.read_csv(os.path.join(SHARED, name + ".csv"), na_values=["?"], **kw)
    df = df[df[target].notna()]
    if max_rows and len(df) > max_rows:
        df = df.sample(n=max_rows, random_state=seed)
    train = df.sample(frac=0.75, random_state=seed)
    test = df.drop(train.index)
    paths = [os.path.join(workdir, f"{name}_{part}.csv") for part in ("train", "test")]
    train.to_csv(paths[0], index=False)
    test.to_csv(paths[1], index=False)
    return paths


def run_automl(name, paths, learner, params, threads=1):
    target, task, _ = DATASETS[name]
    args = [AML_FIT, paths[0], paths[1], target, learner, "--task", task,
            "--threads", str(threads)] + [f"{k}={v}" for k, v in params.items()]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    fields = dict(kv.split("=") for kv in out.split())
    return {"fit": float(fields["fit_s"]), "fit_cpu": float(fields["fit_cpu_s"]),
            "predict": float(fields["predict_s"]), "score": float(fields["score"]),
            "rss": int(fields["maxrss_kb"])}


# Runs in a child process: imports stay out of the parent's memory.
_CHILD = r'''
import json, resource, sys, time
import numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler, LabelEncoder
spec = json.loads(sys.argv[1])
tr, te = pd.read_csv(spec["train"]), pd.read_csv(spec["test"])
target, task = spec["target"], spec["task"]
ytr, yte = tr.pop(target), te.pop(target)
if task == "classification":
    enc = LabelEncoder().fit(ytr.astype(str))
    known = set(enc.classes_)
    ytr = enc.transform(ytr.astype(str))
    yte = np.array([enc.transform([v])[0] if v in known else -1 for v in yte.astype(str)])
cats = [c for c in tr.columns if tr[c].dtype == object]
nums = [c for c in tr.columns if c not in cats]
num = [("imp", SimpleImputer())] + ([("sc", StandardScaler())] if spec["scale"] else [])
prep = ColumnTransformer([("num", Pipeline(num), nums),
                          ("cat", OneHotEncoder(handle_unknown="ignore",
                                                sparse_output=False), cats)])
Xtr, Xte = prep.fit_transform(tr), prep.transform(te)
ns = {}
exec(spec["setup"], ns)
model = eval(spec["model"], ns)
t0, c0 = time.perf_counter(), time.process_time()
model.fit(Xtr, ytr)
fit, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
t0 = time.perf_counter()
pred = model.predict(Xte)
predict = time.perf_counter() - t0
if task == "classification":
    score = float(np.mean(np.asarray(pred).astype(int) == yte))
else:
    score = float(np.sqrt(np.mean((np.asarray(pred) - yte) ** 2)))
print(json.dumps({"fit": fit, "fit_cpu": fit_cpu, "predict": predict, "score": score,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
'''


def run_python(name, paths, model, setup="", scale=False):
    """model: a Python expression building the estimator; setup: its imports."""
    target, task, _ = DATASETS[name]
    spec = {"train": paths[0], "test": paths[1], "target": target, "task": task,
            "model": model, "setup": setup, "scale": scale}
    out = subprocess.run(["/usr/bin/python3", "-c", _CHILD, json.dumps(spec)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


HEADER = (f"{'data set':<20} {'learner':<26} {'fit':>7} {'predict':>8} {'memory':>7}"
          f" {'automl':>9} {'other':>9}  counterpart")


def row(name, label, a, p, other, clock="wall"):
    fit = "fit_cpu" if clock == "cpu" else "fit"
    times = f" {a[fit]:7.3f}s {p[fit]:7.3f}s" if clock == "cpu" or clock == "wall+" else ""
    return (f"{name:<20} {label:<26} {a[fit] / p[fit]:7.2f} "
            f"{a['predict'] / max(p['predict'], 1e-9):8.2f} {a['rss'] / p['rss']:7.2f} "
            f"{a['score']:9.4f} {p['score']:9.4f}{times}  {other}")


def compare(pairs, max_rows=None, repeats=1, clock="wall"):
    """pairs: (data set, automl learner, params dict, python expr, setup, scale, label),
    optionally followed by an eighth field, the thread count both sides get (default 1;
    the Python expression should pass it on itself, e.g. n_jobs=2).  With repeats > 1
    each side runs that many times and the row shows median times.  clock "cpu" compares
    fit CPU time (user + sys of all threads; steadier on a shared machine) and "wall+"
    wall time, both printing the two median fit times in seconds after the scores."""
    if not os.path.isdir(SHARED):
        print("bench: ../shared/datasets is absent; nothing to compare", file=sys.stderr)
        return
    print("ratios are automl / counterpart; scores: accuracy (higher) or RMSE (lower)")
    if clock != "wall":
        print(f"fit: median {'CPU' if clock == 'cpu' else 'wall'} time of {repeats} runs"
              f" (automl s, counterpart s after the scores)")
    print(HEADER)
    with tempfile.TemporaryDirectory() as work:
        done = {}
        for pair in pairs:
            name, learner, params, model, setup, scale, label = pair[:7]
            threads = pair[7] if len(pair) > 7 else 1
            if name not in done:
                done[name] = split(name, work, max_rows=max_rows)
            a = _median([run_automl(name, done[name], learner, params, threads)
                         for _ in range(repeats)])
            p = _median([run_python(name, done[name], model, setup, scale)
                         for _ in range(repeats)])
            print(row(name, label or learner, a, p, model, clock), flush=True)


def _median(runs):
    """Median fit and predict time over runs; score and memory of the first."""
    import statistics

    out = dict(runs[0])
    for key in ("fit", "fit_cpu", "predict"):
        out[key] = statistics.median(r[key] for r in runs)
    return out
