#!/usr/bin/python3
"""Kernel SVM, Gaussian naive Bayes, the MLP and k-nearest neighbours against
scikit-learn, with the fit and predict times given as medians of REPEAT runs
(the machine is shared: single runs are noisy).

    AML_FIT=/path/to/build/bench/aml_fit /usr/bin/python3 bench/learners_misc.py [REPEAT]

Pairs:
  - svm (rbf, gamma scale, C 1, Platt on 5-fold decision values) against
    SVC(probability=True), which does the same internal 5-fold Platt fit,
    on 5000-row subsamples of adult and letter;
  - naive_bayes against GaussianNB;
  - mlp (hidden 100, relu, Adam) against MLPClassifier at equal epochs: both
    run exactly max_iter epochs (n_iter_no_change above max_iter);
  - knn (k 5) with 1 and 2 threads against KNeighborsClassifier /
    KNeighborsRegressor with algorithm brute and auto, n_jobs 1 and 2 (same
    thread count compared), on letter and adult (brute force for both) and
    california_housing (13 columns: automl's k-d tree, and scikit-learn's
    under auto).
Ratios are automl / scikit-learn; below 1 means automl is faster or smaller.
"""
import os
import statistics
import sys
import tempfile

from learnerbench import SHARED, run_automl, run_python, split

SK = "from sklearn import svm, naive_bayes, neural_network, neighbors"
# (data set, max rows, learner, params, threads, python model, scale)
PAIRS = [
    ("adult", 5000, "svm", {}, 1, "svm.SVC(probability=True)", True),
    ("letter", 5000, "svm", {}, 1, "svm.SVC(probability=True)", True),
    ("adult", None, "naive_bayes", {}, 1, "naive_bayes.GaussianNB()", False),
    ("letter", None, "naive_bayes", {}, 1, "naive_bayes.GaussianNB()", False),
    ("digits", None, "naive_bayes", {}, 1, "naive_bayes.GaussianNB()", False),
    ("letter", None, "mlp", {"max_iter": 20, "n_iter_no_change": 1000}, 1,
     "neural_network.MLPClassifier(max_iter=20, n_iter_no_change=1000)", True),
    ("digits", None, "mlp", {"max_iter": 50, "n_iter_no_change": 1000}, 1,
     "neural_network.MLPClassifier(max_iter=50, n_iter_no_change=1000)", True),
]
for name in ("letter", "adult"):
    for threads in (1, 2):
        for algo in ("brute", "auto"):
            PAIRS.append((name, None, "knn", {"k": 5}, threads,
                          f"neighbors.KNeighborsClassifier(5, algorithm='{algo}',"
                          f" n_jobs={threads})", True))
for threads in (1, 2):
    for algo in ("brute", "auto"):
        PAIRS.append(("california_housing", None, "knn", {"k": 5}, threads,
                      f"neighbors.KNeighborsRegressor(5, algorithm='{algo}',"
                      f" n_jobs={threads})", True))


def median_run(fn, repeat):
    runs = [fn() for _ in range(repeat)]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main():
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    if not os.path.isdir(SHARED):
        print("bench: ../shared/datasets is absent; nothing to compare", file=sys.stderr)
        return
    print(f"medians of {repeat} runs; ratios automl / scikit-learn;"
          " scores: accuracy (RMSE for california_housing); times in seconds")
    print(f"{'data set':<10} {'rows':>6} {'learner':<12} {'thr':>3} {'fit':>6} {'predict':>7}"
          f" {'memory':>6} {'aml fit':>8} {'aml pred':>8} {'sk fit':>8} {'sk pred':>8}"
          f" {'automl':>7} {'sklearn':>7}  counterpart")
    with tempfile.TemporaryDirectory() as work:
        done = {}
        for name, rows, learner, params, threads, model, scale in PAIRS:
            key = (name, rows)
            if key not in done:
                sub = os.path.join(work, f"{name}_{rows}")
                os.mkdir(sub)
                done[key] = split(name, sub, max_rows=rows)
            a = median_run(lambda: run_automl(name, done[key], learner, params, threads),
                           repeat)
            p = median_run(lambda: run_python(name, done[key], model, SK, scale), repeat)
            print(f"{name:<10} {rows or 'all':>6} {learner:<12} {threads:>3}"
                  f" {a['fit'] / p['fit']:6.2f} {a['predict'] / max(p['predict'], 1e-9):7.2f}"
                  f" {a['rss'] / p['rss']:6.2f} {a['fit']:8.3f} {a['predict']:8.3f}"
                  f" {p['fit']:8.3f} {p['predict']:8.3f} {a['score']:7.4f} {p['score']:7.4f}"
                  f"  {model}", flush=True)


if __name__ == "__main__":
    main()
