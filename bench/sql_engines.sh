#!/usr/bin/env bash
# Opt-in check (not CI) of `leadscore export-sql` on PostgreSQL and Spark local mode:
# for each size, train a model on the generated CRM (reused when cached), export the
# postgres and spark queries with a literal as-of time, run them, and set their
# `lead_id, points, tier, grade, probability, score` beside `leadscore score`'s: every
# lead present, the same points, tier, grade and score,
# |probability difference| <= 1e-9. Records load and query times
# against `leadscore score`'s wall time in bench/results/sql-engines-DATE.json.
#
# TRAINING=1 checks the training query instead: export it (`export-sql --training`),
# load leads, interactions and outcomes, run it into one file (PostgreSQL: CSV by
# COPY; Spark: Parquet, its part files combined with polars), refit with
# `leadscore train --features ROWS --model M` and set `inspect --json` of the refit
# beside M's: a run passes when they are equal but for `data_fingerprint`. The
# largest |difference| over the weights and intercept is recorded too (the issue's
# criterion, <= 1e-9), since an engine may miss bit-equality elsewhere in the model.
# Records rows per part, load, query and `train --features` times, and `train`'s
# time on the tables when the model was trained by this run (null when cached).
#
#   bash bench/sql_engines.sh                      # 10k, 100k, 1M leads, both engines
#   bash bench/sql_engines.sh 10000                # a quick run
#   SQL_ENGINES=postgres bash bench/sql_engines.sh 10000 100000
#   TRAINING=1 bash bench/sql_engines.sh 10000     # the training query
#
# Needs: psql, initdb and pg_ctl (PostgreSQL 14+) on PATH; Java 17 and
# `python3 -m pip install pyspark polars`. As root, the server runs as PG_USER
# (default postgres) through runuser, since initdb refuses root.
#
# Environment:
#   LEADSCORE_BIN         the binary for train, train --features, inspect and score
#                         (default target/release/leadscore)
#   LEADSCORE_EXPORT_BIN  the binary for export-sql (default LEADSCORE_BIN)
#   BENCH_DATA            where crm-N/{csv,parquet} live or are generated
#                         (default ~/.cache/leadscore-release/bench-data)
#   AS_OF                 the scoring time (default 2025-10-01T12:34:56Z, inside the data)
#   AS_OF_PARAM=1         export with --as-of-param and bind the time when running
#                         (PREPARE/EXECUTE in PostgreSQL, named args in Spark)
#   SQL_ENGINES           "postgres spark" (default) or one of them
#   TRAINING=1            check the training query instead of the scoring one (above)
#   SPARK_INPUT           parquet (default) or csv
#   SPARK_DRIVER_MEMORY, SPARK_PARTITIONS, SPARK_CORES   Spark settings (6g, 16, *)
#   SQL_ENGINES_RESULT    where the results go (default bench/results/sql-engines-DATE.json)
#   ENGINE_TIMEOUT        seconds one engine may take for one size (default 1800)
#   PG_USER               the user the server runs as when this script runs as root
#   PG_JIT                the server's jit setting (default off: LLVM spends ~50 s
#                         compiling the exported query's expressions, see bench/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
for size in "${sizes[@]}"; do
    case $size in ''|*[!0-9]*) echo "usage: bash bench/sql_engines.sh [LEADS...]" >&2; exit 2 ;; esac
done
bin=${LEADSCORE_BIN:-target/release/leadscore}
export_bin=${LEADSCORE_EXPORT_BIN:-$bin}
for b in "$bin" "$export_bin"; do
    [ -x "$b" ] || { echo "no binary at $b: cargo build --release, or set LEADSCORE_BIN / LEADSCORE_EXPORT_BIN" >&2; exit 2; }
done
"$export_bin" export-sql --help > /dev/null 2>&1 || { echo "$export_bin has no export-sql (set LEADSCORE_EXPORT_BIN)" >&2; exit 2; }
data=${BENCH_DATA:-$HOME/.cache/leadscore-release/bench-data}
as_of=${AS_OF:-2025-10-01T12:34:56Z}
engines=${SQL_ENGINES:-postgres spark}
spark_input=${SPARK_INPUT:-parquet}
engine_timeout=${ENGINE_TIMEOUT:-1800}
work="$data/sql-engines"
result=${SQL_ENGINES_RESULT:-bench/results/sql-engines-$(date +%Y-%m-%d).json}
training=${TRAINING:-0}
case $training in 0|1) ;; *) echo "TRAINING is 0 or 1" >&2; exit 2 ;; esac
mkdir -p "$work" bench/results

