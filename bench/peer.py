#!/usr/bin/env python3
"""The Python peer of `leadscore bench`: the same job done the way a competent analyst
would, with polars for the features and scikit-learn for the logistic model.

Same files, same training rows (snapshots at lead ages 0, 7, 14, 28, ... days while the
deal was open, at most 8, as `leadscore train` takes them; the earlier 80% of deals by
close time train, the later 20% are held out), same features (read from leadscore's report, which holds
the learned feature spec: which event types, pages and categories get a column) and the
same regularisation (leadscore's L2 per row `l2` is scikit-learn's C = 1 / (l2 * rows)).
Each stage's wall time and peak memory go into a JSON report shaped like leadscore's.

    python3 bench/peer.py --leads L --interactions I --outcomes O --as-of 2026-01-01 \
        --spec-from leadscore-report.json --out scores.parquet --json peer-report.json
"""

import argparse
import json
import math
import os
import time
from datetime import datetime

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

DAY_US = 86_400_000_000
WINDOWS = [7, 30, 90, None]
OTHER = "<other>"


def reset_peak():
    """Starts a new peak-memory mark at the current resident size (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class Stages:
    def __init__(self):
        self.records = []

    def run(self, name, work):
        reset_peak()
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
        peak = peak_mib()
        self.records.append({"stage": name, "seconds": seconds, "peak_mib": peak})
        print(f"{name}: {seconds:.2f} s, peak {peak:.0f} MiB", file=os.sys.stderr)
        return result


def read(path):
    if path.endswith(".parquet"):
        frame = pl.read_parquet(path)
    else:
        frame = pl.read_csv(path, try_parse_dates=False)
    for column in ("created_at", "occurred_at", "closed_at"):
        if column not in frame.columns:
            continue
        dtype = frame.schema[column]
        if dtype == pl.String:
            parsed = pl.col(column).str.to_datetime(time_unit="us", time_zone="UTC")
            frame = frame.with_columns(parsed.dt.replace_time_zone(None).alias(column))
        elif isinstance(dtype, pl.Datetime):
            frame = frame.with_columns(
                pl.col(column).dt.cast_time_unit("us").dt.replace_time_zone(None)
            )
    if "lead_id" in frame.columns:
        frame = frame.with_columns(pl.col("lead_id").cast(pl.String))
    return frame


def training_observations(leads, outcomes):
    closed = outcomes.join(leads.select("lead_id", "created_at"), on="lead_id").select(
        "lead_id",
        "created_at",
        "closed_at",
        (pl.col("outcome").str.to_lowercase() == "won").alias("won"),
    )
    snapshots = []
    # Lead ages 0, 7, 14, 28, … days (leadscore's default snapshot scheme), kept while
    # the deal was still open.
    for age in [0] + [7 * 2**k for k in range(7)]:
        frame = closed.with_columns(
            (pl.col("created_at").cast(pl.Int64) + age * DAY_US).cast(pl.Datetime("us")).alias("as_of")
        ).filter(pl.col("as_of") < pl.col("closed_at"))
        snapshots.append(frame)
    return (
        pl.concat(snapshots)
        .select("lead_id", "as_of", "won", "closed_at")
        .sort("lead_id", "as_of")
    )


def split_by_close(observations):
    closed = np.sort(observations["closed_at"].cast(pl.Int64).to_numpy())
    split = closed[len(closed) * 4 // 5]
    later = pl.col("closed_at").cast(pl.Int64) >= split
    return observations.filter(~later), observations.filter(later)


def window_name(window):
    return "all" if window is None else f"{window}d"


def features(spec, leads, interactions, observations):
    """One row per observation, in order: every feature of the spec as Float64."""
    observed = observations.select("lead_id", "as_of").with_row_index("obs")
    events = (
        interactions.select("lead_id", "occurred_at", "event_type", "detail")
        .join(observed, on="lead_id")
        .filter(pl.col("occurred_at") < pl.col("as_of"))
        .with_columns(
            ((pl.col("as_of") - pl.col("occurred_at")).dt.total_microseconds() / DAY_US).alias("age")
        )
    )
    event_types = spec["event_types"]
    known = pl.col("event_type").is_in(event_types)

    def in_window(window):
        return pl.lit(True) if window is None else pl.col("age") < window

    aggs = [
        pl.col("age").min().alias("days_since_last"),
        pl.col("age").filter(pl.col("age") < 90).floor().n_unique().alias("active_days_90d"),
    ]
    names = []
    for window in WINDOWS:
        suffix = window_name(window)
        for event in event_types:
            name = f"{event}_{suffix}"
            aggs.append(((pl.col("event_type") == event) & in_window(window)).sum().alias(name))
            names.append(name)
        name = f"{OTHER}_{suffix}"
        aggs.append((~known & in_window(window)).sum().alias(name))
        names.append(name)
        for event, detail in spec["details"]:
            name = f"{event}[{detail}]_{suffix}"
            matches = (pl.col("event_type") == event) & (pl.col("detail") == detail)
            aggs.append((matches & in_window(window)).fill_null(False).sum().alias(name))
            names.append(name)
    activity = events.group_by("obs").agg(aggs)

    attributes = [c for c, _ in spec["categoricals"]] + spec["numerics"]
    lead_columns = [pl.col("lead_id"), pl.col("created_at").alias("__created_at")] + [
        pl.col(c).alias(f"attr:{c}") for c in attributes
    ]
    joined = (
        observed.join(leads.select(lead_columns), on="lead_id", how="left")
        .join(activity, on="obs", how="left")
        .sort("obs")
    )

    def log1p(e):
        return (e.cast(pl.Float64) + 1.0).log()

    columns = [log1p(pl.col(n).fill_null(0)).alias(n) for n in names]
    age = ((pl.col("as_of") - pl.col("__created_at")).dt.total_microseconds() / DAY_US).clip(0.0, 3650.0)
    # A lead that never did anything has been silent since it was created.
    columns.append(
        log1p(pl.col("days_since_last").fill_null(age).clip(0.0, 365.0)).alias("days_since_last_log")
    )
    columns.append(pl.col("days_since_last").is_null().alias("never_active"))
    columns.append(log1p(pl.col("active_days_90d").fill_null(0)).alias("active_days_90d_log"))
    columns.append(log1p(age).alias("lead_age_days_log"))
    for column, values in spec["categoricals"]:
        text = pl.col(f"attr:{column}").cast(pl.String)
        for value in values:
            columns.append((text == value).fill_null(False).alias(f"{column}={value}"))
        columns.append((text.is_not_null() & ~text.is_in(values)).alias(f"{column}=<other>"))
        columns.append(text.is_null().alias(f"{column}=<missing>"))
    for column in spec["numerics"]:
        raw = pl.col(f"attr:{column}").cast(pl.Float64)
        value = pl.when(raw.is_finite()).then(raw).otherwise(None)
        signed = pl.when(value < 0).then(-log1p(-value)).otherwise(log1p(value))
        # Missing numbers stay NaN here and are imputed with the training mean.
        columns.append(value.fill_null(float("nan")).alias(f"{column}_value"))
        if column in spec["numeric_logs"]:
            columns.append(signed.fill_null(float("nan")).alias(f"{column}_log"))
        columns.append(value.is_null().alias(f"{column}=<missing>"))
    return joined.select([c.cast(pl.Float64).fill_null(0.0) for c in columns])


class Prepare:
    """leadscore's preparation: missing values become the training mean, values more
    than three training standard deviations outside the training range are clipped,
    continuous columns are standardised and 0/1 columns only centred."""

    def fit(self, x):
        self.mean = np.nanmean(x, axis=0)
        self.low, self.high = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
        self.spread = np.nanstd(x, axis=0)
        filled = self.fill(x)
        indicator = np.all((filled == 0.0) | (filled == 1.0), axis=0)
        std = filled.std(axis=0)
        self.scale = np.where(indicator | (std <= 1e-12), 1.0, std)
        return self

    def fill(self, x):
        x = np.where(np.isnan(x), self.mean, x)
        return np.clip(x, self.low - 3 * self.spread, self.high + 3 * self.spread)

    def transform(self, x):
        return (self.fill(x) - self.mean) / self.scale


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for flag in ("leads", "interactions", "outcomes", "as-of", "spec-from", "out", "json"):
        parser.add_argument(f"--{flag}", required=True)
    args = parser.parse_args()
    as_of = datetime.fromisoformat(args.as_of)
    stages = Stages()

    leads, interactions, outcomes = stages.run(
        "read", lambda: (read(args.leads), read(args.interactions), read(args.outcomes))
    )
    # Training rows, as in leadscore's stage of the same name; leadscore then learns the
    # feature spec from them, where the peer is handed it.
    def observe():
        train, test = split_by_close(training_observations(leads, outcomes))
        return train, test, json.load(open(args.spec_from))

    train, test, spec_report = stages.run("spec", observe)
    spec, l2 = spec_report["spec"], spec_report["l2"]

    def build():
        base = leads.select("lead_id", pl.lit(as_of).cast(pl.Datetime("us")).alias("as_of"))
        return {
            "x_train": features(spec, leads, interactions, train).to_numpy(order="fortran"),
            "y_train": train["won"].to_numpy(),
            "x_test": features(spec, leads, interactions, test).to_numpy(order="fortran"),
            "y_test": test["won"].to_numpy(),
            "x_base": features(spec, leads, interactions, base).to_numpy(order="fortran"),
        }

    built = stages.run("features", build)
    rows = len(built["y_train"])

    def train():
        scaler = Prepare().fit(built["x_train"])
        standardised = scaler.transform(built["x_train"])
        model = LogisticRegression(C=1.0 / (l2 * rows), tol=1e-4, max_iter=200)
        model.fit(standardised, built["y_train"])
        return scaler, model

    scaler, model = stages.run("train", train)
    probability = stages.run(
        "score", lambda: model.predict_proba(scaler.transform(built["x_base"]))[:, 1]
    )

    def write():
        score = np.clip(np.round(probability * 100), 1, 99).astype(np.uint32)
        pl.DataFrame(
            {"lead_id": leads["lead_id"], "probability": probability, "score": score}
        ).write_parquet(args.out)

    stages.run("write", write)

    holdout = model.predict_proba(scaler.transform(built["x_test"]))[:, 1]
    fitted = model.predict_proba(scaler.transform(built["x_train"]))[:, 1]
    means = np.nanmean(built["x_train"], axis=0)
    theirs = np.array(spec_report["feature_means"])
    report = {
        "tool": "python",
        "stages": stages.records,
        "versions": {"polars": pl.__version__, "scikit-learn": __import__("sklearn").__version__},
        "leads": leads.height,
        "interactions": interactions.height,
        "train_rows": rows,
        "holdout_rows": len(built["y_test"]),
        "scored": len(probability),
        "l2": l2,
        "solver_iterations": int(model.n_iter_[0]),
        "holdout_roc_auc": roc_auc_score(built["y_test"], holdout),
        "holdout_log_loss": log_loss(built["y_test"], holdout),
        "train_log_loss": log_loss(built["y_train"], fitted),
        "matrix_columns": built["x_train"].shape[1],
        "max_mean_difference": float(np.max(np.abs(means - theirs)))
        if len(theirs) == len(means)
        else math.inf,
    }
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
