"""bench/gpu: sentiment and NER texts/s on a GPU, naive pipeline loop against ours, bf16 and fp32, two sizes.

    python -m bench.gpu [--n 20000]

Models: the embedded pack (MiniLM-L6, 22M) and a base-size stand-in (BERT-base config,
random weights: fine for speed) built here. Texts: real tweets when ../shared is present.
Prints one line per (model, task, path, dtype) and the ratios. Meant for a lent GPU machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.texts import real_texts


def base_size_standin(folder: Path, kind: str) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertForTokenClassification

    from analyzer.models.pack import base_dir

    if (folder / "config.json").exists():
        return folder
    labels = ["negative", "neutral", "positive"] if kind == "sentiment" else ["O", "B-PER", "I-PER", "B-ORG", "I-ORG"]
    config = BertConfig(num_labels=len(labels), id2label=dict(enumerate(labels)),
                        label2id={label: i for i, label in enumerate(labels)})  # BERT-base sizes
    model_cls = BertForSequenceClassification if kind == "sentiment" else BertForTokenClassification
    model_cls(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(base_dir())).save_pretrained(folder)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch
    from transformers import pipeline

    from analyzer.models.spec import ModelSpec, load_folder_or_id
    from analyzer.tasks.analysis import AnalysisSettings, Predictor

    assert torch.cuda.is_available(), "bench/gpu needs a CUDA device"
    texts, origin = real_texts(args.n)
    print(f"GPU: {torch.cuda.get_device_name(0)}; {args.n} texts: {origin}")
    work = Path(tempfile.mkdtemp(prefix="opinions-gpu-"))
    for task in ("sentiment", "ner"):
        models = {"MiniLM-L6 (pack)": load_folder_or_id(ModelSpec(task, "embedded")),
                  "BERT-base stand-in": str(base_size_standin(work / f"base-{task}", task))}
        for name, folder in models.items():
            results: dict[str, float] = {}
            for dtype in ("float32", "bfloat16"):
                kind = "text-classification" if task == "sentiment" else "token-classification"
                extra = {"truncation": True} if task == "sentiment" else {}
                pipe = pipeline(kind, model=folder, device=0, dtype=getattr(torch, dtype),
                                **({} if task == "sentiment" else {"aggregation_strategy": "simple"}))
                pipe(texts[:256], batch_size=32, **extra)  # warm-up
                walls = []
                for _ in range(args.repeats):
                    torch.cuda.synchronize()
                    started = time.perf_counter()
                    pipe(texts, batch_size=32, **extra)
                    torch.cuda.synchronize()
                    walls.append(time.perf_counter() - started)
                results[f"naive {dtype}"] = args.n / statistics.median(walls)
                del pipe
                predictor = Predictor(AnalysisSettings([task], {task: ModelSpec(task, folder)}, device="cuda",
                                                       batch_tokens=65_536))
                if dtype == "float32":
                    predictor.tasks[task].model.float()
                batch = {"text_hash": [str(i) for i in range(len(texts))], "text": texts,
                         "lang": ["en"] * len(texts)}
                predictor({**{k: v[:256] for k, v in batch.items()}})  # warm-up
                walls = []
                for _ in range(args.repeats):
                    torch.cuda.synchronize()
                    started = time.perf_counter()
                    predictor(batch)
                    torch.cuda.synchronize()
                    walls.append(time.perf_counter() - started)
                results[f"opinions {dtype}"] = args.n / statistics.median(walls)
                del predictor
                torch.cuda.empty_cache()
            line = ", ".join(f"{k} {v:,.0f}/s" for k, v in results.items())
            print(f"{task:9s} {name:20s} {line}; best ratio {results['opinions bfloat16'] / results['naive float32']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
