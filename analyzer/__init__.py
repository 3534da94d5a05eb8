"""opinions: batch analysis of social-media opinion.

Folders in the order data flows:

    sources/   paths, archives and formats → records; presets and columns say where each field lives
    ingest/    one run: records → canonical rows → the store, chunk by chunk (local or Ray engine)
    store/     the DuckDB database: schema, writes, the ingest lock, exports
    text/      text as models read it (normalisation, case, language) and as people are shown it
    models/    which model runs a task, the embedded pack, runtime, batching, speed paths
    tasks/     the analysis tasks (one folder each) and the stage that runs them over new texts
    topics/    keyword and discovered topics, their summaries
    labels/    labelled data: reading it, scoring against it, correcting class shares with it
    finetune/  the one training loop, `opinions train` and `opinions evaluate`

plus `reports` (installed from `reports/`), `queries` (from `queries/`), and the shell: `settings`
and `config` (what a user can set), `errors`, `commands` (each command as a function) and `cli`.
Only `tasks`, `models` loading and `finetune` import torch/transformers, and they do it lazily.
"""

__version__ = "0.1.0"
