"""Sources: turn paths, folders, globs and stdin into batches of JSON records.

Every format ends up as the same thing: a `RecordBatch` of (line number, one JSON
object as text). JSONL lines pass through untouched; CSV rows, Parquet rows and the
elements of JSON arrays (Twitter archives, API v2 pages) are turned into JSON objects.
Lines that cannot even be decoded (invalid UTF-8, a ragged CSV row) become rejects here;
everything else is judged by the preset mapping.

Compression is detected by magic bytes, so `.gz`/`.zst` names are not required and
stdin can be compressed too. Pushshift `.zst` files need a 2 GiB window.
Memory stays flat: JSONL, CSV and Parquet are read in blocks; JSON arrays are streamed
element by element with ijson.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# rows per chunk: each chunk is one mapping query and one write transaction, and every write
# reopens and checkpoints the database (so readers get in between), a cost that grows with the
# table. Measured (--tasks none, peak RSS on 200k / 2M rows, 2M wall): 50k-row chunks 388 / 512
# MiB, 49.7 s; 100k 541 / 600 MiB, 36.0 s; 200k 778 / 1,002 MiB, 30.0 s. 100k keeps memory flat.
# With the next chunk mapped while one is written (ingest._mapped_batches): 100k 620 / 751 MiB,
# 19.4 s; 150k 721 / 1,118 MiB, 18.9 s; 250k 802 / 1,564 MiB, 16.5 s.
BATCH_ROWS = 100_000
BLOCK_BYTES = 8 << 20
READ_BYTES = 1 << 20  # small reads: a damaged stream loses at most this much before the damage
RAW_KEEP_CHARS = 65_536  # how much of a rejected record we keep in `rejects.raw`
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PARQUET_MAGIC = b"PAR1"
TWEETS_JS_PREFIX = b"window.YTD."
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json", ".js", ".csv", ".tsv", ".parquet"}
COMPRESSED_SUFFIXES = {".gz", ".gzip", ".zst", ".zstd"}


class SourceError(Exception):
    """A source that cannot be read at all (missing, unreadable, not a dump)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass
class Source:
    name: str  # what we record in comments.source and rejects.source
    path: Path | None  # None for stdin

    @property
    def stem(self) -> str:
        if self.path is None:
            return "stdin"
        name = self.path.name
        for suffix in list(COMPRESSED_SUFFIXES) + list(JSON_SUFFIXES):
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
        return name


@dataclass
class RecordBatch:
    source: Source
    line_no: list[int] = field(default_factory=list)
    record: list[str] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line_no, reason, raw)

    @property
    def rows_read(self) -> int:
        return len(self.record) + len(self.rejects)


def expand_inputs(paths: list[str]) -> tuple[list[Source], list[SourceError]]:
    """Files, folders (recursive, dump files only), globs and `-`, in a stable order."""
    sources: list[Source] = []
    errors: list[SourceError] = []
    for raw in paths:
        if raw == "-":
            sources.append(Source("-", None))
            continue
        path = Path(raw)
        if path.is_dir():
            found = []
            for entry in sorted(path.rglob("*")):
                if not _looks_like_dump(entry) or entry.is_dir():
                    continue
                if entry.is_symlink() and not entry.exists():
                    errors.append(SourceError(str(entry), "broken symbolic link"))
                elif not entry.is_file():
                    errors.append(SourceError(str(entry), "not a regular file"))
                elif not os.access(entry, os.R_OK):
                    errors.append(SourceError(str(entry), "permission denied"))
                else:
                    found.append(entry)
            if not found:
                errors.append(SourceError(raw, "folder holds no readable dump files"))
            sources.extend(Source(str(p), p) for p in found)
        elif path.exists():
            sources.append(Source(str(path), path))
        elif any(ch in raw for ch in "*?["):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                errors.append(SourceError(raw, "glob matched no files"))
            sources.extend(Source(m, Path(m)) for m in matches if Path(m).is_file())
        else:
            errors.append(SourceError(raw, "no such file or folder"))
    return sources, errors


def _looks_like_dump(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    return any(s in JSON_SUFFIXES for s in suffixes)


def _format_from_name(name: str) -> str | None:
    lower = name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith(".js"):
        return "json"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith(".tsv"):
        return "tsv"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".parquet"):
        return "parquet"
    return None


def _open_raw(source: Source) -> IO[bytes]:
    if source.path is None:
        return sys.stdin.buffer
    try:
        return source.path.open("rb")
    except PermissionError as exc:
        raise SourceError(source.name, "permission denied") from exc
    except OSError as exc:
        raise SourceError(source.name, exc.strerror or str(exc)) from exc


def _decompressed(stream: IO[bytes]) -> IO[bytes]:
    """Wrap `stream` in the decompressor its magic bytes name."""
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[arg-type]
    head = buffered.peek(4)[:4]
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=buffered)  # type: ignore[return-value]
    if head.startswith(ZSTD_MAGIC):
        import zstandard

        return io.BufferedReader(_ZstdFrames(buffered, zstandard), buffer_size=1 << 20)
    return buffered


