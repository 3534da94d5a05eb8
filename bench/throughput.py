"""bench/throughput: `opinions` analysis against the naive transformers pipeline loop, same model, same threads.

    python -m bench.throughput [--n 4000] [--repeats 3] [--task sentiment|ner|offensive|emotion|all]
                               [--quantize auto|none|int8|bf16]

Each run is a whole process (start-up, model load, tokenizing, inference, output), the
way a user meets it. Compared side by side in one run, medians of --repeats:

1. sentiment on N real tweets: `pipeline("text-classification", model=FOLDER)(texts,
   batch_size=32, truncation=True)` against `opinions analyze --task sentiment`;
2. the same dump with 20% duplicated texts (a retweet storm): the naive loop against
   `opinions ingest --tasks sentiment` (which analyses each distinct text once);
3. NER: `pipeline("token-classification", aggregation_strategy="simple")` against
   `opinions analyze --task ner`; offensive and emotion as sentiment (`text-classification`);
4. with `--task all` (the default), every registered task: the naive process of each task above,
   one after the other (their walls summed per repeat), against one `opinions ingest --tasks all`
   of the same N texts.
Every case runs once per repeat, interleaved, so the load (printed per run) falls on all alike.
The model is the embedded pack (the naive loop loads its `opinions models path TASK`
folder: the same weights) unless --model. `opinions` runs with its defaults, so
`--quantize auto` applies bf16 where the CPU has AMX and the pack measured it safe, else fp32. The ingest case also
prints the model's busy share of the wall time (reading, mapping and writing overlap it).
`opinions` loads the trace its first run cached (analyzer.models.traced); with a cold cache the
first repeat traces the model as well, which the median of 3 leaves out.
Goal: ≥ 3× on CPU for sentiment on tweets, ≥ 4× on the dump with duplicates, ≥ 4× for `--task all`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analyzer.tasks import NAMES as TASKS
from bench.results import record
from bench.texts import real_texts, with_duplicates

NAIVE = r"""
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[3]))
from transformers import pipeline
task, folder, threads, path = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
texts = open(path, encoding="utf-8").read().split("\n")
if task != "ner":
    pipe = pipeline("text-classification", model=folder, device=-1)
    started = time.perf_counter()
    out = pipe(texts, batch_size=32, truncation=True)
else:
    pipe = pipeline("token-classification", model=folder, aggregation_strategy="simple", device=-1)
    started = time.perf_counter()
    out = pipe(texts, batch_size=32)
