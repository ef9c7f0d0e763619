#!/usr/bin/env bash
# What a user runs against what they would otherwise write (issue #14): leadscore's
# default route, `train --until SPLIT` then `score --as-of SPLIT`, against the plain
# analyst's script bench/analyst.py (polars features from one cutoff per closed lead,
# scikit-learn LogisticRegression with default C, the open leads scored), on the same
# generated CRM (CSV, seed 11). SPLIT is the 80% quantile of the close dates. Each side's
# whole-process wall time and peak memory come from /usr/bin/time; both are judged by ROC
# AUC on the same rows: the leads open at SPLIT (created before it) whose deal closed at
# or after it, label won. Leads with no outcome yet are scored but not judged.
# The criterion: leadscore's total time at most 0.7x the analyst's, at no worse AUC.
#
#   bash bench/analyst.sh [LEADS]        # default 200,000 leads
#   LEADSCORE_BIN=path bash bench/analyst.sh 20000
#
# Builds and uses the release binary (as bench/perf.sh does) unless LEADSCORE_BIN names
# one. Writes
# bench/results/analyst-LEADS.json and prints a Markdown row for bench/README.md.
# Needs python3 with polars and scikit-learn (pip install -r bench/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

leads=${1:-200000}
case $leads in
    ''|*[!0-9]*) echo "usage: bash bench/analyst.sh [LEADS]" >&2; exit 2 ;;
esac
if [ -n "${LEADSCORE_BIN:-}" ]; then
    bin=$LEADSCORE_BIN
else
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leadscore-release}"
    cargo build --release --locked --quiet
    bin="$CARGO_TARGET_DIR/release/leadscore"
fi
[ -x "$bin" ] || { echo "no leadscore binary at $bin: build it or set LEADSCORE_BIN" >&2; exit 1; }
if ! python3 -c 'import polars, sklearn' 2> /dev/null; then
    echo "bench/analyst.sh needs python3 with polars and scikit-learn: pip install -r bench/requirements.txt" >&2
    exit 1
fi
data="${BENCH_DATA:-$HOME/.cache/leadscore-target/bench-data}"
crm="$data/crm-analyst-$leads"
run="$data/analyst-$leads"
rm -rf "$run" && mkdir -p "$run" bench/results

# Runs a command, its stdout and stderr to $run/$name.log, its whole-process wall time
# and peak memory to $run/$name.time ("seconds kib").
measure() {
    local name=$1; shift
    /usr/bin/time -f '%e %M' -o "$run/$name.time" "$@" > "$run/$name.log" 2>&1 || {
        echo "$name failed:" >&2; cat "$run/$name.log" >&2; exit 1
    }
}

if [ ! -f "$crm/outcomes.csv" ]; then
    echo "== generating $leads leads into $crm" >&2
    rm -rf "$crm.tmp"
    "$bin" generate --out "$crm.tmp" --leads "$leads" --seed 11 > "$run/generate.log" 2>&1 ||
        { cat "$run/generate.log" >&2; exit 1; }
    mv "$crm.tmp" "$crm"
fi
split=$(python3 -c 'import sys, polars as pl
s = pl.read_csv(sys.argv[1], columns=["closed_at"], try_parse_dates=True)["closed_at"]
print(pl.from_epoch(pl.Series([int(s.dt.epoch("s").quantile(0.8, "nearest"))]), "s")[0].strftime("%Y-%m-%dT%H:%M:%SZ"))' \
    "$crm/outcomes.csv")
echo "== $leads leads, split at $split, $bin" >&2

echo "== leadscore train + score" >&2
measure train "$bin" train --leads "$crm/leads.csv" --interactions "$crm/interactions.csv" \
    --outcomes "$crm/outcomes.csv" --until "$split" --out "$run/model.bin"
measure score "$bin" score --model "$run/model.bin" --leads "$crm/leads.csv" \
    --interactions "$crm/interactions.csv" --as-of "$split" --out "$run/scores.csv"
echo "== analyst (bench/analyst.py)" >&2
measure analyst python3 bench/analyst.py "$crm" "$split" "$run/analyst_scores.csv"

python3 - "$crm" "$run" "$leads" "$split" > "bench/results/analyst-$leads.json" <<'PY'
import json, sys
import polars as pl
from sklearn.metrics import roc_auc_score

crm, run, leads, split = sys.argv[1:]
at = pl.Series([split]).str.to_datetime(time_zone="UTC")[0]
created = pl.read_csv(f"{crm}/leads.csv", columns=["lead_id", "created_at"], try_parse_dates=True)
outcomes = pl.read_csv(f"{crm}/outcomes.csv", try_parse_dates=True)
judged = (created.filter(pl.col("created_at") < at)
          .join(outcomes.filter(pl.col("closed_at") >= at), on="lead_id")
          .select("lead_id", won=pl.col("outcome") == "won"))

def auc(path):
    scores = pl.read_csv(path, columns=["lead_id", "probability"])
    rows = judged.join(scores, on="lead_id", how="left")
    missing = rows["probability"].null_count()
    if missing:
        sys.exit(f"{path}: {missing} of the {len(rows)} judged leads have no probability")
    return float(roc_auc_score(rows["won"].to_numpy(), rows["probability"].to_numpy()))

def timed(name):
    seconds, kib = open(f"{run}/{name}.time").read().split()[-2:]
    return float(seconds), int(kib)

(train_s, train_kib), (score_s, score_kib) = timed("train"), timed("score")
analyst_s, analyst_kib = timed("analyst")
analyst = json.loads(open(f"{run}/analyst.log").read().strip().splitlines()[-1])
ours = {"train_s": train_s, "score_s": score_s, "total_s": round(train_s + score_s, 2),
        "peak_kib": max(train_kib, score_kib), "auc": auc(f"{run}/scores.csv")}
theirs = {"total_s": analyst_s, "peak_kib": analyst_kib, "auc": auc(f"{run}/analyst_scores.csv"),
          "stages": analyst["stages"], "train_rows": analyst["train_rows"],
          "open_rows": analyst["open_rows"], "columns": analyst["columns"]}
ratio = ours["total_s"] / theirs["total_s"]
print(json.dumps({
    "leads": int(leads), "split": split, "leadscore": ours, "analyst": theirs,
    "ratio": round(ratio, 3), "judged": len(judged), "won_rate": float(judged["won"].mean()),
    "meets_criterion": ratio <= 0.7 and ours["auc"] >= theirs["auc"],
}, indent=2))
PY
python3 - "bench/results/analyst-$leads.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ours, theirs = r["leadscore"], r["analyst"]
print(f"| {r['leads']:,} | {r['split']} | {r['judged']:,} | {r['won_rate']:.3f} | "
      f"{ours['total_s']:.1f} s ({ours['train_s']:.1f} + {ours['score_s']:.1f}), "
      f"{ours['peak_kib'] / 1024:.0f} MiB | {theirs['total_s']:.1f} s, "
      f"{theirs['peak_kib'] / 1024:.0f} MiB | {r['ratio']:.2f}× | "
      f"{ours['auc']:.4f} | {theirs['auc']:.4f} |")
PY