class _ZstdFrames(io.RawIOBase):
    """Decompress concatenated zstd frames; a stream that ends inside a frame raises EOFError.

    (zstandard's own stream_reader ends quietly on a truncated frame, which would hide
    a damaged dump.) Pushshift dumps need the 2 GiB window.
    """

    def __init__(self, raw: IO[bytes], zstandard: object) -> None:
        self._raw = raw
        self._module = zstandard
        self._decompressor = zstandard.ZstdDecompressor(max_window_size=2**31).decompressobj()  # type: ignore[attr-defined]
        self._pending = b""
        self._in_frame = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                if self._in_frame:
                    raise EOFError("zstd stream ended inside a frame (truncated file)")
                return 0
            while chunk:
                self._in_frame = True
                self._pending += self._decompressor.decompress(chunk)
                if self._decompressor.eof:
                    chunk = self._decompressor.unused_data
                    self._decompressor = self._module.ZstdDecompressor(  # type: ignore[attr-defined]
                        max_window_size=2**31).decompressobj()
                    self._in_frame = False
                else:
                    chunk = b""
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def read_batches(source: Source, batch_rows: int = BATCH_ROWS) -> Iterator[RecordBatch]:
    """Yield record batches from one source; raises SourceError if it cannot be read at all."""
    raw = _open_raw(source)
    try:
        stream = _decompressed(raw)
        head = _peek(stream, 64)
        fmt = _format_from_name(source.name) if source.path is not None else None
        if head.startswith(PARQUET_MAGIC):
            fmt = "parquet"
        elif head.lstrip().startswith(TWEETS_JS_PREFIX):
            fmt = "json"
        elif fmt is None:
            first = head.lstrip()[:1]
            fmt = "json" if first == b"[" else "jsonl" if first in (b"{", b"") else None
        if fmt is None:
            if b"\x00" in head or not _is_text(head):
                raise SourceError(source.name, "not a text dump (binary content)")
            fmt = "csv"
        if fmt == "jsonl":
            yield from _jsonl_batches(source, stream, batch_rows)
        elif fmt == "json":
            yield from _json_document_batches(source, stream, batch_rows)
        elif fmt in {"csv", "tsv"}:
            yield from _csv_batches(source, stream, batch_rows, delimiter="\t" if fmt == "tsv" else ",")
        else:
            yield from _parquet_batches(source, stream, batch_rows)
    except (EOFError, OSError) as exc:
        # truncated gzip/zstd streams surface here, after what could be read was yielded
        raise SourceError(source.name, f"stream ended early or is corrupt ({exc})") from exc
    except Exception as exc:
        if type(exc).__module__.startswith("zstd") or "zstd" in type(exc).__name__.lower():
            raise SourceError(source.name, f"corrupt zstd stream ({exc})") from exc
        raise
    finally:
        if source.path is not None:
            raw.close()


def _peek(stream: IO[bytes], n: int) -> bytes:
    if hasattr(stream, "peek"):
        return stream.peek(n)[:n]  # type: ignore[attr-defined]
    raise TypeError("stream must support peek")


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start > len(data) - 4  # a multi-byte char cut at the edge


def _peekable(stream: IO[bytes]) -> IO[bytes]:
    return stream if hasattr(stream, "peek") else io.BufferedReader(stream)  # type: ignore[arg-type]


def _split_lines(block: bytes, first_line_no: int) -> tuple[list[int], list[str], list[tuple[int, str, str]]]:
    """Decode a block of whole lines. Fast path: the whole block at once."""
    parts = block.split(b"\n")
    numbers, records, rejects = [], [], []
    try:
        lines = block.decode("utf-8").split("\n")
        for offset, line in enumerate(lines):
            if line.strip():
                numbers.append(first_line_no + offset)
                records.append(line)
        return numbers, records, rejects
    except UnicodeDecodeError:
        pass
    for offset, part in enumerate(parts):
        if not part.strip():
            continue
        try:
            records.append(part.decode("utf-8"))
            numbers.append(first_line_no + offset)
        except UnicodeDecodeError as exc:
            rejects.append((first_line_no + offset, f"invalid UTF-8 at byte {exc.start}",
                            part[:RAW_KEEP_CHARS].decode("utf-8", errors="replace")))
    return numbers, records, rejects


