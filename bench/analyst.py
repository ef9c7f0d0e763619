"""The plain analyst's lead scorer, what a user would write instead of leadscore: polars
features from one cutoff per closed lead (its close date), scikit-learn LogisticRegression
(default C) on them, and the leads open at SPLIT scored. bench/analyst.sh times it beside
leadscore's default `train` + `score` on the same files (issue #14).

Usage: python3 bench/analyst.py DATA_DIR SPLIT OUT_SCORES.csv
DATA_DIR holds leads.csv, interactions.csv and outcomes.csv; SPLIT is an ISO 8601 time.
Writes lead_id,probability for the open leads and prints one JSON line of stage timings.
"""

import json
import sys
import time
from datetime import datetime, timezone

import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

data, split_text, out = sys.argv[1:4]
split = datetime.fromisoformat(split_text.replace("Z", "+00:00")).astimezone(timezone.utc)
times = {}
clock = time.perf_counter()


def lap(stage):
    global clock
    now = time.perf_counter()
    times[stage] = round(now - clock, 3)
    clock = now


numbers_in_leads = {"company_size": pl.Float64, "lucky_number": pl.Float64}  # may be empty
leads = pl.read_csv(f"{data}/leads.csv", try_parse_dates=True, schema_overrides=numbers_in_leads)
interactions = pl.read_csv(f"{data}/interactions.csv", try_parse_dates=True)
outcomes = pl.read_csv(f"{data}/outcomes.csv", try_parse_dates=True)
lap("read")

leads = leads.filter(pl.col("created_at") < split)
interactions = interactions.filter(pl.col("occurred_at") < split)
closed = outcomes.filter(pl.col("closed_at") < split)
attributes = [c for c in leads.columns if c not in ("lead_id", "created_at")]
numeric = [c for c in attributes if leads.schema[c].is_numeric()]
categorical = [c for c in attributes if c not in numeric]
event_types = sorted(interactions["event_type"].unique().to_list())

# Training rows: each closed lead once, as of its close date. Open rows: as of SPLIT.
train = leads.join(closed, on="lead_id").rename({"closed_at": "cutoff"})
open_leads = leads.join(closed, on="lead_id", how="anti").with_columns(
    pl.lit(split).dt.cast_time_unit("us").alias("cutoff")
)


def features(rows):
    seen = (
        interactions.join(rows.select("lead_id", "cutoff"), on="lead_id")
        .filter(pl.col("occurred_at") < pl.col("cutoff"))
    )
    counts = seen.pivot("event_type", index="lead_id", values="occurred_at", aggregate_function="len")
    activity = seen.group_by("lead_id").agg(
        pl.len().alias("interactions"), pl.col("occurred_at").max().alias("last_seen")
    )
    table = rows.join(counts, on="lead_id", how="left").join(activity, on="lead_id", how="left")
    for event in event_types:
        if event not in table.columns:
            table = table.with_columns(pl.lit(0).alias(event))
    days = lambda since: (pl.col("cutoff") - since).dt.total_seconds() / 86400
    return table.with_columns(
        pl.col(event_types + ["interactions"]).fill_null(0),
        days(pl.col("last_seen")).alias("days_since_last"),
        days(pl.col("created_at")).alias("age_days"),
        pl.col(categorical).fill_null("missing"),
    )


numbers = numeric + event_types + ["interactions", "days_since_last", "age_days"]
train, open_leads = features(train), features(open_leads)
means = train.select(pl.col(numbers).cast(pl.Float64).mean()).row(0, named=True)
dummies = train.select(categorical).to_dummies()


def design(table):
    x_num = table.select(pl.col(c).cast(pl.Float64).fill_null(means[c]) for c in numbers)
    x_cat = table.select(categorical).to_dummies()
    x_cat = x_cat.select(  # categories learned on train: unseen ones dropped, absent ones 0
        (pl.col(c) if c in x_cat.columns else pl.lit(0)).cast(pl.Float64).alias(c)
        for c in dummies.columns
    )
    return pl.concat([x_num, x_cat], how="horizontal").to_numpy()


x_train, y_train = design(train), (train["outcome"] == "won").to_numpy()
x_open = design(open_leads)
lap("features")

scaler = StandardScaler().fit(x_train)
model = LogisticRegression(max_iter=1000).fit(scaler.transform(x_train), y_train)
lap("fit")

probability = model.predict_proba(scaler.transform(x_open))[:, 1]
lap("score")

pl.DataFrame({"lead_id": open_leads["lead_id"], "probability": probability}).write_csv(out)
lap("write")

print(json.dumps({
    "split": split_text, "train_rows": len(train), "won_rate": float(y_train.mean()),
    "open_rows": len(open_leads), "columns": x_train.shape[1],
    "iterations": int(model.n_iter_[0]), "stages": times,
}))