print(json.dumps({"model_seconds": time.perf_counter() - started, "n": len(out)}))
"""


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command[:6])}...\n{done.stderr[-3000:]}")
    return time.perf_counter() - started, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--task", choices=[*TASKS, "all"], default="all")
    parser.add_argument("--model", help="model folder (default: the embedded pack's)")
    parser.add_argument("--quantize", default="auto", help="passed to opinions (auto | none | int8 | bf16)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    opinions = [sys.executable, "-m", "analyzer.cli"]
    env = {"OPINIONS_THREADS": str(args.threads), "TOKENIZERS_PARALLELISM": "true"}
    texts, origin = real_texts(args.n)
    texts = [t.replace("\n", " ") for t in texts]
    work = Path(tempfile.mkdtemp(prefix="opinions-bench-"))
    plain = work / "texts.txt"
    plain.write_text("\n".join(texts), encoding="utf-8")
    dupes = with_duplicates(texts)
    dupes_txt = work / "dupes.txt"
    dupes_txt.write_text("\n".join(dupes), encoding="utf-8")
    dump = work / "dupes.jsonl"
    dump.write_text("\n".join(json.dumps({"id": str(i), "text": t}) for i, t in enumerate(dupes)) + "\n")
    texts_dump = work / "texts.jsonl"
    texts_dump.write_text("\n".join(json.dumps({"id": str(i), "text": t}) for i, t in enumerate(texts)) + "\n")
    print(f"machine: {os.cpu_count()} CPUs, threads {args.threads}; texts: {args.n} {origin}; quantize {args.quantize}")
    tasks = list(TASKS) if args.task == "all" else [args.task]
    cases: dict[str, list[str]] = {}
    for task in tasks:
        folder = args.model or subprocess.run([*opinions, "models", "path", task], capture_output=True, text=True,
                                              check=True).stdout.strip()
        model = args.model or "embedded"
        cases[f"{task}: naive pipeline"] = [sys.executable, "-c", NAIVE, task, folder, str(args.threads), str(plain)]
        cases[f"{task}: opinions analyze"] = [*opinions, "analyze", str(plain), "--task", task, "--model", model,
                                              "--device", "cpu", "--quantize", args.quantize]
        if task == "sentiment":
            cases[f"{task}: naive pipeline, 20% duplicates"] = [sys.executable, "-c", NAIVE, task, folder,
                                                                 str(args.threads), str(dupes_txt)]
            cases[f"{task}: opinions ingest, 20% duplicates"] = [
                *opinions, "ingest", str(dump), "--tasks", task, "--sentiment-model", model, "--device", "cpu",
                "--quantize", args.quantize, "--json", "--db", str(work / "bench.duckdb")]
    if args.task == "all":
        # against the naive process of each task above, run one after the other (their walls summed)
        model_flags = [] if not args.model else [flag for task in tasks for flag in (f"--{task}-model", args.model)]
        cases["all: opinions ingest --tasks all"] = [
            *opinions, "ingest", str(texts_dump), "--tasks", "all", *model_flags, "--device", "cpu",
            "--quantize", args.quantize, "--json", "--db", str(work / "bench.duckdb")]
    walls: dict[str, list[float]] = {name: [] for name in cases}
    busy: list[float] = []
    load_seen: list[float] = []
    for repeat in range(args.repeats):
        for name, command in cases.items():
            (work / "bench.duckdb").unlink(missing_ok=True)
            Path(str(work / "bench.duckdb") + ".lock").unlink(missing_ok=True)
            seconds, stdout = run(command, env)
            walls[name].append(seconds)
            if "20% duplicates" in name and "opinions ingest" in name:
                summary = json.loads(stdout)
                busy.append(summary["model_seconds"] / summary["seconds"])
            load_seen.append(os.getloadavg()[0])
            print(f"  run {repeat + 1} {name:42s} {seconds:6.1f} s  {args.n / seconds:7.1f} texts/s  "
                  f"(load {load_seen[-1]:.1f})", flush=True)
    if args.task == "all":
        walls["all: naive, one task after another"] = [sum(each) for each in zip(
            *(walls[f"{task}: naive pipeline"] for task in tasks), strict=True)]
    med = {name: statistics.median(values) for name, values in walls.items()}
    print(f"\nmedians over {args.repeats} runs (whole process):")
    for name, seconds in med.items():
        print(f"  {name:42s} {args.n / seconds:7.1f} texts/s")
    command = f"python -m bench.throughput --n {args.n} --repeats {args.repeats} --task {args.task}"
    loads = f"load {min(load_seen):.0f}-{max(load_seen):.0f}"

    def recorded(key: str, what: str, naive: str, ours: str, goal: str) -> float:
        ratio = med[naive] / med[ours]
        record(key, what, ratio, "×", goal, f"{args.n / med[ours]:.1f} vs {args.n / med[naive]:.1f} texts/s, "
               f"medians of {args.repeats}, {loads}", command)
        return ratio

    for task in tasks:
        ratio = med[f"{task}: naive pipeline"] / med[f"{task}: opinions analyze"]
        print(f"  {task} ratio opinions/naive: {ratio:.2f}x")
        if task != "sentiment":
            recorded(f"throughput_{task}", f"{task} on {args.n:,} real tweets, whole process, against the naive "
                     "`pipeline(...)` loop", f"{task}: naive pipeline", f"{task}: opinions analyze", "≥ 3")
    if "sentiment" in tasks:
        recorded("throughput_sentiment", f"Sentiment on {args.n:,} real tweets, whole process, against the naive "
                 "`pipeline(...)` loop", "sentiment: naive pipeline", "sentiment: opinions analyze", "≥ 3")
        ratio = med["sentiment: naive pipeline, 20% duplicates"] / med["sentiment: opinions ingest, 20% duplicates"]
        print(f"  sentiment ratio with 20% duplicates (ingest vs naive): {ratio:.2f}x")
        print(f"  model busy share of the ingest run: {statistics.median(busy):.0%}")
    if args.task == "all":
        ratio = recorded("throughput_all", f"`ingest --tasks all` ({', '.join(tasks)}) on {args.n:,} real tweets "
                         "against the naive loop of each task, one after another", "all: naive, one task after another",
                         "all: opinions ingest --tasks all", "≥ 4")
        print(f"  all ratio (ingest --tasks all vs the naive loops one after another): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
