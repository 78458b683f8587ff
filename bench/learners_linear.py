#!/usr/bin/python3
"""The linear family against scikit-learn: logistic regression (L2, L1),
lasso, elastic net and the linear SVM, single-threaded, same settings.

    AML_FIT=build/bench/aml_fit /usr/bin/python3 bench/learners_linear.py

Tolerances: logistic L2 uses tol=1e-4 on both sides, which means the same
thing in both (largest gradient component of sum-of-losses + 1/(2C)||w||^2;
scipy's L-BFGS-B also stops on a relative decrease below 2.2e-9, we do not).
Logistic L1 compares our proximal gradient (tol on the largest subgradient
component) with saga (tol on the relative weight change): different rules,
so both run at their defaults with max_iter 1000.  Lasso / elastic net use
scikit-learn's own duality-gap rule on both sides.  LinearSVC and ours use
liblinear's rule.  On a shared machine timings are noisy: run it a few times
and take medians.
"""
import sys

from learnerbench import compare

SK = "from sklearn import linear_model, svm"
LR = "linear_model.LogisticRegression"
PAIRS = [
    ("adult", "logistic_regression", {"C": 1.0, "tol": 1e-4},
     f"{LR}(C=1.0, max_iter=1000)", SK, True, "logistic l2"),
    ("letter", "logistic_regression", {"C": 1.0, "tol": 1e-4},
     f"{LR}(C=1.0, max_iter=1000)", SK, True, "logistic l2"),
    ("adult", "logistic_regression", {"C": 1.0, "penalty": "l1", "tol": 1e-4},
     f"{LR}(C=1.0, penalty='l1', solver='saga', max_iter=1000)", SK, True, "logistic l1"),
    ("letter", "logistic_regression", {"C": 1.0, "penalty": "l1", "tol": 1e-4},
     f"{LR}(C=1.0, penalty='l1', solver='saga', max_iter=1000)", SK, True, "logistic l1"),
    ("california_housing", "lasso", {"alpha": 1.0},
     "linear_model.Lasso(alpha=1.0)", SK, True, None),
    ("california_housing", "elastic_net", {"alpha": 0.01, "l1_ratio": 0.5},
     "linear_model.ElasticNet(alpha=0.01, l1_ratio=0.5)", SK, True, None),
    ("diamonds", "lasso", {"alpha": 1.0},
     "linear_model.Lasso(alpha=1.0)", SK, True, None),
    ("diamonds", "elastic_net", {"alpha": 0.01, "l1_ratio": 0.5},
     "linear_model.ElasticNet(alpha=0.01, l1_ratio=0.5)", SK, True, None),
    ("adult", "linear_svm", {"C": 1.0},
     "svm.LinearSVC(C=1.0)", SK, True, None),
    ("letter", "linear_svm", {"C": 1.0},
     "svm.LinearSVC(C=1.0)", SK, True, None),
    ("adult", "linear_svm", {"C": 1.0, "loss": "hinge"},
     "svm.LinearSVC(C=1.0, loss='hinge')", SK, True, "linear_svm hinge"),
]

if __name__ == "__main__":
    compare(PAIRS)
