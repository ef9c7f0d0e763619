#!/usr/bin/env python3
"""Results of bench/perf.sh: collect one size's runs into one JSON, check them, and print
the Markdown tables of bench/README.md.

    python3 bench/report.py collect RUN_DIR LEADS > perf-LEADS.json
    python3 bench/report.py check perf-LEADS.json
    python3 bench/report.py markdown perf-*.json
"""

import json
import os
import platform
import sys

TOOLS = ("leadscore", "python")
FORMATS = ("csv", "parquet")
STAGES = ("read", "spec", "features", "train", "score", "write")


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
        memory = f"{kib / 1048576:.0f} GiB"
    except (OSError, StopIteration):
        memory = "unknown memory"
    return f"{os.cpu_count()} cores ({cpu}), {memory}, {platform.system()} {platform.release()}"


def collect(run, leads):
    runs = {}
    for tool in TOOLS:
        for fmt in FORMATS:
            report = json.load(open(os.path.join(run, f"{tool}-{fmt}.json")))
            for bulky in ("spec", "feature_names", "feature_means"):
                report.pop(bulky, None)
            seconds, kib = open(os.path.join(run, f"{tool}-{fmt}.time")).read().split()
            # Resetting the per-stage mark also resets what `time` reports at exit, so
            # the whole process's peak is the largest of both.
            peak = max([int(kib) / 1024] + [s["peak_mib"] or 0 for s in report["stages"]])
            report["process"] = {"seconds": float(seconds), "peak_mib": peak}
            runs[f"{tool}-{fmt}"] = report
    return {"leads": int(leads), "machine": machine(), "runs": runs}


def stage(report, name):
    return next(s for s in report["stages"] if s["stage"] == name)


def check(path):
    """Fails loudly when the two tools did not do the same job."""
    result = json.load(open(path))
    problems = []
    for fmt in FORMATS:
        ours, peer = result["runs"][f"leadscore-{fmt}"], result["runs"][f"python-{fmt}"]
        for field in ("leads", "interactions", "train_rows", "holdout_rows", "scored"):
            if ours[field] != peer[field]:
                problems.append(f"{fmt}: {field} {ours[field]} (leadscore) != {peer[field]} (python)")
        if not peer["max_mean_difference"] < 1e-9:
            problems.append(f"{fmt}: training matrices differ (column means by {peer['max_mean_difference']})")
        if abs(ours["holdout_roc_auc"] - peer["holdout_roc_auc"]) > 0.005:
            problems.append(f"{fmt}: AUC {ours['holdout_roc_auc']:.4f} vs {peer['holdout_roc_auc']:.4f}")
        for report in (ours, peer):
            if [s["stage"] for s in report["stages"]] != list(STAGES):
                problems.append(f"{fmt}: {report['tool']} reported stages {report['stages']}")
    if problems:
        sys.exit(f"{path}: the benchmark's two sides disagree:\n  " + "\n  ".join(problems))
    print(f"{path}: same rows, same training matrix, AUCs within 0.005", file=sys.stderr)


def ratio(ours, theirs):
    return f"{ours / theirs:.2f}×" if theirs > 0 else "–"


def markdown(paths):
    results = sorted((json.load(open(p)) for p in paths), key=lambda r: r["leads"])
    print(f"Machine: {results[-1]['machine']}.\n")
    for result in results:
        leads = result["leads"]
        for fmt in FORMATS:
            ours = result["runs"][f"leadscore-{fmt}"]
            peer = result["runs"][f"python-{fmt}"]
            print(
                f"**{leads:,} leads, {fmt.upper()}** ({ours['interactions']:,} interactions, "
                f"{ours['train_rows']:,} training rows × {peer['matrix_columns']} features, "
                f"{ours['scored']:,} leads scored)\n"
            )
            print("| stage | leadscore | Python | ratio | leadscore peak | Python peak |")
            print("|---|---:|---:|---:|---:|---:|")
            for name in STAGES:
                a, b = stage(ours, name), stage(peer, name)
                print(
                    f"| {name} | {a['seconds']:.2f} s | {b['seconds']:.2f} s | "
                    f"{ratio(a['seconds'], b['seconds'])} | {a['peak_mib']:,.0f} MiB | {b['peak_mib']:,.0f} MiB |"
                )
            a, b = ours["process"], peer["process"]
            print(
                f"| **whole process** | **{a['seconds']:.2f} s** | **{b['seconds']:.2f} s** | "
                f"**{ratio(a['seconds'], b['seconds'])}** | {a['peak_mib']:,.0f} MiB | {b['peak_mib']:,.0f} MiB |"
            )
            rate = ours["scored"] / max(stage(ours, "score")["seconds"], 1e-9)
            print(
                f"\nHoldout ROC AUC {ours['holdout_roc_auc']:.4f} (leadscore) vs "
                f"{peer['holdout_roc_auc']:.4f} (scikit-learn); log loss on the training rows "
                f"{ours['train_log_loss']:.4f} vs {peer['train_log_loss']:.4f}; "
                f"scikit-learn took {peer['solver_iterations']} L-BFGS iterations; "
                f"leadscore scores {rate:,.0f} leads per second once features are built.\n"
            )
    print("**Scaling (Parquet)**: seconds per stage, leadscore / Python\n")
    print("| leads | " + " | ".join(STAGES) + " | whole process | peak memory |")
    print("|---:|" + "---:|" * (len(STAGES) + 2))
    for result in results:
        ours, peer = result["runs"]["leadscore-parquet"], result["runs"]["python-parquet"]
        cells = [
            f"{stage(ours, s)['seconds']:.2f} / {stage(peer, s)['seconds']:.2f}" for s in STAGES
        ]
        cells.append(f"{ours['process']['seconds']:.1f} / {peer['process']['seconds']:.1f}")
        cells.append(f"{ours['process']['peak_mib']:,.0f} / {peer['process']['peak_mib']:,.0f} MiB")
        print(f"| {result['leads']:,} | " + " | ".join(cells) + " |")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "collect":
        json.dump(collect(*args), sys.stdout, indent=2)
        print()
    elif command == "check":
        for path in args:
            check(path)
    elif command == "markdown":
        markdown(args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
