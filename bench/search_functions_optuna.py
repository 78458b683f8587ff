#!/usr/bin/python3
"""Optuna's TPE and CMA-ES on the functions of bench/search_functions.c.

Same functions, optima, seeds (0..N-1), evaluation counts and rhythm as the
C driver: ask a batch of 8 trials, evaluate them, tell the 8 results, the
last batch cut to what is left; TPE runs with constant_liar=True so a batch
spreads out the way bayes' constant liar does.  CMA-ES has no categorical
support: Optuna samples the mixed function's choice with its independent
(random) sampler, as it warns.  Prints the same CSV lines as the C driver:

    function,strategy,seed,evals,regret

    /usr/bin/python3 bench/search_functions_optuna.py [--seeds 20] [--evals 100]

Debian 12's python3-optuna (3.1.0).
"""
import argparse
import math
import sys
import time
import warnings

import optuna

BATCH = 8
MARKS = (25, 50, 100, 200, 500, 1000)


def branin(x1, x2):
    b = 5.1 / (4 * math.pi ** 2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


H6_ALPHA = (1.0, 1.2, 3.0, 3.2)
H6_A = ((10, 3, 17, 3.5, 1.7, 8), (0.05, 10, 17, 0.1, 8, 14),
        (3, 3.5, 1.7, 10, 17, 8), (17, 8, 0.05, 10, 0.1, 14))
H6_P = ((1312, 1696, 5569, 124, 8283, 5886), (2329, 4135, 8307, 3736, 1004, 9991),
        (2348, 1451, 3522, 2883, 3047, 6650), (4047, 8828, 8732, 5743, 1091, 381))


def hartmann6(x):
    f = 0.0
    for i in range(4):
        e = sum(H6_A[i][j] * (x[j] - 1e-4 * H6_P[i][j]) ** 2 for j in range(6))
        f -= H6_ALPHA[i] * math.exp(-e)
    return f


def f_branin(trial):
    return branin(trial.suggest_float("x1", -5, 10), trial.suggest_float("x2", 0, 15))


def f_hartmann6(trial):
    return hartmann6([trial.suggest_float("x%d" % (j + 1), 0, 1) for j in range(6)])


def f_mixed(trial):
    x1 = trial.suggest_float("x1", -5, 10)
    x2 = trial.suggest_int("x2", 0, 15)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return branin(x1, x2) + {"a": 1.0, "b": 0.0, "c": 2.0}[c]


FUNCTIONS = {
    "branin": (f_branin, 0.397887357729739),
    "hartmann6": (f_hartmann6, -3.32236801141551),
    "mixed": (f_mixed, 0.432335953249288),
}


def sampler(name, seed):
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    return optuna.samplers.CmaEsSampler(seed=seed)


def run(fn, name, seed, evals):
    study = optuna.create_study(direction="minimize", sampler=sampler(name, seed))
    best, run_min, done = [], math.inf, 0
    while done < evals:
        trials = [study.ask() for _ in range(min(BATCH, evals - done))]
        values = [fn(t) for t in trials]
        for t, v in zip(trials, values):
            study.tell(t, v)
            run_min = min(run_min, v)
            best.append(run_min)
        done += len(trials)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--evals", type=int, default=100)
    ap.add_argument("--functions", default=",".join(FUNCTIONS))
    ap.add_argument("--samplers", default="tpe,cmaes")
    a = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    print("function,strategy,seed,evals,regret")
    for fname in a.functions.split(","):
        fn, fstar = FUNCTIONS[fname]
        for name in a.samplers.split(","):
            t0 = time.time()
            for seed in range(a.seeds):
                best = run(fn, name, seed, a.evals)
                for m in MARKS:
                    if m <= a.evals:
                        print("%s,%s,%d,%d,%.9g"
                              % (fname, name, seed, m, best[m - 1] - fstar))
                sys.stdout.flush()
            print("%s %s: %.1f s for %d seeds" % (fname, name, time.time() - t0, a.seeds),
                  file=sys.stderr)


if __name__ == "__main__":
    main()
