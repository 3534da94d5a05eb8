"""Where and how models run: device choice, dtype, threads, safe loading."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer.errors import OpinionsError


class DeviceError(OpinionsError, ValueError):
    """A device that was asked for but is not available."""


@dataclass(frozen=True)
class Runtime:
    device: str  # cpu | cuda:N | mps
    dtype: str  # float32 | bfloat16 | float16

    def describe(self) -> str:
        return f"{self.device} ({self.dtype})"


def no_gpu_possible() -> bool:
    """True where no torch build could see a GPU: Linux without NVIDIA (/dev/nvidia0...), AMD ROCm (/dev/kfd) or WSL
    (/dev/dxg) device nodes. There `auto` is the CPU, decided without importing torch (~1.5 s), so a cron run
    with nothing to analyse never pays for torch."""
    import glob
    import sys

    return sys.platform.startswith("linux") and not (glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/dev/kfd")
                                                    or os.path.exists("/dev/dxg"))


def choose_runtime(requested: str = "auto") -> Runtime:
    """`auto` picks CUDA, then MPS, then CPU; half precision on GPUs that support it."""
    requested = (requested or "auto").lower()
    if requested == "cpu" or (requested == "auto" and no_gpu_possible()):
        return Runtime("cpu", "float32")  # threads are set when a model loads (`load_model`)
    import torch

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
    return Runtime("cpu", "float32")


def set_cpu_threads() -> None:
    """torch's intra-op threads: the `threads` setting (OPINIONS_THREADS), else every core."""
    import torch

    from analyzer.settings import cpu_threads

    torch.set_num_threads(cpu_threads() or (os.cpu_count() or 1))


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


QUANTIZE_MODES = ("auto", "none", "int8", "bf16")


def check_quantize_mode(mode: str) -> None:
    if mode not in QUANTIZE_MODES:
        raise DeviceError(f"unknown --quantize {mode!r}: choose one of {', '.join(QUANTIZE_MODES)}")


@functools.cache  # asked once per task and per model id; the CPU does not change
def cpu_has_bf16_matrix_units(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (Intel AMX).

    There oneDNN runs a bf16 Linear ~13x faster than fp32 and ~2.6x faster than dynamic
    int8 (measured on the 2-core Sapphire Rapids workplace box); without AMX bf16 is no
    faster than fp32, so `--quantize auto` only picks it here. Read from /proc/cpuinfo so
    that deciding costs no torch import.
    """
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return "amx_bf16" in line.split()
    except OSError:
        return False
    return False


def quantize(model: Any, mode: str, runtime: Runtime) -> Any:
    """Reduced precision for CPU inference (`mode` already resolved: none | int8 | bf16).

    int8: dynamic quantization of every Linear layer except the classification head, with
    one weight scale per output channel: on the sentiment pack that costs 0.2 points of
    macro recall where a single scale per tensor (torch's default) costs 2.6.
    bf16: the whole model in bfloat16, as on GPUs; fast only with AMX (see above).
    A no-op on GPUs, which already run in half precision.
    """
    check_quantize_mode(mode)
    if mode not in {"int8", "bf16"} or runtime.device != "cpu":
        return model
    import warnings

    import torch

    if mode == "bf16":
        return model.to(torch.bfloat16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch points at torchao; the eager API still works and is what we measure
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        spec = {name: per_channel_dynamic_qconfig for name, module in model.named_modules()
                if isinstance(module, torch.nn.Linear) and not name.startswith("classifier")}
        return quantize_dynamic(model, spec, dtype=torch.qint8)
