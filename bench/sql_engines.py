"""Runs a query from `leadscore export-sql` on PostgreSQL or Spark (local mode) and sets
its result beside `leadscore score`'s CSV: every lead present, the largest probability
difference, the scores that differ. Driven by bench/sql_engines.sh, which starts the
PostgreSQL server, exports the queries and times `leadscore score`.

With --training it runs the training query (`export-sql --training`) over leads,
interactions and outcomes instead and writes its rows to one file (CSV from PostgreSQL,
Parquet from Spark) for `leadscore train --features`; `models` then sets the model
refitted on those rows beside the one `leadscore train` wrote from the tables.

    python3 bench/sql_engines.py postgres --data DIR --query Q.sql --scores S.csv --json OUT
    python3 bench/sql_engines.py spark --data DIR --format parquet --query Q.sql --scores S.csv --json OUT
    python3 bench/sql_engines.py postgres --training --data DIR --query Q.sql --rows ROWS.csv --json OUT
    python3 bench/sql_engines.py spark --training --data DIR --query Q.sql --rows ROWS.parquet --json OUT
    python3 bench/sql_engines.py models --part OUT --trained M.json --refit R.json --train-features-seconds S
    python3 bench/sql_engines.py report --out RESULT.json PART.json ...

PostgreSQL: psql from PATH, connection from PGHOST/PGPORT/PGUSER/PGDATABASE; the CSV
files are sent by `\\copy` (client side), so the server's user need not read them.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

TOLERANCE = 1e-9

# The contract's interaction columns; lead columns other than the two below take the
# type polars infers from the whole CSV (as leadscore's reader does).
INTERACTIONS = [
    ("lead_id", "text"),
    ("occurred_at", "timestamp"),
    ("event_type", "text"),
    ("detail", "text"),
]
# The contract's outcome columns (training mode only).
OUTCOMES = [
    ("lead_id", "text"),
    ("outcome", "text"),
    ("closed_at", "timestamp"),
]


def lead_columns(csv: Path):
    """(name, kind) of the leads CSV's columns, kind one of text/timestamp/int/double."""
    schema = pl.scan_csv(csv, infer_schema_length=None).collect_schema()
    columns = []
    for name, dtype in schema.items():
        if name == "created_at":
            kind = "timestamp"
        elif name == "lead_id":
            kind = "text"
        elif dtype.is_integer():
            kind = "int"
        elif dtype.is_float():
            kind = "double"
        elif dtype in (pl.Boolean,):
            kind = "text"
        else:
            kind = "text"
        columns.append((name, kind))
    return columns


PG_TYPES = {"text": "text", "timestamp": "timestamp", "int": "bigint", "double": "double precision"}


