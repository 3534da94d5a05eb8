"""bench/shared_pass: what one shared encoder pass would save over separate sentiment and NER models.

    python -m bench.shared_pass [--n 2000] [--repeats 3] [--batch-size 32]

Model time only (texts tokenised beforehand, length-sorted batches, fp32 eager, one
process, the variants interleaved, medians of --repeats) on N real tweets:

1. sentiment: the sentiment pack's model on the text normalised as it normalises, 96 tokens;
2. NER: the NER pack's model on the raw text, 128 tokens;
3. both: 1 + 2 of the same repeat, what `--tasks all` runs today (one after the other);
4. shared: one pass of one encoder on the NER input, then both heads (the sentiment pack's
   pooler + classifier on [CLS], the NER pack's classifier on every token). The weights
   do not matter for the time; this is the cost a shared trunk would have.

Prints seconds and ratios; training/README.md ("One shared trunk?") records a run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.texts import real_texts


def batches(tokenizer: Any, texts: list[str], max_length: int, batch_size: int) -> list[dict]:
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    return [tokenizer([texts[i] for i in order[s:s + batch_size]], padding=True, truncation=True,
                      max_length=max_length, return_tensors="pt")
            for s in range(0, len(order), batch_size)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    import torch

    from analyzer.models import pack as modelpack
    from analyzer.models.runtime import set_cpu_threads
    from analyzer.text.normalise import model_normalisation, normaliser
    from training import pack_check

    set_cpu_threads()
    texts, origin = real_texts(args.n)
    sentiment, tokenizer, _ = pack_check.load_stored("sentiment", modelpack.PACK_DIR / "sentiment")
    ner, _, _ = pack_check.load_stored("ner", modelpack.PACK_DIR / "ner")
    normalise = normaliser(model_normalisation(sentiment.config))
    sentiment_batches = batches(tokenizer, [normalise(t) for t in texts], 96, args.batch_size)
    ner_batches = batches(tokenizer, texts, 128, args.batch_size)

    def run_sentiment() -> None:
        for batch in sentiment_batches:
            sentiment(**batch)

    def run_ner() -> None:
        for batch in ner_batches:
            ner(**batch)

    def run_shared() -> None:
        for batch in ner_batches:
            out = sentiment.bert(**batch)  # one encoder pass, pooled [CLS] included
            sentiment.classifier(out.pooler_output)
            ner.classifier(out.last_hidden_state)

    variants = {"sentiment only": run_sentiment, "NER only": run_ner, "shared pass": run_shared}
    times: dict[str, list[float]] = {name: [] for name in [*variants, "both (today)"]}
    with torch.inference_mode():
        for model in (sentiment, ner):  # warm-up
            model(**sentiment_batches[0])
        for _ in range(args.repeats):
            for name, run in variants.items():
                started = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - started)
            times["both (today)"].append(times["sentiment only"][-1] + times["NER only"][-1])
    medians = {name: statistics.median(values) for name, values in times.items()}
    both = medians["both (today)"]
    print(f"{args.n} texts: {origin}; {torch.get_num_threads()} threads; medians of {args.repeats}")
    print("| variant | seconds | vs both |\n|---|---|---|")
    for name, seconds in medians.items():
        print(f"| {name} | {seconds:.2f} | {seconds / both:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