def _jsonl_batches(source: Source, stream: IO[bytes], batch_rows: int) -> Iterator[RecordBatch]:
    batch = RecordBatch(source)
    pending = b""
    next_line = 1
    while True:
        try:
            block = stream.read(READ_BYTES)
        except Exception as exc:  # a truncated or corrupt gzip/zstd stream
            if batch.rows_read:
                yield batch  # keep every whole line read before the damage
            raise SourceError(source.name, f"stream ended early or is corrupt after line {next_line - 1} "
                                           f"({exc})") from exc
        if not block:
            break
        block = pending + block
        cut = block.rfind(b"\n")
        if cut < 0:
            pending = block
            continue
        pending = block[cut + 1 :]
        whole = block[:cut]
        numbers, records, rejects = _split_lines(whole, next_line)
        next_line += whole.count(b"\n") + 1
        batch.line_no.extend(numbers)
        batch.record.extend(records)
        batch.rejects.extend(rejects)
        if len(batch.record) >= batch_rows:
            yield batch
            batch = RecordBatch(source)
    if pending.strip():
        numbers, records, rejects = _split_lines(pending, next_line)
        batch.line_no.extend(numbers)
        batch.record.extend(records)
        batch.rejects.extend(rejects)
    if batch.rows_read:
        yield batch


class _SkipPrefix(io.RawIOBase):
    """A stream that starts after `window.YTD.tweets.part0 = `."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        head = b""
        while b"=" not in head:
            chunk = stream.read(1)
            if not chunk:
                break
            head += chunk

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _json_document_batches(source: Source, stream: IO[bytes], batch_rows: int) -> Iterator[RecordBatch]:
    """A JSON array of records, a Twitter archive (`tweets.js`), or an API v2 page."""
    import ijson

    stream = _peekable(stream)
    head = _peek(stream, 64).lstrip()
    if head.startswith(TWEETS_JS_PREFIX):
        stream = io.BufferedReader(_SkipPrefix(stream))
        head = _peek(stream, 64).lstrip()
    # a Twitter API v2 response page is {"data": [...], "includes": ...}; anything else an array
    prefix = "data.item" if head.startswith(b"{") else "item"
    batch = RecordBatch(source)
    index = 0
    try:
        for index, item in enumerate(ijson.items(stream, prefix, use_float=True), start=1):
            if isinstance(item, dict) and set(item) == {"tweet"} and isinstance(item["tweet"], dict):
                item = item["tweet"]  # archive wrapper
            batch.line_no.append(index)
            batch.record.append(json.dumps(item, ensure_ascii=False))
            if len(batch.record) >= batch_rows:
                yield batch
                batch = RecordBatch(source)
    except ijson.common.IncompleteJSONError as exc:
        batch.rejects.append((index + 1, f"malformed JSON document after element {index} ({exc})", ""))
    except UnicodeDecodeError as exc:
        batch.rejects.append((index + 1, f"invalid UTF-8 in JSON document after element {index}", str(exc)))
    if batch.rows_read:
        yield batch
    elif index == 0:
        raise SourceError(source.name, "JSON document holds no records")


def _csv_batches(source: Source, stream: IO[bytes], batch_rows: int, delimiter: str) -> Iterator[RecordBatch]:
    """CSV through the stdlib reader: exact line numbers and ragged-row detection."""
    text = io.TextIOWrapper(_peekable(stream), encoding="utf-8", errors="strict", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except UnicodeDecodeError as exc:
        raise SourceError(source.name, f"CSV header is not valid UTF-8 ({exc.reason})") from exc
    header = [h.strip() for h in header]
    batch = RecordBatch(source)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except UnicodeDecodeError as exc:
            batch.rejects.append((reader.line_num + 1, "invalid UTF-8; the rest of the file was not read", str(exc)))
            break
        except csv.Error as exc:
            batch.rejects.append((reader.line_num, f"malformed CSV row ({exc})", ""))
            continue
        if not row:
            continue
        if len(row) != len(header):
            batch.rejects.append((reader.line_num, f"CSV row has {len(row)} fields, header has {len(header)}",
                                  delimiter.join(row)[:RAW_KEEP_CHARS]))
            continue
        batch.line_no.append(reader.line_num)
        batch.record.append(json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False))
        if len(batch.record) >= batch_rows:
            yield batch
            batch = RecordBatch(source)
    if batch.rows_read:
        yield batch


def _parquet_batches(source: Source, stream: IO[bytes], batch_rows: int) -> Iterator[RecordBatch]:
    import polars as pl
    import pyarrow.parquet as pq

    spooled = None
    if source.path is not None and not isinstance(stream, (gzip.GzipFile,)) and _format_from_name(source.name) == "parquet":
        target: str | IO[bytes] = str(source.path)
    else:
        spooled = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the batches are read
        while chunk := stream.read(BLOCK_BYTES):
            spooled.write(chunk)
        spooled.seek(0)
        target = spooled
    try:
        parquet = pq.ParquetFile(target)
    except Exception as exc:
        raise SourceError(source.name, f"not a readable Parquet file ({exc})") from exc
    line = 1
    for arrow_batch in parquet.iter_batches(batch_size=batch_rows):
        frame = pl.from_arrow(arrow_batch)
        lines = frame.write_ndjson().splitlines() if frame.height else []
        yield RecordBatch(source, list(range(line, line + len(lines))), lines)
        line += len(lines)
    if spooled is not None:
        spooled.close()
