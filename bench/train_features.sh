#!/usr/bin/env bash
# Training beyond one machine, measured: for each size, `leadscore train` on the tables
# against the warehouse path (the training query of `export-sql --training` run in
# DuckDB, then `leadscore train --features` on its rows). Records wall time and peak
# memory of each step, the rows per part, and whether the two artifacts are equal but
# for the data fingerprint (with the largest coefficient difference), in
# bench/results/train-features-N.json.
#
#   bash bench/train_features.sh                 # 100k and 1M leads
#   bash bench/train_features.sh 10000           # a quick run
#
# Needs: /usr/bin/time (GNU), python3 with duckdb (tests/requirements.txt).
# Environment:
#   LEADSCORE_BIN   the binary (default target/release/leadscore)
#   BENCH_DATA      where crm-N/parquet lives or is generated
#                   (default ~/.cache/leadscore-release/bench-data)
#   DUCKDB_THREADS  DuckDB's threads (default: all cores)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
bin=${LEADSCORE_BIN:-target/release/leadscore}
[ -x "$bin" ] || { echo "no binary at $bin: cargo build --release, or set LEADSCORE_BIN" >&2; exit 2; }
data=${BENCH_DATA:-$HOME/.cache/leadscore-release/bench-data}
mkdir -p bench/results

# Runs a command under GNU time: its output goes to $1.log, "seconds peak_mib" to stdout.
measured() {
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$name.time" "$@" > "$name.log" 2>&1 \
        || { cat "$name.log" >&2; return 1; }
    awk '{ printf "%s %.0f\n", $1, $2 / 1024 }' "$name.time"
}

for size in "${sizes[@]}"; do
    crm="$data/crm-$size/parquet"
    [ -f "$crm/outcomes.parquet" ] \
        || "$bin" generate --out "$crm" --leads "$size" --seed 11 --format parquet 2> /dev/null
    run=$(mktemp -d "${TMPDIR:-/tmp}/leadscore-train-features.XXXXXX")
    trap 'rm -rf "$run"' EXIT
    echo "$size leads: train on the tables…" >&2
    read -r train_s train_mib < <(measured "$run/train" "$bin" train \
        --leads "$crm/leads.parquet" --interactions "$crm/interactions.parquet" \
        --outcomes "$crm/outcomes.parquet" --out "$run/model.bin")
    "$bin" export-sql --model "$run/model.bin" --dialect duckdb --training > "$run/training.sql"
    echo "$size leads: the training query in DuckDB…" >&2
    read -r query_s query_mib < <(measured "$run/duckdb" python3 -c '
import os, sys, duckdb
crm, query, out = sys.argv[1:4]
con = duckdb.connect()
con.execute("SET TimeZone = '"'"'UTC'"'"'")
if os.environ.get("DUCKDB_THREADS"):
    con.execute("SET threads = " + str(int(os.environ["DUCKDB_THREADS"])))
for table in ["leads", "interactions", "outcomes"]:
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet(\x27{crm}/{table}.parquet\x27)")
sql = open(query).read().rstrip().rstrip(";")
con.execute(f"COPY ({sql}) TO \x27{out}\x27 (FORMAT parquet)")
' "$crm" "$run/training.sql" "$run/rows.parquet")
    echo "$size leads: train --features…" >&2
    read -r refit_s refit_mib < <(measured "$run/refit" "$bin" train \
        --features "$run/rows.parquet" --model "$run/model.bin" --out "$run/refit.bin")
    "$bin" inspect "$run/model.bin" --json > "$run/model.json"
    "$bin" inspect "$run/refit.bin" --json > "$run/refit.json"
    python3 - "$run" "$size" "$train_s" "$train_mib" "$query_s" "$query_mib" "$refit_s" "$refit_mib" <<'EOF'
import json, os, sys
import duckdb
run, size = sys.argv[1], int(sys.argv[2])
train_s, train_mib, query_s, query_mib, refit_s, refit_mib = map(float, sys.argv[3:9])
model = json.load(open(f"{run}/model.json"))
refit = json.load(open(f"{run}/refit.json"))
fingerprints = (model.pop("data_fingerprint"), refit.pop("data_fingerprint"))
coefficients = lambda m: m["linear"]["weights"] + [m["linear"]["intercept"]]
worst = max(abs(a - b) for a, b in zip(coefficients(model), coefficients(refit)))
parts = dict(duckdb.sql(f"SELECT part, count(*) FROM '{run}/rows.parquet' GROUP BY part").fetchall())
result = {
    "leads": size,
    "features": len(model["feature_names"]),
    "holdout_features": None if model["holdout_spec"] is None else "own",
    "rows": parts,
    "rows_file_mib": round(os.path.getsize(f"{run}/rows.parquet") / 2**20, 1),
    "train_on_tables": {"seconds": train_s, "peak_mib": train_mib},
    "training_query_in_duckdb": {"seconds": query_s, "peak_mib": query_mib},
    "train_on_features": {"seconds": refit_s, "peak_mib": refit_mib},
    "max_coefficient_difference": worst,
    "same_artifact_but_fingerprint": model == refit,
    "fingerprints": fingerprints,
}
out = f"bench/results/train-features-{size}.json"
open(out, "w").write(json.dumps(result, indent=2) + "\n")
print(json.dumps(result, indent=2))
print(f"wrote {out}", file=sys.stderr)
sys.exit(0 if model == refit and worst <= 1e-9 else 1)
EOF
    rm -rf "$run"
    trap - EXIT
done
