#!/usr/bin/env bash
# Benchmark of the nightly job: train a model on a generated CRM of 20,000 leads
# (TRAIN_LEADS), then rescore a generated lead base of N leads (about 28 interactions
# each, Parquet) and record wall time and peak memory in bench/results/rescore-N.json.
# Training at scale is measured by the performance benchmark, not here.
#
#   bash bench/rescore.sh              # 1,000,000 leads (release build: ~12 min the first time)
#   bash bench/rescore.sh 20000        # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
leads=${1:-1000000}
case $leads in
    ''|*[!0-9]*) echo "usage: bash bench/rescore.sh [LEADS]" >&2; exit 2 ;;
esac
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leadscore-release}"
train_leads=${TRAIN_LEADS:-20000}
partition=${PARTITION_LEADS:-250000}
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/leadscore"
data="${BENCH_DATA:-$CARGO_TARGET_DIR/bench-data}"
mkdir -p bench/results "$data"

# Prints "seconds peak_mib" of a command; its stderr goes to $data/$name.log.
measure() {
    local name=$1; shift
    /usr/bin/time -f '%e %M' -o "$data/$name.time" "$@" > /dev/null 2> "$data/$name.log"
    awk '{ printf "%s %.0f\n", $1, $2 / 1024 }' "$data/$name.time"
}

train_crm="$data/train-$train_leads"
[ -f "$train_crm/outcomes.parquet" ] || "$bin" generate --out "$train_crm" --leads "$train_leads" --seed 2 --format parquet 2> /dev/null
read -r train_s train_mib < <(measure train "$bin" train --leads "$train_crm/leads.parquet" \
    --interactions "$train_crm/interactions.parquet" --outcomes "$train_crm/outcomes.parquet" \
    --out "$data/model.bin")

base="$data/base-$leads"
[ -f "$base/leads.parquet" ] || "$bin" generate --out "$base" --leads "$leads" --seed 3 --format parquet 2> /dev/null
interactions=$(grep -o 'read [0-9,]* interactions' "$data/train.log" | head -1 | tr -dc 0-9)
rm -rf "$data/nightly-$leads"
read -r rescore_s rescore_mib < <(measure rescore "$bin" rescore --model "$data/model.bin" \
    --leads "$base/leads.parquet" --interactions "$base/interactions.parquet" \
    --as-of 2026-01-01 --partition-leads "$partition" --out "$data/nightly-$leads")
base_interactions=$(grep -o 'read [0-9,]* interactions' "$data/rescore.log" | head -1 | tr -dc 0-9)

cat > "bench/results/rescore-$leads.json" <<JSON
{
  "machine": "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)",
  "train": { "leads": $train_leads, "interactions": $interactions, "seconds": $train_s, "peak_mib": $train_mib },
  "rescore": { "leads": $leads, "interactions": $base_interactions, "partition_leads": $partition, "seconds": $rescore_s, "peak_mib": $rescore_mib }
}
JSON
cat "bench/results/rescore-$leads.json"