# A throwaway PostgreSQL server: its own data folder and unix socket in a temporary
# folder, no TCP, a free port number (it names the socket), durability off. Stopped
# and removed on any exit.
pgdir=""
as_pg=()
cleanup() {
    if [ -n "$pgdir" ] && [ -d "$pgdir" ]; then
        if [ -f "$pgdir/data/postmaster.pid" ]; then
            (cd "$pgdir" && "${as_pg[@]}" pg_ctl -D "$pgdir/data" -m immediate -w stop > /dev/null 2>&1) || true
        fi
        rm -rf "$pgdir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_postgres() {
    pgdir=$(mktemp -d /tmp/leadscore-pg.XXXXXX)
    if [ "$(id -u)" = 0 ]; then
        chown "${PG_USER:-postgres}" "$pgdir"
        as_pg=(runuser -u "${PG_USER:-postgres}" --)
    fi
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    (cd "$pgdir" && "${as_pg[@]}" initdb -D "$pgdir/data" -U postgres --auth=trust -E UTF8 --locale=C > "$pgdir/initdb.log" 2>&1) \
        || { cat "$pgdir/initdb.log" >&2; return 1; }
    (cd "$pgdir" && "${as_pg[@]}" pg_ctl -D "$pgdir/data" -l "$pgdir/server.log" -w \
        -o "-c listen_addresses='' -k $pgdir -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=1GB -c work_mem=256MB -c maintenance_work_mem=512MB -c TimeZone=UTC -c max_wal_size=4GB -c jit=${PG_JIT:-off}" \
        start > /dev/null) || { cat "$pgdir/server.log" >&2; return 1; }
    export PGHOST=$pgdir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
}

