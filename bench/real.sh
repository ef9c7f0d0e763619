#!/usr/bin/env bash
# leadscore on a real attribute-only export against the plain analyst's baseline:
# scikit-learn's LogisticRegression on one-hot categories and standardised raw numbers
# (default C), both trained on the deals closed before SPLIT and judged by ROC AUC on the
# deals after it. leadscore is run exactly as the README's main command runs it (no rule
# file, default settings), trained with --until SPLIT and judged by `compare`, whose
# headline is the leads open after the split, each as of its evaluation date.
#
#   bash bench/real.sh [DIR] [SPLIT]   # default: ../shared/data/bank-marketing, 2009-05-08T12:00:00
#
# Writes bench/results/real-<name>.json and prints a Markdown row for bench/README.md.
# Needs python3 with polars and scikit-learn (pip install -r bench/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

data=${1:-../shared/data/bank-marketing}
split=${2:-2009-05-08T12:00:00}
name=$(basename "$data")
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leadscore-target}"
cargo build --locked --quiet
bin="$CARGO_TARGET_DIR/debug/leadscore"
work="$CARGO_TARGET_DIR/bench-real/$name"
rm -rf "$work" && mkdir -p "$work"
tables=(--leads "$data/leads.csv" --interactions "$data/interactions.csv" --outcomes "$data/outcomes.csv")

"$bin" train "${tables[@]}" --until "$split" --out "$work/model.bin" > "$work/train.log" 2>&1 ||
    { cat "$work/train.log" >&2; exit 1; }
"$bin" compare --model "$work/model.bin" "${tables[@]}" --split-at "$split" --out "$work/report" \
    > "$work/compare.log" 2>&1 || { cat "$work/compare.log" >&2; exit 1; }
python3 bench/real_peer.py "$data" "$split" > "$work/peer.json"

mkdir -p bench/results
python3 - "$work" "$name" "$split" > "bench/results/real-$name.json" <<'PY'
import json, sys
work, name, split = sys.argv[1:]
report = json.load(open(f"{work}/report/report.json"))
peer = json.load(open(f"{work}/peer.json"))
unseen = [p for p in report["periods"] if "unseen" in p["name"]]
print(json.dumps({
    "data": name,
    "split": split,
    "leadscore": {
        "judged": report["leads"],
        "won_rate": report["base_rate"],
        "roc_auc": report["model"]["roc_auc"],
        "headline_is_unseen": report["headline_is_unseen"],
        "unseen_period": unseen[0] if unseen else None,
    },
    "scikit_learn": peer["after_split"],
    "scikit_learn_in_sample": peer["train"],
}, indent=2))
PY
python3 - "bench/results/real-$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ours, peer = r["leadscore"], r["scikit_learn"]
auc = ours["roc_auc"]
print(f"| {r['data']} | {r['split']} | {peer['rows']:,} | {peer['won_rate']:.3f} | "
      f"{auc['value']:.4f} ({auc['low']:.3f}–{auc['high']:.3f}) | {peer['roc_auc']:.4f} |")
if not ours["headline_is_unseen"]:
    sys.exit("leadscore's headline is not the unseen period")
PY
