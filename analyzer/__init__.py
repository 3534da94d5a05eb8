"""opinions: batch analysis of social-media opinion.

Modules in the order data flows: sources → presets → store → textnorm/langid →
batching → tasks → analysis → reports. Only `tasks`, `batching`, `modelpack` loading
and `finetune` import torch/transformers, and they do it lazily.
"""

__version__ = "0.1.0"
