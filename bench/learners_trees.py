#!/usr/bin/python3
"""automl's tree learners against scikit-learn: decision_tree (one thread),
random_forest and extra_trees (threads=2 against n_jobs=2) and adaboost (one
thread), at equal n_estimators, depth and max_features.

    AML_FIT=build/bench/aml_fit /usr/bin/python3 bench/learners_trees.py [data set | learner ...]

AdaBoost classification is SAMME over stumps (scikit-learn's
algorithm="SAMME"), regression AdaBoost.R2 over depth-3 trees.  The machine
is shared and timings are noisy: each side runs three times and the rows
show median times.
"""
import sys

from learnerbench import compare

SK = "from sklearn import tree, ensemble"
CLF = {"adult": 10, "letter": 0, "bank_marketing": 10}     # data set -> tree max_depth
REG = {"california_housing": 10, "diamonds": 10}
N = 50


def pairs(only=None):
    out = []
    for name, depth in list(CLF.items()) + list(REG.items()):
        if only and name not in only:
            continue
        clf = name in CLF
        kind = "Classifier" if clf else "Regressor"
        md = f"max_depth={depth or None}"
        tp = {"max_depth": depth} if depth else {}
        mf = "sqrt" if clf else 1.0
        out.append((name, "decision_tree", tp, f"tree.DecisionTree{kind}({md})", SK, False,
                    None))
        out.append((name, "random_forest", {"n_estimators": N}, f"ensemble.RandomForest{kind}"
                    f"(n_estimators={N}, max_features={mf!r}, n_jobs=2)", SK, False, None, 2))
        out.append((name, "extra_trees", {"n_estimators": N}, f"ensemble.ExtraTrees{kind}"
                    f"(n_estimators={N}, max_features={mf!r}, n_jobs=2)", SK, False, None, 2))
        if clf:
            out.append((name, "adaboost", {"n_estimators": N},
                        f"ensemble.AdaBoostClassifier(tree.DecisionTreeClassifier(max_depth=1),"
                        f" n_estimators={N}, algorithm='SAMME')", SK, False, None))
        else:
            out.append((name, "adaboost", {"n_estimators": N},
                        f"ensemble.AdaBoostRegressor(tree.DecisionTreeRegressor(max_depth=3),"
                        f" n_estimators={N})", SK, False, None))
    return out


if __name__ == "__main__":
    learners = {"decision_tree", "random_forest", "extra_trees", "adaboost"}
    names = [a for a in sys.argv[1:] if a not in learners]
    only = [a for a in sys.argv[1:] if a in learners]
    compare([p for p in pairs(names) if not only or p[1] in only], repeats=3)