def pg_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def psql(args, *, stdin=None, stdout=None):
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *args]
    done = subprocess.run(cmd, input=stdin, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise EngineError(done.stderr.strip())
    return done.stdout


class EngineError(Exception):
    pass


def run_postgres(a):
    data = Path(a.data)
    leads_csv, interactions_csv = data / "leads.csv", data / "interactions.csv"
    result = {"engine": "postgres", "input": "csv"}
    if a.training:
        result["mode"] = "training"
    result["server_version"] = psql(["-At", "-c", "SHOW server_version"]).strip()
    result["jit"] = psql(["-At", "-c", "SHOW jit"]).strip()
    leads_cols = lead_columns(leads_csv)

    def create(table, cols):
        body = ", ".join(f"{pg_ident(n)} {PG_TYPES.get(k, k)}" for n, k in cols)
        return f"DROP TABLE IF EXISTS {table}; CREATE UNLOGGED TABLE {table} ({body});"

    tables = [("leads", leads_cols, leads_csv), ("interactions", INTERACTIONS, interactions_csv)]
    if a.training:
        tables.append(("outcomes", OUTCOMES, data / "outcomes.csv"))
    script = "\n".join(
        ["SET TimeZone = 'UTC';"]
        + [create(table, cols) for table, cols, _ in tables]
        + [f"\\copy {table} FROM '{csv}' WITH (FORMAT csv, HEADER true)" for table, _, csv in tables]
        + [" ".join(f"ANALYZE {table};" for table, _, _ in tables)]
    )
    start = time.perf_counter()
    psql([], stdin=script)
    result["load_seconds"] = time.perf_counter() - start
    counts = psql(["-At", "-c", "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t, _, _ in tables)])
    for (table, _, _), count in zip(tables, counts.strip().split("|")):
        result[table] = int(count)

    sql = Path(a.query).read_text().rstrip().rstrip(";")
    if a.training:
        # Straight into the rows file leadscore reads (booleans as t/f, which it takes);
        # written beside it first, so that a failed query leaves no rows file behind.
        rows = Path(a.rows)
        partial = rows.with_name(rows.name + ".partial")
        with open(partial, "w") as f:
            start = time.perf_counter()
            try:
                settings = f"SET TimeZone = 'UTC';\nSET statement_timeout = '{a.timeout}s';\n"
                psql([], stdin=settings + f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true);\n", stdout=f)
            except EngineError as e:
                result["query_seconds"] = time.perf_counter() - start
                result["error"] = str(e)
                partial.unlink()
                return result
            result["query_seconds"] = time.perf_counter() - start
        os.replace(partial, rows)
        result.update(rows_per_part(rows))
        return result
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.csv"
        with open(out, "w") as f:
            start = time.perf_counter()
            try:
                settings = f"SET TimeZone = 'UTC';\nSET statement_timeout = '{a.timeout}s';\n"
                if a.bind_as_of:
                    # The query's $1, bound as a prepared statement's parameter.
                    run = (
                        f"PREPARE scoring AS {sql};\n"
                        f"CREATE TEMP TABLE scored AS EXECUTE scoring('{bound_time(a.bind_as_of)}');\n"
                        "COPY scored TO STDOUT WITH (FORMAT csv, HEADER true);\n"
                    )
                else:
                    run = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true);\n"
                psql([], stdin=settings + run, stdout=f)
            except EngineError as e:
                result["query_seconds"] = time.perf_counter() - start
                result["error"] = str(e)
                return result
            result["query_seconds"] = time.perf_counter() - start
        got = pl.read_csv(out, schema=RESULT_SCHEMA)
    result.update(compare(got, a.scores))
    return result


# What the exported scoring query gives, as `leadscore score`'s first six columns.
RESULT_SCHEMA = {"lead_id": pl.String, "points": pl.Float64, "tier": pl.String, "grade": pl.String, "probability": pl.Float64, "score": pl.Int64}

SPARK_TYPES = {"text": "STRING", "timestamp": "TIMESTAMP", "int": "BIGINT", "double": "DOUBLE"}


def run_spark(a):
    result = {"engine": "spark", "input": a.format}
    if a.training:
        result["mode"] = "training"
    start = time.perf_counter()
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{a.spark_cores}]")
        .appName("leadscore-sql-engines")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", a.spark_memory)
        .config("spark.sql.shuffle.partitions", str(a.spark_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    result["spark_version"] = spark.version
    result["ansi"] = spark.conf.get("spark.sql.ansi.enabled")
    result["session_seconds"] = time.perf_counter() - start
    data = Path(a.data)
    try:
        start = time.perf_counter()
        if a.format == "parquet":
            leads = spark.read.parquet(str(data / "leads.parquet"))
            interactions = spark.read.parquet(str(data / "interactions.parquet"))
            outcomes = spark.read.parquet(str(data / "outcomes.parquet")) if a.training else None
        else:
            def schema(cols):
                return ", ".join(f"`{n.replace('`', '``')}` {SPARK_TYPES[k]}" for n, k in cols)

            reader = spark.read.option("header", True).option("mode", "FAILFAST")
            leads = reader.schema(schema(lead_columns(data / "leads.csv"))).csv(str(data / "leads.csv"))
            interactions = reader.schema(schema(INTERACTIONS)).csv(str(data / "interactions.csv"))
            outcomes = reader.schema(schema(OUTCOMES)).csv(str(data / "outcomes.csv")) if a.training else None
        leads.createOrReplaceTempView("leads")
        interactions.createOrReplaceTempView("interactions")
        if outcomes is not None:
            outcomes.createOrReplaceTempView("outcomes")
        # Views are lazy: the files are read by the query itself. The load time is
        # reading the files' schemas and registering the views.
        result["load_seconds"] = time.perf_counter() - start
        result["schema"] = {
            "leads": leads.schema.simpleString(),
            "interactions": interactions.schema.simpleString(),
        }
        if outcomes is not None:
            result["schema"]["outcomes"] = outcomes.schema.simpleString()
        sql = Path(a.query).read_text().rstrip().rstrip(";")
        if a.training:
            return spark_training_rows(spark, sql, Path(a.rows), result)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            start = time.perf_counter()
            try:
                args = {"as_of": bound_time(a.bind_as_of)} if a.bind_as_of else None
                spark.sql(sql, args=args).write.mode("overwrite").parquet(str(out))
            except Exception as e:  # AnalysisException, Py4JJavaError, ...
                result["query_seconds"] = time.perf_counter() - start
                result["error"] = first_lines(str(e))
                return result
            result["query_seconds"] = time.perf_counter() - start
            got = pl.read_parquet(str(out / "*.parquet")).with_columns(
                [pl.col(name).cast(kind) for name, kind in RESULT_SCHEMA.items()]
            )
        result["leads"] = got.height
        result.update(compare(got, a.scores))
        return result
    finally:
        spark.stop()


def spark_training_rows(spark, sql: str, rows: Path, result: dict) -> dict:
    """Runs the training query, written as Spark writes (a folder of part files), then
    combined into the one Parquet file `leadscore train --features` reads."""
    with tempfile.TemporaryDirectory(dir=rows.parent) as tmp:
        out = Path(tmp) / "out"
        start = time.perf_counter()
        try:
            spark.sql(sql).write.mode("overwrite").parquet(str(out))
        except Exception as e:  # AnalysisException, Py4JJavaError, ...
            result["query_seconds"] = time.perf_counter() - start
            result["error"] = first_lines(str(e))
            return result
        result["query_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        partial = Path(tmp) / rows.name
        pl.scan_parquet(str(out / "*.parquet")).sink_parquet(partial)
        os.replace(partial, rows)
        result["combine_seconds"] = time.perf_counter() - start
    result.update(rows_per_part(rows))
    return result


def rows_per_part(rows: Path) -> dict:
    """The training rows the engine built, counted per part (train, holdout, base)."""
    if rows.suffix == ".csv":
        frame = pl.scan_csv(rows, schema_overrides={"part": pl.String}, infer_schema_length=0)
    else:
        frame = pl.scan_parquet(rows)
    counts = frame.group_by("part").len().collect()
    per_part = {part: n for part, n in zip(counts["part"].to_list(), counts["len"].to_list())}
    columns = frame.collect_schema().names()
    return {
        "rows_file": str(rows),
        "rows_file_bytes": rows.stat().st_size,
        "rows": sum(per_part.values()),
        # The three parts first (0 when absent), then anything else the query gave.
        "rows_per_part": {p: per_part.get(p, 0) for p in PARTS + sorted(set(per_part) - set(PARTS), key=str)},
        "columns": len(columns),
    }


PARTS = ["train", "holdout", "base"]


def models(a):
    """Sets the model `train --features` fitted on the engine's rows beside the one
    `train` wrote from the tables: equal `inspect --json` but for `data_fingerprint`, and
    the largest |difference| over the linear model's weights and intercept."""
    part = Path(a.part)
    result = json.loads(part.read_text())
    result["leadscore_train_features_seconds"] = a.train_features_seconds
    if a.refit_log:
        result["error"] = "leadscore train --features failed:\n" + first_lines(Path(a.refit_log).read_text())
        part.write_text(json.dumps(result, indent=2) + "\n")
        return 0
    trained, refit = json.loads(Path(a.trained).read_text()), json.loads(Path(a.refit).read_text())
    result["data_fingerprints"] = [trained.pop("data_fingerprint", None), refit.pop("data_fingerprint", None)]
    # Compared as printed, so that 0.0 against -0.0 (equal as numbers) still differs.
    result["models_equal"] = json.dumps(trained) == json.dumps(refit)
    found = differences(trained, refit)
    result["model_difference_count"] = len(found)
    # Which parts of the artifact differ (e.g. only `drift`, or `linear` itself).
    result["model_differs_in"] = sorted({d["path"].split(".")[1].split("[")[0] for d in found})
    result["model_differences"] = found[:10]
    lin, lin_refit = trained.get("linear") or {}, refit.get("linear") or {}
    weights, weights_refit = lin.get("weights") or [], lin_refit.get("weights") or []
    if len(weights) == len(weights_refit) and "intercept" in lin and "intercept" in lin_refit:
        pairs = list(zip(weights, weights_refit)) + [(lin["intercept"], lin_refit["intercept"])]
        result["max_coefficient_difference"] = max(abs(x - y) for x, y in pairs)
    else:
        result["max_coefficient_difference"] = None
    # The criterion is the coefficients (within 1e-9). Whether the whole artifact
    # is identical is recorded beside it: Spark's `ln` (StrictMath.log) is not correctly
    # rounded, so its log features may sit 1 ulp off and move a drift histogram edge.
    result["pass"] = (
        result["max_coefficient_difference"] is not None
        and result["max_coefficient_difference"] <= TOLERANCE
    )
    part.write_text(json.dumps(result, indent=2) + "\n")
    diff = result["max_coefficient_difference"]
    print(
        f"{result['engine']} {result.get('size')}: {'pass' if result['pass'] else 'FAIL'}, "
        f"models {'equal' if result['models_equal'] else 'differ in ' + ', '.join(result['model_differs_in'])}, max |dcoef| "
        f"{'n/a' if diff is None else f'{diff:.3g}'}, train --features {a.train_features_seconds:.2f} s",
        file=sys.stderr,
    )
    return 0


def differences(x, y, path="") -> list:
    """The JSON paths where two values differ, with both values (lists and dicts by element)."""
    if isinstance(x, dict) and isinstance(y, dict):
        out = []
        for key in list(x) + [k for k in y if k not in x]:
            if key not in x or key not in y:
                out.append({"path": f"{path}.{key}", "trained": x.get(key, "<absent>"), "refit": y.get(key, "<absent>")})
            else:
                out += differences(x[key], y[key], f"{path}.{key}")
        return out
    if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        return [d for i, (u, v) in enumerate(zip(x, y)) for d in differences(u, v, f"{path}[{i}]")]
    if json.dumps(x) != json.dumps(y):
        short = lambda v: v if not isinstance(v, (list, dict)) else f"<{type(v).__name__} of {len(v)}>"
        return [{"path": path, "trained": short(x), "refit": short(y)}]
    return []


def bound_time(iso: str) -> str:
    """An ISO 8601 UTC time as the engines read a timestamp: `2025-10-01 12:34:56`."""
    return iso.replace("T", " ").removesuffix("Z")


def first_lines(text, n=40):
    lines = text.strip().splitlines()
    return "\n".join(lines[:n]) + ("\n…" if len(lines) > n else "")


def compare(got: pl.DataFrame, scores_csv: str) -> dict:
    """leadscore's scores against the engine's: leads missing on either side,
    duplicates, the largest |probability difference|, and the leads whose score,
    points, tier or grade differ."""
    want = pl.read_csv(scores_csv, columns=list(RESULT_SCHEMA), schema_overrides=RESULT_SCHEMA)
    joined = want.join(got, on="lead_id", how="full", suffix="_sql", coalesce=True)
    both = joined.filter(pl.col("probability").is_not_null() & pl.col("probability_sql").is_not_null())
    diff = (both["probability"] - both["probability_sql"]).abs()
    worst = both.with_columns(diff.alias("diff")).sort("diff", descending=True).head(3)
    mismatched = both.filter(
        pl.any_horizontal(
            [pl.col(c).ne_missing(pl.col(f"{c}_sql")) for c in ("score", "points", "tier", "grade")]
        )
    )
    report = {
        "leadscore_leads": want.height,
        "engine_rows": got.height,
        "duplicate_leads": got.height - got["lead_id"].n_unique(),
        "missing_in_engine": joined.filter(pl.col("probability_sql").is_null()).height,
        "extra_in_engine": joined.filter(pl.col("probability").is_null()).height,
        "null_probabilities": got["probability"].null_count(),
        "max_probability_difference": float(diff.max()) if both.height else None,
        "score_mismatches": mismatched.height,
        "worst": worst.select("lead_id", "probability", "probability_sql", "score", "score_sql").to_dicts(),
        "score_mismatch_examples": mismatched.head(5).to_dicts(),
    }
    report["pass"] = (
        report["missing_in_engine"] == 0
        and report["extra_in_engine"] == 0
        and report["duplicate_leads"] == 0
        and report["null_probabilities"] == 0
        and report["max_probability_difference"] is not None
        and report["max_probability_difference"] <= TOLERANCE
        and report["score_mismatches"] == 0
    )
    return report


def report(a):
    parts = [json.loads(Path(p).read_text()) for p in a.parts if Path(p).exists()]
    machine = f"{os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB"
    out = {"machine": machine, "as_of": a.as_of, "runs": parts}
    if a.as_of is None:  # training runs have no as-of time
        del out["as_of"]
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
    training = [p for p in parts if p.get("mode") == "training"]
    scoring = [p for p in parts if p.get("mode") != "training"]
    if scoring or not training:
        scoring_table(scoring)
    if training:
        training_table(training)
    failed = [p for p in parts if not p.get("pass")]
    for p in failed:
        if "error" in p:
            print(f"\n{p['engine']} at {p.get('size')} leads failed:\n{p['error']}", file=sys.stderr)
    return 1 if failed else 0


def training_table(parts):
    def secs(v):
        return "" if v is None else f"{v:.1f} s"

    print("| leads | engine | input | result | max \\|Δcoef\\| | rows train / holdout / base | load | query | `train --features` | `train` |")
    print("|---:|---|---|---|---:|---:|---:|---:|---:|---:|")
    for p in parts:
        verdict = "error" if "error" in p else ("pass" if p.get("pass") else "FAIL")
        if p.get("model_differs_in"):
            verdict += f" (artifact: {p['model_difference_count']} values differ in {', '.join(p['model_differs_in'])})"
        elif p.get("models_equal"):
            verdict += " (artifact identical)"
        diff = p.get("max_coefficient_difference")
        per_part = p.get("rows_per_part") or {}
        rows = " / ".join(f"{per_part.get(k, 0):,}" for k in PARTS) if per_part else ""
        query = p.get("query_seconds")
        if query is not None and p.get("combine_seconds") is not None:
            query_cell = f"{query:.1f} s (+{p['combine_seconds']:.1f} s to one file)"
        else:
            query_cell = secs(query)
        print(
            f"| {p.get('size', '?'):,} | {p['engine']} | {p['input']} | {verdict} | "
            f"{'' if diff is None else f'{diff:.1e}'} | {rows} | {secs(p.get('load_seconds'))} | {query_cell} | "
            f"{secs(p.get('leadscore_train_features_seconds'))} | {secs(p.get('leadscore_train_seconds'))} |"
        )


def scoring_table(parts):
    print("| leads | engine | input | result | max |Δp| | score mismatches | load | query | leadscore score |")
    print("|---:|---|---|---|---:|---:|---:|---:|---:|")
    for p in parts:
        ls = p.get("leadscore_score_seconds")
        verdict = "error" if "error" in p else ("pass" if p.get("pass") else "FAIL")
        diff = p.get("max_probability_difference")
        print(
            f"| {p.get('size', '?'):,} | {p['engine']} | {p['input']} | {verdict} | "
            f"{'' if diff is None else f'{diff:.1e}'} | {p.get('score_mismatches', '')} | "
            f"{p.get('load_seconds', 0):.1f} s | {p.get('query_seconds', 0):.1f} s | "
            f"{'' if ls is None else f'{ls:.1f} s'} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("postgres", "spark"):
        p = sub.add_parser(name)
        p.add_argument("--data", required=True, help="folder with leads and interactions (.csv / .parquet)")
        p.add_argument("--query", required=True, help="the exported query")
        p.add_argument("--scores", help="leadscore score's CSV (scoring)")
        p.add_argument("--json", required=True, help="where to write this run's result")
        p.add_argument("--size", type=int, default=None)
        p.add_argument("--leadscore-seconds", type=float, default=None, help="leadscore score's wall time")
        p.add_argument("--training", action="store_true", help="the query is export-sql --training's; load outcomes too")
        p.add_argument("--rows", help="with --training: the one file (.csv for postgres, .parquet for spark) the rows go to")
        p.add_argument("--leadscore-train-seconds", type=float, default=None,
                       help="with --training: leadscore train's wall time on the tables (none when the model was cached)")
        p.add_argument("--timeout", type=int, default=int(os.environ.get("ENGINE_TIMEOUT", "1800")))
        p.add_argument("--bind-as-of", default=None, help="bind this time to the query's as-of parameter")
        if name == "spark":
            p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
            p.add_argument("--spark-cores", default=os.environ.get("SPARK_CORES", "*"))
            p.add_argument("--spark-memory", default=os.environ.get("SPARK_DRIVER_MEMORY", "6g"))
            p.add_argument("--spark-partitions", type=int, default=int(os.environ.get("SPARK_PARTITIONS", "16")))
    m = sub.add_parser("models")
    m.add_argument("--part", required=True, help="the run's result, updated in place")
    m.add_argument("--trained", help="inspect --json of the model train wrote from the tables")
    m.add_argument("--refit", help="inspect --json of the model train --features wrote")
    m.add_argument("--refit-log", help="instead: the log of a train --features that failed")
    m.add_argument("--train-features-seconds", type=float, default=None)
    r = sub.add_parser("report")
    r.add_argument("--out", required=True)
    r.add_argument("--as-of", default=None)
    r.add_argument("parts", nargs="*")
    a = parser.parse_args()
    if a.command == "report":
        return report(a)
    if a.command == "models":
        return models(a)
    if a.training != bool(a.rows) or a.training == bool(a.scores):
        parser.error("give --scores, or --training with --rows")
    result = run_postgres(a) if a.command == "postgres" else run_spark(a)
    result["size"] = a.size
    if a.training:
        result["leadscore_train_seconds"] = a.leadscore_train_seconds
    else:
        result["leadscore_score_seconds"] = a.leadscore_seconds
    Path(a.json).write_text(json.dumps(result, indent=2) + "\n")
    if "error" in result:
        print(f"{a.command}: the query failed:\n{result['error']}", file=sys.stderr)
    elif a.training:
        print(
            f"{a.command} {a.size}: {result['rows']} training rows {result['rows_per_part']}, "
            f"load {result['load_seconds']:.2f} s, query {result['query_seconds']:.2f} s",
            file=sys.stderr,
        )
    else:
        print(
            f"{a.command} {a.size}: {'pass' if result['pass'] else 'FAIL'}, "
            f"max |dp| {result['max_probability_difference']:.3g}, {result['score_mismatches']} score mismatches, "
            f"missing {result['missing_in_engine']}, load {result['load_seconds']:.2f} s, "
            f"query {result['query_seconds']:.2f} s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
