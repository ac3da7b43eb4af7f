"""Run every benchmark, each in a fresh process, then print the README's table of figures.

    python benchmarks/run_all.py            # full runs, about 15 minutes on 2 cores
    python benchmarks/run_all.py --quick    # a smoke run, a few minutes
    python benchmarks/run_all.py --table    # only print the table from results/*.json

Figures go to benchmarks/results/<name>.json. Nothing here fails on a slow machine: the
goals are reported as met or not, with the figures.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BENCHMARKS = ["latency", "throughput", "widget", "browser", "training", "drawn_digits"]


def run(names, quick):
    for name in names:
        if name == "drawn_digits" and quick:
            print("\n=== drawn_digits: skipped in a quick run (its full run takes a few minutes)")
            continue
        command = [sys.executable, str(HERE / f"{name}.py")] + (["--quick"] if quick else [])
        print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
        if subprocess.run(command).returncode != 0:
            print(f"!!! {name} did not finish: see its output above", flush=True)


def load(name):
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def table():
    """The README's table: each goal, where we stand, and the peer measured beside us."""
    lat, thr, wid, bro, tra = (load(n) for n in BENCHMARKS[:5])
    rows = []
    if lat:
        s, peers = lat["single"], lat["peers_batch1"]
        for side, goal in (("280px", 1.0), ("800px", 2.0)):
            f = s[side]
            rows.append((f"`Predictor.predict`, {side} drawing, 1 thread (p50 / p95)",
                         f"≤ {goal} ms p50",
                         f"{f['predict']['p50_ms']} / {f['predict']['p95_ms']} ms "
                         f"(preprocess {f['preprocess']['p50_ms']} vs plain scipy "
                         f"{f['plain_scipy_preprocess']['p50_ms']}; model {f['model']['p50_ms']})"))
        rows.append(("batch 1 model call: ours vs `model.predict` / eager `model(x)` / "
                     "`predict_on_batch`", "≥ 30x vs `model.predict`",
                     f"{peers['ours']['p50_ms']} ms vs {peers['model.predict']['p50_ms']} / "
                     f"{peers['eager_call']['p50_ms']} / {peers['predict_on_batch']['p50_ms']} ms: "
                     f"**{lat['speedup_vs']['model.predict']}x** / "
                     f"{lat['speedup_vs']['eager_call']}x / {lat['speedup_vs']['predict_on_batch']}x"))
        rows.append(("batch 1 model call vs one core's float32 GEMM rate", "report",
                     f"{lat['model_batch1_fraction_of_one_core_gemm']:.0%} of "
                     f"{lat['one_core_gemm_gflops']} GFLOP/s"))
    if thr:
        b = thr["batches"]
        rows.append(("images/s at batch 1 / 32 / 256, all cores", "≥ 10,000 at 256",
                     f"{b['1']['images_per_s']:,} / {b['32']['images_per_s']:,} / "
                     f"{b['256']['images_per_s']:,}"))
        rows.append(("fraction of measured float32 GEMM rate at batch 256",
                     "report", f"{b['256']['fraction_of_float32_gemm']:.0%} of "
                     f"{thr['gemm_gflops']['float32']} GFLOP/s "
                     f"(10,000/s would need {thr['fraction_of_float32_gemm_needed_for_10000_per_s']:.0%})"))
    if wid:
        rows.append(("widget in the kernel: stroke end → bars, label, preview (p50 / p95)",
                     "≤ 5 ms p50", f"{wid['stroke_end']['p50_ms']} / {wid['stroke_end']['p95_ms']} ms"))
    if bro:
        m = bro["mouse_up_to_answer"]
        rows.append(("widget in the browser: mouse-up → new answer shown (p50 / p95)",
                     "≤ 150 ms p50", f"{m['p50_ms']:.0f} / {m['p95_ms']:.0f} ms"))
    if wid:
        mem = wid["memory_mib"]
        after = [k for k in mem if k.startswith("after_") and k != "after_DigitPad"][0]
        rows.append(("fresh kernel → ready `DigitPad()`", "≤ 6 s",
                     f"{wid['startup_s']['median']} s"))
        rows.append((f"kernel memory after `DigitPad()` → {after.split('_')[1]} drawings",
                     "growth ≤ 10%", f"{mem['after_DigitPad']} → {mem[after]} MiB "
                     f"({mem['growth']:+.1%})"))
    if tra:
        rows.append(("training, default recipe, this CPU: images/s (epoch)", "report",
                     f"{tra['fit_images_per_s']:,} ({tra['epoch_seconds_estimate']} s/epoch); "
                     f"without augmentation {tra['fit_images_per_s_without_augmentation']:,}"))
        rows.append(("training on a GPU: s/epoch; recipe to ≥ 99.70%", "≤ 3 s; ≤ 2 min",
                     tra["goals"]["gpu_epoch_s<=3"] if isinstance(
                         tra["goals"]["gpu_epoch_s<=3"], str) else tra["epoch_seconds_estimate"]))
    machine = next((r["machine"] for r in (lat, thr, wid, bro, tra) if r), {})
    lines = [f"Measured {machine.get('date')} on {machine.get('cpu')}, {machine.get('cores')} "
             f"cores, GPU: {machine.get('gpu') or 'none'} (`python benchmarks/run_all.py`).", "",
             "| what | goal | measured |", "|---|---|---|"]
    lines += [f"| {what} | {goal} | {got} |" for what, goal, got in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke runs")
    parser.add_argument("--table", action="store_true", help="only print the table")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args()
    if not args.table:
        run(args.only or BENCHMARKS, args.quick)
    print("\n" + table())


if __name__ == "__main__":
    main()
