#!/usr/bin/python3
"""Puts the regret CSVs of search_functions (C) and search_functions_optuna.py
side by side: one row per (function, evaluations), one column per strategy,
each cell the median simple regret over the seeds with its quartiles
[q1, q3] (numpy's default linear interpolation).  The last column says
whether bayes' median is below TPE's.

    /usr/bin/python3 bench/search_functions_table.py c.csv optuna.csv [--markdown]
"""
import csv
import sys
from collections import defaultdict

import numpy as np

ORDER = ["random", "genetic", "bayes", "tpe", "cmaes"]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    runs = defaultdict(list)
    for path in args:
        with open(path) as f:
            for r in csv.DictReader(f):
                key = (r["function"], int(r["evals"]), r["strategy"])
                runs[key].append(float(r["regret"]))
    known = ["branin", "hartmann6", "mixed"]
    functions = sorted({k[0] for k in runs},
                       key=lambda f: known.index(f) if f in known else len(known))
    strategies = [s for s in ORDER if any(k[2] == s for k in runs)]
    head = ["function", "evals"] + strategies + ["bayes < tpe"]
    rows = []
    for fn in functions:
        for n in sorted({k[1] for k in runs if k[0] == fn}):
            row, med = [fn, str(n)], {}
            for s in strategies:
                v = runs.get((fn, n, s))
                if not v:
                    row.append("-")
                    continue
                q1, m, q3 = np.percentile(v, [25, 50, 75])
                med[s] = m
                row.append("%.3g [%.3g, %.3g] (%d)" % (m, q1, q3, len(v)))
            row.append("yes" if med.get("bayes", 1e300) < med.get("tpe", -1e300) else
                       "no" if "bayes" in med and "tpe" in med else "-")
            rows.append(row)
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    width = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, width)))


if __name__ == "__main__":
    main()
