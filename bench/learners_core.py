#!/usr/bin/python3
"""The skeleton's learners against scikit-learn: logistic regression, ridge,
k-nearest neighbours and the CART tree, single-threaded, same settings.

    /usr/bin/python3 bench/learners_core.py [learner ...]   (after bench/run.sh built aml_fit)

Naming learners (e.g. knn) runs only their rows.
"""
import sys

from learnerbench import compare

SK = "from sklearn import linear_model, neighbors, tree"
PAIRS = [
    ("adult", "logistic_regression", {"C": 1.0}, "linear_model.LogisticRegression(C=1.0, max_iter=1000)", SK, True, None),
    ("letter", "logistic_regression", {"C": 1.0}, "linear_model.LogisticRegression(C=1.0, max_iter=1000)", SK, True, None),
    ("letter", "knn", {"k": 5}, "neighbors.KNeighborsClassifier(5, algorithm='brute', n_jobs=1)", SK, True, None),
    ("adult", "knn", {"k": 5}, "neighbors.KNeighborsClassifier(5, algorithm='brute', n_jobs=1)", SK, True, None),
    ("adult", "decision_tree", {"max_depth": 10}, "tree.DecisionTreeClassifier(max_depth=10)", SK, False, None),
    ("letter", "decision_tree", {}, "tree.DecisionTreeClassifier()", SK, False, None),
    ("california_housing", "ridge", {"alpha": 1.0}, "linear_model.Ridge(alpha=1.0)", SK, True, None),
    ("california_housing", "decision_tree", {"max_depth": 10}, "tree.DecisionTreeRegressor(max_depth=10)", SK, False, None),
    ("diamonds", "knn", {"k": 5}, "neighbors.KNeighborsRegressor(5, algorithm='brute', n_jobs=1)", SK, True, None),
]

if __name__ == "__main__":
    only = sys.argv[1:]
    compare([p for p in PAIRS if not only or p[1] in only])
