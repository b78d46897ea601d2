"""scikit-learn on the bench's CSV (written by main.ts): the same rows, the same split; prints JSON."""
import json
import sys
import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

path = sys.argv[1]
with open(path) as f:
    header = f.readline().strip().split(",")
raw = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
numeric = [i for i, name in enumerate(header) if name.startswith("x")]
categorical = [i for i, name in enumerate(header) if name.startswith("c")]
x_num = np.where(raw[:, numeric] == "", "nan", raw[:, numeric]).astype(float)
x_cat = np.where(raw[:, categorical] == "", "__missing__", raw[:, categorical])
y = raw[:, header.index("y")].astype(float).astype(int)
test = raw[:, header.index("is_test")] == "1"
codes = np.stack([np.unique(x_cat[:, j], return_inverse=True)[1] for j in range(x_cat.shape[1])], axis=1)
x_codes = np.hstack([x_num, codes.astype(float)])
n_num = x_num.shape[1]


def fit(name, model, x):
    started = time.perf_counter()
    model.fit(x[~test], y[~test])
    seconds = time.perf_counter() - started
    auc = roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])
    return name, {"auc": float(auc), "seconds": seconds}


x_onehot = np.hstack([x_num, x_cat.astype(object)]).astype(object)
encode = ColumnTransformer(
    [
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), list(range(n_num))),
        ("cat", OneHotEncoder(handle_unknown="ignore"), list(range(n_num, n_num + x_cat.shape[1]))),
    ]
)
rf_x = np.hstack([np.where(np.isnan(x_num), np.nanmean(x_num, axis=0), x_num), codes.astype(float)])
results = dict(
    [
        fit(
            "gradient_boosting",
            HistGradientBoostingClassifier(max_iter=100, early_stopping=False, categorical_features=list(range(n_num, n_num + x_cat.shape[1])), random_state=1),
            x_codes,
        ),
        fit("random_forest", RandomForestClassifier(n_estimators=100, max_depth=12, min_samples_leaf=5, n_jobs=2, random_state=1), rf_x),
        fit("logistic_regression", make_pipeline(encode, LogisticRegression(C=1.0, max_iter=1000)), x_onehot),
    ]
)
print(json.dumps(results))
