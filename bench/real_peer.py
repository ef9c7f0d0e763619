"""The plain analyst's baseline on an attribute-only export: scikit-learn's
LogisticRegression on one-hot categories and standardised raw numbers (default C),
trained on the deals closed before a split time and judged (ROC AUC) on the deals
closed after it. bench/real.sh runs it beside leadscore on the same tables.

Usage: python3 bench/real_peer.py DIR SPLIT  (DIR holds leads.csv and outcomes.csv)
Prints one JSON object: rows, won rate and ROC AUC on each side of the split.
"""

import json
import sys

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def main(directory: str, split: str) -> None:
    leads = pl.read_csv(f"{directory}/leads.csv", infer_schema_length=100_000)
    outcomes = pl.read_csv(f"{directory}/outcomes.csv", try_parse_dates=True)
    table = leads.join(outcomes, on="lead_id", how="inner").with_columns(
        pl.col("closed_at").cast(pl.Datetime("us"))
    )
    split_at = pl.Series([split]).str.to_datetime(time_unit="us")[0]
    attributes = [c for c in leads.columns if c not in ("lead_id", "created_at")]
    numeric = [c for c in attributes if leads.schema[c].is_numeric()]
    categorical = [c for c in attributes if c not in numeric]
    earlier = table.filter(pl.col("closed_at") < split_at)
    later = table.filter(pl.col("closed_at") >= split_at)

    def labels(part: pl.DataFrame) -> np.ndarray:
        return (part["outcome"].str.to_lowercase() == "won").to_numpy()

    numbers = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler())
    categories = OneHotEncoder(handle_unknown="ignore", sparse_output=False)

    def design(part: pl.DataFrame, fit: bool) -> np.ndarray:
        x_num = part.select(numeric).cast(pl.Float64).to_numpy() if numeric else None
        x_cat = (
            part.select(categorical).fill_null("<missing>").cast(pl.String).to_numpy().astype(object)
            if categorical
            else None
        )
        blocks = []
        if x_num is not None:
            blocks.append(numbers.fit_transform(x_num) if fit else numbers.transform(x_num))
        if x_cat is not None:
            blocks.append(categories.fit_transform(x_cat) if fit else categories.transform(x_cat))
        return np.hstack(blocks)

    model = LogisticRegression(max_iter=5000)
    model.fit(design(earlier, True), labels(earlier))
    result = {"split": split}
    for name, part in (("train", earlier), ("after_split", later)):
        y = labels(part)
        p = model.predict_proba(design(part, False))[:, 1]
        result[name] = {
            "rows": int(len(y)),
            "won_rate": float(y.mean()),
            "roc_auc": float(roc_auc_score(y, p)),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
