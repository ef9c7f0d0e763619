#!/usr/bin/env bash
# Benchmark of the classic point model on generated data: generate a CRM of N leads
# (about 30 interactions each, Parquet), then score it with the built-in rules, and
# record wall time and peak memory of both in bench/results/points-N.json.
#
#   bash bench/points.sh            # 1,000,000 leads (release build: ~12 min the first time)
#   bash bench/points.sh 10000      # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
leads=${1:-1000000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leadscore-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/leadscore"
data="${BENCH_DATA:-$CARGO_TARGET_DIR/bench-data}/crm-$leads"
mkdir -p bench/results "$(dirname "$data")"

# Prints "seconds peak_mib" of a command; its own stderr goes to $2.log.
measure() {
    local name=$1; shift
    /usr/bin/time -f '%e %M' -o "$data.$name.time" "$@" 2> "$data.$name.log"
    awk '{ printf "%s %.0f\n", $1, $2 / 1024 }' "$data.$name.time"
}

rm -rf "$data"
read -r gen_s gen_mib < <(measure generate "$bin" generate --out "$data" --leads "$leads" --seed 1 --format parquet)
interactions=$(grep -o 'wrote [0-9,]* leads, [0-9,]* interactions' "$data.generate.log" | awk '{ gsub(",", "", $4); print $4 }')
read -r pts_s pts_mib < <(measure points "$bin" points --leads "$data/leads.parquet" \
    --interactions "$data/interactions.parquet" --as-of 2026-01-01 --out "$data/points.parquet")
stages=$(grep -o 'read [0-9.]* s, scored [0-9.]* s, wrote [0-9.]* s' "$data.points.log" || true)

result="bench/results/points-$leads.json"
cat > "$result" <<JSON
{
  "leads": $leads,
  "interactions": $interactions,
  "machine": "$(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)",
  "generate_parquet": { "seconds": $gen_s, "peak_mib": $gen_mib },
  "points_builtin_rules": { "seconds": $pts_s, "peak_mib": $pts_mib, "stages": "$stages" }
}
JSON
cat "$result"
