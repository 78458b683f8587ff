#!/usr/bin/python3
"""CSV load time and memory: automl's reader against pandas.read_csv.

Usage (from the repository root; pandas from Debian's python3-pandas,
`bash cmake/setup-debian.sh --bench`):

    AML_LOAD=/path/to/build/bench/aml_load /usr/bin/python3 bench/load_vs_pandas.py [ROWS] [REPEATS]

Writes a ROWS x 20 numeric CSV (default 1,000,000 rows; values like
-1.234567, some integers, a few missing cells) into a temporary directory,
then loads it REPEATS times (default 3) with bench/aml_load (our reader,
one process per load) and with pandas.read_csv (one fresh process per
load, so each peak is its own).  Prints the median load times, their ratio
(target <= 1.0), and our peak resident memory over the float64 matrix
size ROWS x 20 x 8 bytes (target <= 1.5).  Timings on a shared machine are
noisy: the medians are what to compare.
"""
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

COLS = 20

PANDAS_CHILD = r"""
import resource, sys, time
import pandas as pd
t0 = time.perf_counter()
df = pd.read_csv(sys.argv[1])
t1 = time.perf_counter()
print("rows=%d cols=%d seconds=%.4f peak_rss_bytes=%d" % (
    len(df), df.shape[1], t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))
"""


def write_csv(path, rows):
    rng = np.random.default_rng(0)
    with open(path, "w") as f:
        f.write(",".join("x%d" % j for j in range(COLS)) + "\n")
        chunk = 100_000
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            a = rng.normal(size=(n, COLS)) * 10.0
            text = []
            for r in range(n):
                cells = []
                for j in range(COLS):
                    v = a[r, j]
                    if j % 5 == 4:
                        cells.append("%d" % int(v * 100))
                    elif (r + j) % 997 == 0:
                        cells.append("")
                    else:
                        cells.append("%.6f" % v)
                text.append(",".join(cells))
            f.write("\n".join(text) + "\n")


def parse(line):
    return dict(kv.split("=") for kv in line.split())


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return parse(out.strip().splitlines()[-1])


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    aml_load = os.environ.get("AML_LOAD", "build/bench/aml_load")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "numeric.csv")
        write_csv(path, rows)
        size = os.path.getsize(path)
        ours, theirs = [], []
        for _ in range(repeats):
            ours.append(run([aml_load, path]))
            theirs.append(run([sys.executable, "-c", PANDAS_CHILD, path]))
    assert int(ours[0]["rows"]) == rows and int(ours[0]["cols"]) == COLS
    t_ours = statistics.median(float(r["seconds"]) for r in ours)
    t_pd = statistics.median(float(r["seconds"]) for r in theirs)
    m_ours = statistics.median(int(r["peak_rss_bytes"]) for r in ours)
    m_pd = statistics.median(int(r["peak_rss_bytes"]) for r in theirs)
    matrix = rows * COLS * 8
    print("file: %d rows x %d columns, %.1f MB; float64 matrix %.1f MB"
          % (rows, COLS, size / 1e6, matrix / 1e6))
    print("load time (median of %d): automl %.3f s, pandas %.3f s, ratio %.2f (target <= 1.0)"
          % (repeats, t_ours, t_pd, t_ours / t_pd))
    print("peak memory: automl %.1f MB = %.2f x matrix (target <= 1.5); pandas %.1f MB = %.2f x"
          % (m_ours / 1e6, m_ours / matrix, m_pd / 1e6, m_pd / matrix))


if __name__ == "__main__":
    main()
