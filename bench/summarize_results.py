#!/usr/bin/env python3
"""Summarizes bench/vs-pytorch.sh results (JSON lines, one per run): per configuration and thread count, the
median over runs of each implementation's ms/batch, CPU ms/batch, chars/s, GFLOP/s and peak memory, and the
ratio Tensorlet chars/s ÷ PyTorch chars/s (wall time), and the CPU ratio PyTorch CPU ms ÷ Tensorlet CPU ms
per batch (process CPU time, all threads: less sensitive to other load on the machine). Usage: summarize_results.py RESULTS.jsonl [MORE.jsonl ...]"""

import json
import statistics
import sys

rows = [json.loads(line) for path in sys.argv[1:] for line in open(path) if line.strip()]
groups = {}
for r in rows:
    impl, config, threads = r["label"].split(" ")
    groups.setdefault((config, threads), {}).setdefault(impl, []).append(r)

print(f"{'config':<12} {'threads':<7} {'impl':<20} {'runs':>4} {'ms/batch':>10} {'CPU ms':>10} {'chars/s':>9} "
      f"{'GFLOP/s':>8} {'peak MiB':>9} {'load':>6} {'ratio':>7} {'CPU ratio':>9}")
for (config, threads), impls in sorted(groups.items()):
    def med(runs, key):
        return statistics.median(r[key] for r in runs)
    ours = impls.get("tensorlet")
    for impl, runs in sorted(impls.items()):
        ratio = cpu_ratio = ""
        if ours and impl != "tensorlet":
            ratio = f"{med(ours, 'chars_per_s') / med(runs, 'chars_per_s'):.2f}x"
            cpu_ratio = f"{med(runs, 'cpu_ms_per_batch') / med(ours, 'cpu_ms_per_batch'):.2f}x"
        print(f"{config:<12} {threads:<7} {impl:<20} {len(runs):>4} {med(runs, 'ms_per_batch_median'):>10.2f} "
              f"{med(runs, 'cpu_ms_per_batch'):>10.2f} {med(runs, 'chars_per_s'):>9,.0f} {med(runs, 'gflops'):>8.1f} "
              f"{med(runs, 'peak_working_set_mb'):>9.0f} {med(runs, 'load_avg_end'):>6.1f} {ratio:>7} {cpu_ratio:>9}")
