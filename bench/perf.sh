#!/usr/bin/env bash
# Performance against the Python stack: for each size, generate a CRM (CSV and Parquet),
# run `leadscore bench` and bench/peer.py (polars + scikit-learn) on the same files, and
# record every stage's wall time and peak memory, both AUCs and the whole process's time
# and peak memory in bench/results/perf-N.json; bench/report.py turns them into the
# tables of bench/README.md.
#
#   bash bench/perf.sh                   # 10k, 100k and 1M leads, release build (~40 min)
#   bash bench/perf.sh 10000 100000      # chosen sizes
#   bash bench/perf.sh --smoke           # 2,000 leads, dev build, checks only (CI)
#
# Needs python3 with polars and scikit-learn (pip install -r bench/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
if [ "${1:-}" = "--smoke" ]; then
    smoke=true
    shift
    sizes=(2000)
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leadscore-target}"
    cargo build --locked --quiet
    bin="$CARGO_TARGET_DIR/debug/leadscore"
else
    sizes=("$@")
    [ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leadscore-release}"
    cargo build --release --locked --quiet
    bin="$CARGO_TARGET_DIR/release/leadscore"
fi
for size in "${sizes[@]}"; do
    case $size in
        ''|*[!0-9]*) echo "usage: bash bench/perf.sh [--smoke] [LEADS ...]" >&2; exit 2 ;;
    esac
done
if ! python3 -c 'import polars, sklearn' 2> /dev/null; then
    echo "bench/perf.sh needs python3 with polars and scikit-learn: pip install -r bench/requirements.txt" >&2
    exit 1
fi
data="${BENCH_DATA:-$CARGO_TARGET_DIR/bench-data}"
results=bench/results
$smoke && results="$data/smoke-results"
mkdir -p "$results" "$data"
as_of=2026-01-01

# Runs a command, its stdout and stderr to $run/$name.log, its whole-process wall time
# and peak memory to $run/$name.time ("seconds kib").
measure() {
    local name=$1; shift
    /usr/bin/time -f '%e %M' -o "$run/$name.time" "$@" > "$run/$name.log" 2>&1 || {
        echo "$name failed:" >&2; cat "$run/$name.log" >&2; exit 1
    }
}

for size in "${sizes[@]}"; do
    crm="$data/crm-$size"
    for format in csv parquet; do
        [ -f "$crm/$format/outcomes.$format" ] ||
            "$bin" generate --out "$crm/$format" --leads "$size" --seed 11 --format "$format" 2> /dev/null
    done
    run="$data/perf-$size"
    rm -rf "$run" && mkdir -p "$run"
    for format in csv parquet; do
        inputs=(--leads "$crm/$format/leads.$format" --interactions "$crm/$format/interactions.$format"
                --outcomes "$crm/$format/outcomes.$format" --as-of "$as_of")
        echo "== $size leads, $format: leadscore" >&2
        measure "leadscore-$format" "$bin" bench "${inputs[@]}" \
            --out "$run/leadscore-$format.parquet" --json "$run/leadscore-$format.json"
        echo "== $size leads, $format: python" >&2
        measure "python-$format" python3 bench/peer.py "${inputs[@]}" \
            --spec-from "$run/leadscore-$format.json" \
            --out "$run/python-$format.parquet" --json "$run/python-$format.json"
    done
    python3 bench/report.py collect "$run" "$size" > "$results/perf-$size.json"
    python3 bench/report.py check "$results/perf-$size.json"
done
$smoke || python3 bench/report.py markdown "$results"/perf-*.json
