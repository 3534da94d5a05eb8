"""Could one encoder pass serve sentiment, NER and embeddings? `python -m training.shared_trunk`.

A full multi-task retrain costs CPU-hours, so this measures the question cheaply and
honestly with frozen trunks. Each trunk (the encoder of a pack entry, or the base) is run
once over a task's train and dev texts and its last hidden states are cached; a new head
is then trained on the cached states alone:

- NER on the *sentiment* trunk: the first subword of each word (the one the pack reads a
  word's tag from), a linear head like `BertForTokenClassification`'s, trained with the NER
  recipe's data choices (BTC's O as partial "O or PRODUCT/WORK", WNUT sentences with a
  product or work ×4) and decoded exactly as the pack decodes (constrained BIO plus the
  NER entry's learned tag transitions). Strict entity F1 on wnut17 and btc dev.
- Sentiment on the *NER* trunk: the [CLS] state through a pooler (dense + tanh, started
  from that trunk's pooler, or the base's for the NER trunk, which has none) and a linear layer, the `BertForSequenceClassification` head
  the sentiment pack uses, on text normalised as the pack normalises it. TweetEval val
  macro recall and GoEmotions dev macro F1.
- Controls that split the gap into "frozen head" and "other trunk": the same head recipe
  on each task's own trunk, and the pack's own head read from the cached states (which
  must reproduce the pack's scores: a check of the caching).
- Topic embeddings (mean-pooled, L2-normalised) from each trunk: FewSum NMI with
  `training.eval_topics`' method.

Neither pack uses case token types (both configs have `type_vocab_size` 2), so every trunk
sees token type 0, as at inference. Sentiment training uses `--sentiment-train` SemEval
tweets (the same ones for every trunk; a head on frozen 384-d states saturates long before
the 48.5k). States are cached under `--cache` (default: the user cache) so a rerun only
trains heads. Prints a table of separate vs shared numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from training.datasets import SENTIMENT_LABELS, DatasetsMissing, goemotions, ner_split, semeval_train, tweeteval_val
from training.train_ner import TAGS, UNANNOTATED_IN_BTC

TRUNKS = ("sentiment", "ner", "base")


# ---------------------------------------------------------------- pieces (tested on a tiny model)

def first_subword_states(encoder: Any, tokenizer: Any, sentences: Sequence[list[str]], max_length: int,
                         batch_size: int = 64) -> list[Any]:
    """Per sentence: the encoder's last hidden state at each word's first subword, [kept words × hidden]
    (words cut off by truncation are absent; they decode as O), in fp16."""
    import torch

    from analyzer.finetune.loop import encode_tagged, pad_batch

    features, word_ids_all = encode_tagged(tokenizer, sentences, max_length)
    out: list[Any] = [None] * len(features)
    order = sorted(range(len(features)), key=lambda i: len(features[i]["input_ids"]))
    encoder.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            ids = order[start:start + batch_size]
            hidden = encoder(**pad_batch([features[i] for i in ids], tokenizer.pad_token_id)).last_hidden_state
            for row, i in enumerate(ids):
                first: dict[int, int] = {}
                for position, wid in enumerate(word_ids_all[i]):
                    if wid is not None and wid not in first:
                        first[wid] = position
                out[i] = hidden[row, [first[w] for w in sorted(first)]].half()
    return out


def sentence_states(encoder: Any, tokenizer: Any, texts: Sequence[str], max_length: int,
                    pool: str = "cls", batch_size: int = 64) -> Any:
    """[texts × hidden]: the last hidden state at [CLS] (`pool="cls"`, what a sequence classifier
    reads) or the L2-normalised mean over tokens (`pool="mean"`, the sentence embedding)."""
    import torch

    from analyzer.finetune.loop import encode_texts, pad_batch

    features = encode_texts(tokenizer, texts, max_length)
    out = torch.zeros(len(features), encoder.config.hidden_size)
    order = sorted(range(len(features)), key=lambda i: len(features[i]["input_ids"]))
    encoder.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            ids = order[start:start + batch_size]
            batch = pad_batch([features[i] for i in ids], tokenizer.pad_token_id)
            hidden = encoder(**batch).last_hidden_state
            if pool == "cls":
                pooled = hidden[:, 0]
            else:
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=1)
            out[ids] = pooled.float()
    return out


def token_head(hidden: int, labels: int) -> Any:
    """What `BertForTokenClassification` puts on the encoder: dropout + linear."""
    from torch import nn

    return nn.Sequential(nn.Dropout(0.1), nn.Linear(hidden, labels))


def sentence_head(pooler: Any, labels: int) -> Any:
    """What `BertForSequenceClassification` puts on [CLS]: the pooler (dense + tanh, a copy of
    `pooler`'s weights) then dropout + linear."""
    import copy

    from torch import nn

    dense = copy.deepcopy(pooler.dense)
    return nn.Sequential(dense, nn.Tanh(), nn.Dropout(0.1), nn.Linear(dense.out_features, labels))


def train_head(head: Any, states: Any, labels: Any, epochs: int = 8, lr: float = 1e-3, batch_size: int = 256,
               label_groups: list[list[int]] | None = None, label_smoothing: float = 0.0, seed: int = 13) -> Any:
    """Fit `head` on cached `states` [rows × hidden] and `labels` [rows] (AdamW, linear decay;
    a label num_labels + k means "any of label_groups[k]", as in `analyzer.finetune.loop`)."""
    import torch
    from torch import nn

    from analyzer.finetune.loop import PartialLabelLoss

    torch.manual_seed(seed)
    num_labels = head[-1].out_features
    loss_fn = (PartialLabelLoss(label_groups, num_labels, label_smoothing) if label_groups
               else nn.CrossEntropyLoss(label_smoothing=label_smoothing))
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * -(-len(labels) // batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / steps))
    generator = torch.Generator().manual_seed(seed)
    head.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(labels), generator=generator).split(batch_size):
            loss = loss_fn(head(states[batch].float()), labels[batch])
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
    return head.eval()


def decode_sentences(head: Any, states: Sequence[Any], lengths: Sequence[int], learned: Any) -> list[list[str]]:
    """Word tags per sentence from cached first-subword states, decoded as the NER pack decodes."""
    import torch

    from analyzer.finetune.loop import word_tags

    with torch.inference_mode():
        return [word_tags(head(s.float()), list(range(len(s))), n, TAGS, learned) for s, n in zip(states, lengths, strict=True)]


def ner_training_rows(states: Sequence[Any], tags: Sequence[list[str]], btc_count: int, rare_repeat: int = 4) -> tuple[Any, Any]:
    """(states, labels) rows for the token head: BTC's O as the partial label "O or PRODUCT/WORK"
    (id len(TAGS)), WNUT sentences with a PRODUCT or WORK entity `rare_repeat` times (the NER recipe)."""
    import torch

    tag2id = {t: i for i, t in enumerate(TAGS)}
    rows, labels = [], []
    for i, (sentence_states_, sentence_tags) in enumerate(zip(states, tags, strict=True)):
        ids = [tag2id[t] for t in sentence_tags[: len(sentence_states_)]]
        if i < btc_count:
            ids = [len(TAGS) if t == tag2id["O"] else t for t in ids]
        repeat = rare_repeat if i >= btc_count and any(t[2:] in UNANNOTATED_IN_BTC for t in sentence_tags) else 1
        for _ in range(repeat):
            rows.append(sentence_states_)
            labels.extend(ids)
    return torch.cat(rows), torch.tensor(labels)


OTHER_TYPES = [[TAGS.index(t) for t in TAGS if t == "O" or t[2:] in UNANNOTATED_IN_BTC]]


# ---------------------------------------------------------------- the measurement

def load_trunk(name: str) -> tuple[Any, Any, Any]:
    """(encoder, tokenizer, whole task model or None) for a pack entry's trunk or the base."""
    import transformers

    from analyzer.models import pack as modelpack
    from analyzer.models.runtime import quiet_transformers
    from training import pack_check

    quiet_transformers()
    if name == "base":
        folder = modelpack.base_dir()
        return (transformers.AutoModel.from_pretrained(str(folder)).eval(),
                transformers.AutoTokenizer.from_pretrained(str(folder)), None)
    model, tokenizer, _ = pack_check.load_stored(name, modelpack.PACK_DIR / name)
    return model.base_model, tokenizer, model


def cached(cache: Path, key: str, compute: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """compute(*args, **kwargs), stored in `cache` under `key` the first time."""
    import torch

    path = cache / f"{key}.pt"
    if path.exists():
        return torch.load(path)
    started = time.perf_counter()
    value = compute(*args, **kwargs)
    print(f"  {key}: {time.perf_counter() - started:.0f} s", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(value, path)
    return value


def measure_ner(trunks: dict, cache: Path, args: argparse.Namespace) -> dict[str, dict]:
    """Entity F1 on wnut17/btc dev for a new token head on each trunk, and for the pack's own head."""
    import torch

    from analyzer.labels.metrics import entity_scores
    from analyzer.tasks.ner import bio

    btc_tokens, btc_tags = ner_split("btc", "train")
    wnut_tokens, wnut_tags = ner_split("wnut17", "train")
    dev = {name: ner_split(name, "dev") for name in ("wnut17", "btc")}
    learned = bio.transition_scores(trunks["ner"][2].config, TAGS)
    results: dict[str, dict] = {}

    def scores(head: Any, states: dict[str, list]) -> dict[str, float]:
        return {f"{name}_dev_f1": entity_scores(tags, decode_sentences(head, states[name], [len(s) for s in tokens],
                                                                            learned))["f1"]
                for name, (tokens, tags) in dev.items()}

    for trunk in args.ner_trunks:
        encoder, tokenizer, _ = trunks[trunk]
        train = cached(cache, f"ner-train-{trunk}", first_subword_states, encoder, tokenizer,
                       btc_tokens + wnut_tokens, 128)
        states = {name: cached(cache, f"ner-{name}-dev-{trunk}", first_subword_states, encoder, tokenizer, toks, 128)
                  for name, (toks, _) in dev.items()}
        rows, labels = ner_training_rows(train, btc_tags + wnut_tags, len(btc_tokens))
        head = train_head(token_head(encoder.config.hidden_size, len(TAGS)), rows, labels, epochs=args.head_epochs,
                          label_groups=OTHER_TYPES)
        results[f"new linear head on the {trunk} trunk"] = scores(head, states)
        print(f"NER, {trunk} trunk, new head: {results[f'new linear head on the {trunk} trunk']}", flush=True)
        if trunk == "ner":
            pack_head = trunks["ner"][2].classifier.eval()
            results["the pack's own head on cached states"] = scores(
                torch.nn.Sequential(torch.nn.Identity(), pack_head), states)
    return results


def measure_sentiment(trunks: dict, cache: Path, args: argparse.Namespace) -> dict[str, dict]:
    """TweetEval val macro recall and GoEmotions dev macro F1 for a new sentence head on each trunk."""
    import torch

    from analyzer.labels.metrics import classification_scores
    from analyzer.text.normalise import model_normalisation, normaliser

    val_texts, val_labels = tweeteval_val()
    ge_texts, ge_labels = goemotions("dev")
    texts, labels = semeval_train({t.strip().lower() for t in val_texts})
    pick = random.Random(args.seed).sample(range(len(texts)), min(args.sentiment_train, len(texts)))
    texts, labels = [texts[i] for i in pick], [labels[i] for i in pick]
    normalise = normaliser(model_normalisation(trunks["sentiment"][2].config))  # the pack's input
    prepared = {"train": [normalise(t) for t in texts], "val": [normalise(t) for t in val_texts],
                "ge": [normalise(t) for t in ge_texts]}
    rows = min(args.head_rows or len(texts), len(texts))  # the head trains on the first `rows` of them
    y = torch.tensor([SENTIMENT_LABELS.index(label) for label in labels[:rows]])
    results: dict[str, dict] = {}

    def scores(head: Any, states: dict[str, Any]) -> dict[str, float]:
        with torch.inference_mode():
            predicted = {k: [SENTIMENT_LABELS[int(i)] for i in head(states[k]).argmax(-1)] for k in ("val", "ge")}
        return {"tweeteval_val_macro_recall": classification_scores(val_labels, predicted["val"], SENTIMENT_LABELS)["macro_recall"],
                "goemotions_dev_macro_f1": classification_scores(ge_labels, predicted["ge"], SENTIMENT_LABELS)["macro_f1"]}

    for trunk in args.sentiment_trunks:
        encoder, tokenizer, model = trunks[trunk]
        states = {k: cached(cache, f"sentiment-{k}-{len(v)}-{trunk}", sentence_states, encoder, tokenizer, v, 96)
                  for k, v in prepared.items() if k != "train"}
        full = cache / f"sentiment-train-{len(texts)}-{trunk}.pt"  # the first rows of a bigger cache are these rows
        states["train"] = (torch.load(full)[:rows] if full.exists() else
                           cached(cache, f"sentiment-train-{rows}-{trunk}", sentence_states, encoder, tokenizer,
                                  prepared["train"][:rows], 96))
        pooler = encoder.pooler or load_trunk("base")[0].pooler  # a token classifier has none: the base's
        head = train_head(sentence_head(pooler, len(SENTIMENT_LABELS)), states["train"], y,
                          epochs=args.head_epochs, lr=1e-3, batch_size=64, label_smoothing=0.1)
        results[f"new pooler + linear head on the {trunk} trunk"] = scores(head, states)
        print(f"sentiment, {trunk} trunk, new head: {results[f'new pooler + linear head on the {trunk} trunk']}", flush=True)
        if trunk == "sentiment":
            pooler = model.bert.pooler
            results["the pack's own head on cached states"] = scores(
                torch.nn.Sequential(pooler.dense, torch.nn.Tanh(), model.classifier), states)
    return results


def measure_topics(trunks: dict, cache: Path, args: argparse.Namespace) -> dict[str, dict]:
    """FewSum NMI of clusters of each trunk's mean-pooled embeddings (`training.eval_topics`' method)."""
    from analyzer.models.embeddings import MAX_TOKENS
    from analyzer.topics.discovery import cluster_embeddings
    from training.eval_topics import load_reviews, nmi_scores

    texts, items, categories = load_reviews()
    results = {}
    for trunk in args.topic_trunks:
        encoder, tokenizer, _ = trunks[trunk]
        embeddings = cached(cache, f"topics-{trunk}", sentence_states, encoder, tokenizer, texts, MAX_TOKENS, pool="mean")
        labels = cluster_embeddings(embeddings.numpy(), args.min_cluster_size)
        results[f"{trunk} trunk"] = nmi_scores(labels, items, categories)
        print(f"topics, {trunk} trunk: {results[f'{trunk} trunk']}", flush=True)
    return results


def print_table(title: str, results: dict[str, dict]) -> None:
    if not results:
        return
    columns = list(next(iter(results.values())))
    print(f"\n{title}\n| | {' | '.join(columns)} |\n|---|{'---|' * len(columns)}")
    for name, row in results.items():
        print(f"| {name} | {' | '.join(f'{row[c]:.2f}' if isinstance(row[c], float) else str(row[c]) for c in columns)} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="*", default=["ner", "sentiment", "topics"], choices=["ner", "sentiment", "topics"])
    parser.add_argument("--ner-trunks", nargs="*", default=["sentiment", "ner"], choices=TRUNKS)
    parser.add_argument("--sentiment-trunks", nargs="*", default=["ner", "sentiment"], choices=TRUNKS)
    parser.add_argument("--topic-trunks", nargs="*", default=["base", "sentiment", "ner"], choices=TRUNKS)
    parser.add_argument("--sentiment-train", type=int, default=12000, help="SemEval training tweets for the sentiment heads")
    parser.add_argument("--head-rows", type=int, default=0,
                        help="train the sentiment heads on the first N of the --sentiment-train tweets only (default all)")
    parser.add_argument("--head-epochs", type=int, default=8)
    parser.add_argument("--min-cluster-size", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=None, help="where hidden states are cached (default: the user cache)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    try:
        tweeteval_val()
        ner_split("wnut17", "dev")
    except DatasetsMissing as exc:
        print(exc, file=sys.stderr)
        return 0
    import torch

    from analyzer.models import pack as modelpack
    from analyzer.models.runtime import set_cpu_threads

    set_cpu_threads()
    torch.manual_seed(args.seed)
    digest = hashlib.sha256("".join(modelpack.pack_entry(t).manifest["sha256"] for t in ("sentiment", "ner")).encode())
    cache = args.cache or modelpack.cache_root() / "shared-trunk" / digest.hexdigest()[:12]
    needed = set(args.ner_trunks) | set(args.sentiment_trunks) | set(args.topic_trunks) | {"sentiment", "ner"}
    trunks = {name: load_trunk(name) for name in needed}
    parts = {"ner": ("NER (strict entity F1, dev; pack scores: manifest)", measure_ner),
             "sentiment": ("Sentiment (TweetEval val macro recall, GoEmotions dev macro F1)", measure_sentiment),
             "topics": ("Topics (FewSum NMI, mean-pooled embeddings)", measure_topics)}
    tables = {}
    for part in args.parts:
        title, measure = parts[part]
        tables[title] = measure(trunks, cache, args)
    for part in args.parts:
        title = parts[part][0]
        if part in ("ner", "sentiment"):
            shipped = modelpack.pack_entry(part).manifest["scores"]
            columns = next(iter(tables[title].values()))
            tables[title] = {"separate: the shipped pack (manifest)": {c: float(shipped[c]) for c in columns},
                             **tables[title]}
        print_table(title, tables[title])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
