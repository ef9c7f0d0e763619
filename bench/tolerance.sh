#!/usr/bin/env bash
# The solver's stopping rule against training time and quality: `leadscore bench` at
# several gradient tolerances on the Parquet CRM that bench/perf.sh generated for LEADS,
# beside scikit-learn's fit from bench/results/perf-LEADS.json. Writes
# bench/results/tolerance-LEADS.json and prints a Markdown table.
#
#   bash bench/tolerance.sh 100000
set -euo pipefail
cd "$(dirname "$0")/.."
leads=${1:-100000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leadscore-release}"
cargo build --release --locked --quiet
bin="$CARGO_TARGET_DIR/release/leadscore"
crm="${BENCH_DATA:-$CARGO_TARGET_DIR/bench-data}/crm-$leads/parquet"
[ -f "$crm/outcomes.parquet" ] || { echo "run bash bench/perf.sh $leads first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for tolerance in 1e-4 3e-4 1e-3 3e-3; do
    "$bin" bench --leads "$crm/leads.parquet" --interactions "$crm/interactions.parquet" \
        --outcomes "$crm/outcomes.parquet" --as-of 2026-01-01 --gradient-tolerance "$tolerance" \
        --out "$work/scores.parquet" --json "$work/$tolerance.json" > /dev/null 2>&1
done
python3 - "$work" "$leads" <<'PY' > "bench/results/tolerance-$leads.json"
import json, os, sys
work, leads = sys.argv[1], sys.argv[2]
peer = json.load(open(f"bench/results/perf-{leads}.json"))["runs"]["python-parquet"]
rows = []
for name in sorted(os.listdir(work)):
    if name.endswith(".json"):
        r = json.load(open(os.path.join(work, name)))
        train = next(s["seconds"] for s in r["stages"] if s["stage"] == "train")
        rows.append({"tool": "leadscore", "gradient_tolerance": r["gradient_tolerance"], "train_seconds": train,
                     "train_log_loss": r["train_log_loss"], "holdout_roc_auc": r["holdout_roc_auc"]})
rows.sort(key=lambda fit: fit["gradient_tolerance"])
train = next(s["seconds"] for s in peer["stages"] if s["stage"] == "train")
rows.append({"tool": "scikit-learn (tol 1e-4)", "gradient_tolerance": None, "train_seconds": train,
             "train_log_loss": peer["train_log_loss"], "holdout_roc_auc": peer["holdout_roc_auc"]})
json.dump({"leads": int(leads), "fits": rows}, sys.stdout, indent=2)
PY
python3 - "bench/results/tolerance-$leads.json" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
peer = result["fits"][-1]
print("| fit | train time | vs scikit-learn | training log loss | difference | holdout ROC AUC |")
print("|---|---:|---:|---:|---:|---:|")
for fit in result["fits"]:
    name = fit["tool"] if fit["gradient_tolerance"] is None else f"leadscore, tolerance {fit['gradient_tolerance']:g}"
    print(f"| {name} | {fit['train_seconds']:.2f} s | {fit['train_seconds'] / peer['train_seconds']:.2f}× | "
          f"{fit['train_log_loss']:.6f} | {fit['train_log_loss'] - peer['train_log_loss']:+.6f} | {fit['holdout_roc_auc']:.4f} |")
PY
