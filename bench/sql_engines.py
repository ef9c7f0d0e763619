"""Runs a query from `leadscore export-sql` on PostgreSQL or Spark (local mode) and sets
its result beside `leadscore score`'s CSV: every lead present, the largest probability
difference, the scores that differ. Driven by bench/sql_engines.sh, which starts the
PostgreSQL server, exports the queries and times `leadscore score`.

    python3 bench/sql_engines.py postgres --data DIR --query Q.sql --scores S.csv --json OUT
    python3 bench/sql_engines.py spark --data DIR --format parquet --query Q.sql --scores S.csv --json OUT
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
    result["server_version"] = psql(["-At", "-c", "SHOW server_version"]).strip()
    result["jit"] = psql(["-At", "-c", "SHOW jit"]).strip()
    leads_cols = lead_columns(leads_csv)

    def create(table, cols):
        body = ", ".join(f"{pg_ident(n)} {PG_TYPES.get(k, k)}" for n, k in cols)
        return f"DROP TABLE IF EXISTS {table}; CREATE UNLOGGED TABLE {table} ({body});"

    script = "\n".join(
        [
            "SET TimeZone = 'UTC';",
            create("leads", leads_cols),
            create("interactions", INTERACTIONS),
            f"\\copy leads FROM '{leads_csv}' WITH (FORMAT csv, HEADER true)",
            f"\\copy interactions FROM '{interactions_csv}' WITH (FORMAT csv, HEADER true)",
            "ANALYZE leads; ANALYZE interactions;",
        ]
    )
    start = time.perf_counter()
    psql([], stdin=script)
    result["load_seconds"] = time.perf_counter() - start
    counts = psql(["-At", "-c", "SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM interactions)"])
    result["leads"], result["interactions"] = map(int, counts.strip().split("|"))

    sql = Path(a.query).read_text().rstrip().rstrip(";")
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
        else:
            def schema(cols):
                return ", ".join(f"`{n.replace('`', '``')}` {SPARK_TYPES[k]}" for n, k in cols)

            reader = spark.read.option("header", True).option("mode", "FAILFAST")
            leads = reader.schema(schema(lead_columns(data / "leads.csv"))).csv(str(data / "leads.csv"))
            interactions = reader.schema(schema(INTERACTIONS)).csv(str(data / "interactions.csv"))
        leads.createOrReplaceTempView("leads")
        interactions.createOrReplaceTempView("interactions")
        # Views are lazy: the files are read by the query itself. The load time is
        # reading the files' schemas and registering the views.
        result["load_seconds"] = time.perf_counter() - start
        result["schema"] = {
            "leads": leads.schema.simpleString(),
            "interactions": interactions.schema.simpleString(),
        }
        sql = Path(a.query).read_text().rstrip().rstrip(";")
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
    Path(a.out).write_text(json.dumps({"machine": machine, "as_of": a.as_of, "runs": parts}, indent=2) + "\n")
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
    failed = [p for p in parts if not p.get("pass")]
    for p in failed:
        if "error" in p:
            print(f"\n{p['engine']} at {p.get('size')} leads failed:\n{p['error']}", file=sys.stderr)
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("postgres", "spark"):
        p = sub.add_parser(name)
        p.add_argument("--data", required=True, help="folder with leads and interactions (.csv / .parquet)")
        p.add_argument("--query", required=True, help="the exported query")
        p.add_argument("--scores", required=True, help="leadscore score's CSV")
        p.add_argument("--json", required=True, help="where to write this run's result")
        p.add_argument("--size", type=int, default=None)
        p.add_argument("--leadscore-seconds", type=float, default=None, help="leadscore score's wall time")
        p.add_argument("--timeout", type=int, default=int(os.environ.get("ENGINE_TIMEOUT", "1800")))
        p.add_argument("--bind-as-of", default=None, help="bind this time to the query's as-of parameter")
        if name == "spark":
            p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
            p.add_argument("--spark-cores", default=os.environ.get("SPARK_CORES", "*"))
            p.add_argument("--spark-memory", default=os.environ.get("SPARK_DRIVER_MEMORY", "6g"))
            p.add_argument("--spark-partitions", type=int, default=int(os.environ.get("SPARK_PARTITIONS", "16")))
    r = sub.add_parser("report")
    r.add_argument("--out", required=True)
    r.add_argument("--as-of", default=None)
    r.add_argument("parts", nargs="*")
    a = parser.parse_args()
    if a.command == "report":
        return report(a)
    result = run_postgres(a) if a.command == "postgres" else run_spark(a)
    result["size"] = a.size
    result["leadscore_score_seconds"] = a.leadscore_seconds
    Path(a.json).write_text(json.dumps(result, indent=2) + "\n")
    if "error" in result:
        print(f"{a.command}: the query failed:\n{result['error']}", file=sys.stderr)
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