# Wall seconds of a command (its stdout and stderr go to $log).
seconds() {
    local log=$1; shift
    local t0 t1
    t0=$(date +%s.%N)
    "$@" > "$log" 2>&1 || { cat "$log" >&2; return 1; }
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

ext() { [ "$1" = csv ] && echo csv || echo parquet; }
parts=()
case " $engines " in *" postgres "*) start_postgres ;; esac
for size in "${sizes[@]}"; do
    crm="$data/crm-$size"
    for format in csv parquet; do
        [ -f "$crm/$format/outcomes.$(ext $format)" ] \
            || "$bin" generate --out "$crm/$format" --leads "$size" --seed 11 --format "$format" 2> /dev/null
    done
    run="$work/crm-$size"
    mkdir -p "$run"
    # A cached model is reused only if this binary reads it (artifacts of an older
    # format are refused). The training check also needs it to come from this very
    # binary, since the refit must equal it bit for bit: the binary's checksum is kept
    # beside the model.
    stamp=$(sha256sum < "$bin" | cut -d' ' -f1)
    train_seconds=""
    if [ ! -f "$run/model.bin" ] || ! "$bin" inspect "$run/model.bin" > /dev/null 2>&1 \
        || { [ "$training" = 1 ] && [ "$(cat "$run/model.bin.trained-by" 2> /dev/null)" != "$stamp" ]; }; then
        echo "training on $size leads…" >&2
        rm -f "$run/model.bin" "$run/model.bin.trained-by"
        train_seconds=$(seconds "$run/train.log" "$bin" train --leads "$crm/parquet/leads.parquet" \
            --interactions "$crm/parquet/interactions.parquet" --outcomes "$crm/parquet/outcomes.parquet" \
            --out "$run/model.bin")
        echo "$stamp" > "$run/model.bin.trained-by"
        echo "leadscore train on $size leads: $train_seconds s" >&2
    fi
    if [ "$training" = 1 ]; then
        "$bin" inspect "$run/model.bin" --json > "$run/model.json"
    fi
    for engine in $engines; do
        case $engine in
            postgres) input=csv ;;
            spark) input=$spark_input ;;
            *) echo "unknown engine $engine" >&2; exit 2 ;;
        esac
        if [ "$training" = 1 ]; then
            # One file leadscore reads: PostgreSQL's COPY gives a CSV, Spark's part files
            # are combined into one Parquet file.
            [ "$engine" = postgres ] && rows="$run/rows-postgres.csv" || rows="$run/rows-spark.parquet"
            refit="$run/refit-$engine.bin"
            part="$run/$engine-training.json"
            rm -f "$part" "$rows" "$refit" "$run/refit-$engine.json"
            "$export_bin" export-sql --model "$run/model.bin" --dialect "$engine" --training > "$run/$engine-training.sql"
            args=(--training --data "$crm/$input" --query "$run/$engine-training.sql" --rows "$rows" \
                --json "$part" --size "$size" --timeout "$engine_timeout")
            [ -n "$train_seconds" ] && args+=(--leadscore-train-seconds "$train_seconds")
            [ "$engine" = spark ] && args+=(--format "$input")
            code=0
            timeout "$engine_timeout" python3 bench/sql_engines.py "$engine" "${args[@]}" || code=$?
            if [ ! -f "$part" ]; then
                echo "$engine at $size leads did not finish (exit $code)" >&2
                printf '{"engine": "%s", "input": "%s", "mode": "training", "size": %s, "leadscore_train_seconds": %s, "error": "did not finish: exit %s (timeout %s s)"}\n' \
                    "$engine" "$input" "$size" "${train_seconds:-null}" "$code" "$engine_timeout" > "$part"
            elif [ -f "$rows" ]; then
                # The engine built the rows (python3 leaves no rows file when the query
                # fails); the refit is timed outside the engine's timeout.
                timing="$run/refit-$engine.seconds"
                if seconds "$run/refit-$engine.log" "$bin" train --features "$rows" --model "$run/model.bin" \
                    --out "$refit" > "$timing"; then
                    "$bin" inspect "$refit" --json > "$run/refit-$engine.json"
                    python3 bench/sql_engines.py models --part "$part" --trained "$run/model.json" \
                        --refit "$run/refit-$engine.json" --train-features-seconds "$(cat "$timing")"
                else
                    python3 bench/sql_engines.py models --part "$part" --refit-log "$run/refit-$engine.log"
                fi
            fi
            parts+=("$part")
            continue
        fi
        if [ "${AS_OF_PARAM:-0}" = 1 ]; then
            "$export_bin" export-sql --model "$run/model.bin" --dialect "$engine" --as-of-param > "$run/$engine.sql"
        else
            "$export_bin" export-sql --model "$run/model.bin" --dialect "$engine" --as-of "$as_of" > "$run/$engine.sql"
        fi
        scores="$run/scores-$input.csv"
        timing="$run/score-$input.seconds"
        seconds "$run/score-$input.log" "$bin" score --model "$run/model.bin" --leads "$crm/$input/leads.$(ext $input)" \
            --interactions "$crm/$input/interactions.$(ext $input)" --as-of "$as_of" --out "$scores" > "$timing"
        echo "$engine, $size leads ($input): leadscore score $(cat "$timing") s" >&2
        part="$run/$engine.json"
        rm -f "$part"
        args=(--data "$crm/$input" --query "$run/$engine.sql" --scores "$scores" --json "$part" \
            --size "$size" --leadscore-seconds "$(cat "$timing")")
        [ "$engine" = spark ] && args+=(--format "$input")
        [ "${AS_OF_PARAM:-0}" = 1 ] && args+=(--bind-as-of "$as_of")
        code=0
        timeout "$engine_timeout" python3 bench/sql_engines.py "$engine" "${args[@]}" --timeout "$engine_timeout" || code=$?
        if [ ! -f "$part" ]; then
            echo "$engine at $size leads did not finish (exit $code)" >&2
            printf '{"engine": "%s", "input": "%s", "size": %s, "leadscore_score_seconds": %s, "error": "did not finish: exit %s (timeout %s s)"}\n' \
                "$engine" "$input" "$size" "$(cat "$timing")" "$code" "$engine_timeout" > "$part"
        fi
        parts+=("$part")
    done
done
report_args=(--out "$result")
[ "$training" = 1 ] || report_args+=(--as-of "$as_of")
python3 bench/sql_engines.py report "${report_args[@]}" "${parts[@]}" && status=0 || status=$?
echo "wrote $result" >&2
exit $status
