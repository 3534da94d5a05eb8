"""Where and how models run: device choice, dtype, threads, safe loading."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


class DeviceError(ValueError):
    """A device that was asked for but is not available."""


@dataclass(frozen=True)
class Runtime:
    device: str  # cpu | cuda:N | mps
    dtype: str  # float32 | bfloat16 | float16

    def describe(self) -> str:
        return f"{self.device} ({self.dtype})"


def choose_runtime(requested: str = "auto") -> Runtime:
    """`auto` picks CUDA, then MPS, then CPU; half precision on GPUs that support it."""
    import torch

    requested = (requested or "auto").lower()
    if requested == "auto":
        if torch.cuda.is_available():
            requested = "cuda"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            requested = "mps"
        else:
            requested = "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {requested!r} requested but CUDA is not available")
        index = int(requested.split(":", 1)[1]) if ":" in requested else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(f"device {requested!r} requested but only {torch.cuda.device_count()} GPU(s) exist")
        dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        return Runtime(f"cuda:{index}", dtype)
    if requested == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise DeviceError("device 'mps' requested but MPS is not available")
        return Runtime("mps", "float16")
    if requested != "cpu":
        raise DeviceError(f"unknown device {requested!r}: use auto, cpu, cuda, cuda:N or mps")
    threads = int(os.environ.get("OPINIONS_THREADS", "0")) or (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    return Runtime("cpu", "float32")


def torch_dtype(runtime: Runtime) -> Any:
    import torch

    return getattr(torch, runtime.dtype)


def quiet_transformers() -> None:
    """No weight-loading progress bars or advisory warnings on our stderr."""
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def load_model(kind: str, name_or_path: str, runtime: Runtime, allow_pickle: bool = False) -> Any:
    """Load a model class for `kind` (sequence | token | seq2seq) safely.

    Never sets trust_remote_code. Requires safetensors unless `allow_pickle` is given.
    """
    import transformers

    quiet_transformers()

    classes = {
        "sequence": transformers.AutoModelForSequenceClassification,
        "token": transformers.AutoModelForTokenClassification,
        "seq2seq": transformers.AutoModelForSeq2SeqLM,
    }
    kwargs: dict[str, Any] = {"trust_remote_code": False, "dtype": torch_dtype(runtime)}
    if not allow_pickle:
        kwargs["use_safetensors"] = True
    try:
        model = classes[kind].from_pretrained(name_or_path, attn_implementation="sdpa", **kwargs)
    except (ValueError, TypeError) as exc:
        if "sdpa" in str(exc).lower():
            model = classes[kind].from_pretrained(name_or_path, **kwargs)
        else:
            raise
    except OSError as exc:
        if not allow_pickle and "safetensors" in str(exc).lower():
            raise OSError(f"{name_or_path} has no safetensors weights; pass --allow-pickle to load a pickle checkpoint") from exc
        raise
    model.to(runtime.device)
    model.eval()
    return model


def load_tokenizer(name_or_path: str) -> Any:
    import transformers

    return transformers.AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=False)


QUANTIZE_MODES = ("auto", "none", "int8")


def quantize(model: Any, mode: str, runtime: Runtime) -> Any:
    """int8 dynamic quantization for CPU inference (`mode` already resolved: none | int8).

    Every Linear layer except the classification head, with one weight scale per output
    channel: on the sentiment pack that costs 0.2 points of macro recall where a single
    scale per tensor (torch's default) costs 2.6. A no-op on GPUs, which use half precision.
    """
    if mode not in QUANTIZE_MODES:
        raise DeviceError(f"unknown --quantize {mode!r}: choose one of {', '.join(QUANTIZE_MODES)}")
    if mode != "int8" or runtime.device != "cpu":
        return model
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch points at torchao; the eager API still works and is what we measure
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        spec = {name: per_channel_dynamic_qconfig for name, module in model.named_modules()
                if isinstance(module, torch.nn.Linear) and not name.startswith("classifier")}
        return quantize_dynamic(model, spec, dtype=torch.qint8)
