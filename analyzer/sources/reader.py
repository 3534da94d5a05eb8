"""Sources: turn paths, folders, globs and stdin into batches of JSON records.

Every format ends up as the same thing: a `RecordBatch` of (line number, one JSON
object as text). JSONL lines pass through untouched; CSV rows, Parquet rows and the
elements of JSON arrays (Twitter archives, API v2 pages) are turned into JSON objects.
Lines that cannot even be decoded (invalid UTF-8, a ragged CSV row) become rejects here;
everything else is judged by the preset mapping.

Compression is detected by magic bytes (gzip, zstd, bzip2, xz), so `.gz`/`.zst` names are not required and
stdin can be compressed too. Pushshift `.zst` files need a 2 GiB window.
Memory is bounded in bytes (`ReadLimits`): every read, decompression step included, yields
at most `read_bytes`; a line longer than `line_bytes` becomes a reject without being held;
a chunk closes at `chunk_bytes` of records as well as at `batch_rows` rows. JSON arrays
are streamed element by element with ijson.

Pipes, FIFOs and stdin are read with poll(), so a signal stops the run even while the
writer is idle or absent (`should_stop`); regular files are read as they are.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import os
import re
import secrets
import select
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from analyzer.errors import OpinionsError
from analyzer.sources import containers

# rows per chunk: each chunk is one mapping query and one write transaction, and every write
# reopens and checkpoints the database (so readers get in between), a cost that grows with the
# table. Measured (--tasks none, peak RSS on 200k / 2M rows, 2M wall): 50k-row chunks 388 / 512
# MiB, 49.7 s; 100k 541 / 600 MiB, 36.0 s; 200k 778 / 1,002 MiB, 30.0 s. 100k keeps memory flat.
# With the next chunk mapped while one is written (ingest._mapped_batches): 100k 620 / 751 MiB,
# 19.4 s; 150k 721 / 1,118 MiB, 18.9 s; 250k 802 / 1,564 MiB, 16.5 s.
# DuckDB's row group (122,880 rows): a checkpoint rewrites the row group a chunk left part-filled.
# Landing 300k mapped rows (CPU s, wall s at load ~11): 50k-row chunks 1.90-1.95, 8.0-10.5;
# 61,440 2.02, 11.6; 100k 1.35, 7.1; 122,880 1.04-1.05, 4.0-5.1. The JSON lines reader cuts chunks
# at exactly this many records (`_cut`).
BATCH_ROWS = 122_880
BLOCK_BYTES = 8 << 20
READ_BYTES = 1 << 20  # small reads: a damaged stream loses at most this much before the damage
MAX_JSON_DEPTH = 200  # real records nest under 10 levels; deeper is a poison file (see _JsonGuard)
ZSTD_INPUT_BYTES = 64 << 10  # compressed bytes fed per step
ZSTD_OUTPUT_BYTES = 128 << 10  # output taken per step (one zstd block): damage loses at most this before it
POLL_SECONDS = 0.2  # how often a read from an idle pipe looks at `should_stop`
RAW_KEEP_CHARS = 65_536  # how much of a rejected record we keep in `rejects.raw`
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
XZ_MAGIC = b"\xfd7zXZ\x00"
# "BZh", the block size (1-9), then the magic of a first block (pi) or of an empty stream's end (sqrt(pi)):
# ten bytes, so a text file that happens to start "BZh9" is not taken for bzip2
BZIP2_MAGIC = b"BZh"
BZIP2_BLOCK_MAGICS = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")
PARQUET_MAGIC = b"PAR1"
TWEETS_JS_PREFIX = b"window.YTD."
UTF8_BOM = b"\xef\xbb\xbf"
HEAD_BYTES = 1 << 20  # what format detection looks at: enough for a JSON line or a page of a pretty-printed document
CSV_DELIMITERS = ",;\t|"
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json", ".js", ".csv", ".tsv", ".parquet"}
COMPRESSED_SUFFIXES = {".gz", ".gzip", ".zst", ".zstd", ".bz2", ".xz"}


@dataclass(frozen=True)
class ReadLimits:
    """How much one source can make a run hold, in bytes (the README's Guarantees list them).

    A Reddit comment is at most 40,000 characters and the text cap is 100,000, so a line of
    16 MiB is far past any real record (100,000 astral characters, JSON-escaped, are 1.2 MB)."""

    line_bytes: int = 16 << 20  # a longer JSONL/CSV line is a reject ("line longer than ...") and is never held
    # a chunk closes at this many bytes of records, or at batch_rows rows. Mapping and landing hold
    # many copies of a chunk (peak RSS over 250 MB of 20 kB comments: 1,957 MiB at 64 MiB chunks,
    # 1,133 MiB at 16 MiB; over 1 GB: 2,488 and 1,816). With the typed mapping (ingest/typed.py)
    # 1 GB of them peaks at 1,366 MiB at 16 MiB chunks and 1,383 MiB at 48 MiB; 48 MiB lets
    # 122,880 rows of a typical 340-byte comment make one chunk (BATCH_ROWS).
    chunk_bytes: int = 48 << 20
    read_bytes: int = READ_BYTES  # the most one read, or one decompression step, hands over


class ReadStopped(Exception):
    """Raised by a read from a pipe, FIFO or stdin once the run was asked to stop."""


def printable_path(path: str) -> str:
    """A path as text any UTF-8 sink takes: bytes that are not UTF-8 (which Python keeps as
    surrogate escapes) are written \\xNN, so `caf\\xe9.jsonl` is recorded, not refused."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


class SourceError(OpinionsError):
    """A source that cannot be read at all (missing, unreadable, not a dump)."""

    def __init__(self, source: str, reason: str) -> None:
        source = printable_path(source)
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
        name = printable_path(self.path.name)
        for suffix in list(COMPRESSED_SUFFIXES) + list(JSON_SUFFIXES):
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
        return name


@dataclass
class LineBlock:
    """JSON lines as read and not yet split into records: `lines` lines from line `first_line` on, in
    `parts` (whole lines each, joined by newlines). Valid UTF-8, and every line starts with `{`, so
    none is blank and each line is one record: the typed mapping parses all of them in one call
    (`analyzer.ingest.typed.map_block`) and nothing splits them into a million Python strings."""

    first_line: int
    lines: int = 0
    parts: list[bytes] = field(default_factory=list)
    part_lines: list[int] = field(default_factory=list)  # lines in each part
    longest: int = 0  # bytes of the longest line
    parsed: Any = None  # the typed reader's table of it, once read (typed.parsed_block); False: refused

    def add(self, part: bytes, lines: int, longest: int) -> None:
        self.parts.append(part)
        self.part_lines.append(lines)
        self.lines += lines
        self.longest = max(self.longest, longest)

    def data(self) -> bytes:
        if len(self.parts) > 1:
            self.parts, self.part_lines = [b"\n".join(self.parts)], [self.lines]
        return self.parts[0] if self.parts else b""

    def records(self) -> tuple[list[int], list[str]]:
        """Its lines' numbers and texts (no line is blank or invalid UTF-8: the reader checked)."""
        numbers, records, _ = _split_lines(self.data(), self.first_line)
        return numbers, records

    def cut(self, lines: int) -> tuple[LineBlock, LineBlock]:
        """The first `lines` lines, and the rest: only the part the cut falls in is split."""
        import numpy as np

        head = LineBlock(self.first_line, longest=self.longest)
        tail = LineBlock(self.first_line + lines, longest=self.longest)
        for part, count in zip(self.parts, self.part_lines, strict=True):
            wanted = lines - head.lines
            if wanted >= count:
                head.add(part, count, 0)
            elif wanted <= 0:
                tail.add(part, count, 0)
            else:
                newline = int(np.flatnonzero(np.frombuffer(part, np.uint8) == ord("\n"))[wanted - 1])
                head.add(part[:newline], wanted, 0)
                tail.add(part[newline + 1 :], count - wanted, 0)
        return head, tail


@dataclass
class RecordBatch:
    source: Source
    line_no: list[int] = field(default_factory=list)
    record: list[str] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line_no, reason, raw)
    notes: list[str] = field(default_factory=list)  # what the reader decided for the user to know (renamed columns)
    columns: list[str] | None = None  # a table's column names (CSV, TSV), on its first batch: analyzer.sources.columns
    bytes: int = 0  # size of the records, for closing the chunk at ReadLimits.chunk_bytes
    input_position: int | None = None  # bytes of the file (compressed, as stored) consumed so far; None: a pipe
    block: LineBlock | None = None  # JSONL records not split yet: then `line_no` and `record` are empty
    # a Twitter archive's tweets.js without its account.js: the first batch says that no tweet names its author
    authors_unknown: bool = False

    @property
    def records(self) -> int:
        return len(self.record) + (self.block.lines if self.block else 0)

    @property
    def rows_read(self) -> int:
        return self.records + len(self.rejects)

    def split(self) -> RecordBatch:
        """Make the records of `block` (if any) `line_no` and `record` lists, as every other reader gives them."""
        if self.block is not None:
            self.line_no, self.record = self.block.records()
            self.block = None
        return self

    def release_block(self) -> None:
        """Let the bytes of `block` go (once mapped), keeping its line count."""
        if self.block is not None:
            self.block.parts, self.block.part_lines, self.block.parsed = [], [], None

    def sample(self, n: int) -> list[str]:
        """The first `n` records, without splitting the batch."""
        if self.block is None:
            return self.record[:n]
        head: list[bytes] = []
        for part in self.block.parts:
            head += part.split(b"\n", n - len(head))[: n - len(head)]
            if len(head) >= n:
                break
        return [line.decode("utf-8") for line in head]


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
            for entry in _folder_entries(path, errors):
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
            sources.extend(Source(printable_path(str(p)), p) for p in found)
        elif path.exists():
            sources.append(Source(printable_path(str(path)), path))
        elif any(ch in raw for ch in "*?["):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                errors.append(SourceError(raw, "glob matched no files"))
            sources.extend(Source(printable_path(m), Path(m)) for m in matches if Path(m).is_file())
        else:
            errors.append(SourceError(raw, "no such file or folder"))
    return sources, errors


def _folder_entries(folder: Path, errors: list[SourceError]) -> list[Path]:
    """Every file and folder under `folder`, sorted (as `rglob("*")` lists them, symlinked folders not followed). A
    folder that cannot be listed is an error, not an empty folder: rglob skipped it without a word."""

    def refused(exc: OSError) -> None:
        where = exc.filename if exc.filename is not None else folder
        if os.fspath(where) == os.fspath(folder):
            return  # the folder itself: "holds no readable dump files", as before
        reason = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
        errors.append(SourceError(os.fspath(where), f"{reason} (folder not read)"))

    entries = []
    for top, folders, files in os.walk(folder, onerror=refused):
        entries += [Path(top, name) for name in folders + files]
    return sorted(entries)


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
    if lower.endswith(".txt"):
        return "text"
    return None


def _open_raw(source: Source, should_stop: Callable[[], bool] | None) -> IO[bytes]:
    """The source's bytes. Pipes, FIFOs and stdin are polled so that `should_stop` is heard while
    their writer is idle; a FIFO is opened without waiting for a writer (open(2) would block)."""
    if source.path is None:
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):  # stdin replaced by an in-memory stream
            return sys.stdin.buffer
        return io.BufferedReader(_PolledReader(fd, should_stop, owns_fd=False), READ_BYTES)
    try:
        if stat.S_ISFIFO(source.path.stat().st_mode):
            fd = os.open(source.path, os.O_RDONLY | os.O_NONBLOCK)
            return io.BufferedReader(_PolledReader(fd, should_stop, owns_fd=True), READ_BYTES)
        return source.path.open("rb")
    except PermissionError as exc:
        raise SourceError(source.name, "permission denied") from exc
    except OSError as exc:
        raise SourceError(source.name, exc.strerror or str(exc)) from exc


class _PolledReader(io.RawIOBase):
    """Reads a pipe with poll(): every POLL_SECONDS without data it asks `should_stop`, and once
    that is true every read raises ReadStopped (a writer that never writes cannot hold the run)."""

    def __init__(self, fd: int, should_stop: Callable[[], bool] | None, owns_fd: bool) -> None:
        self._fd = fd
        self._should_stop = should_stop or (lambda: False)
        self._owns_fd = owns_fd
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN | select.POLLPRI)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while True:
            if self._should_stop():
                raise ReadStopped
            if not self._poll.poll(POLL_SECONDS * 1000):
                continue
            try:
                data = os.read(self._fd, len(buffer))
            except BlockingIOError:  # a FIFO opened without a writer: poll said "hang-up", read says "again"
                time.sleep(POLL_SECONDS)
                continue
            buffer[: len(data)] = data
            return len(data)

    def close(self) -> None:
        if self._owns_fd and not self.closed:
            os.close(self._fd)
        super().close()


def _decompressed(stream: IO[bytes], read_bytes: int = READ_BYTES) -> IO[bytes]:
    """Wrap `stream` in the decompressor its magic bytes name (gzip, zstd, bzip2, xz). Each hands over
    at most what one read asks for (the standard library's readers decompress with a `max_length`; ours
    bounds zstd), so a bomb is read as any big file."""
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[arg-type]
    head = buffered.peek(10)[:10]
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=buffered)  # type: ignore[return-value]
    if head.startswith(XZ_MAGIC):
        import lzma

        return lzma.LZMAFile(buffered)  # type: ignore[return-value]
    if head.startswith(BZIP2_MAGIC) and head[3:4].isdigit() and head[3:4] != b"0" and head[4:10] in BZIP2_BLOCK_MAGICS:
        import bz2

        return bz2.BZ2File(buffered)  # type: ignore[return-value]
    if head.startswith(ZSTD_MAGIC):
        return io.BufferedReader(_ZstdFrames(buffered), buffer_size=read_bytes)
    return buffered


class _ZstdFrames(io.RawIOBase):
    """Decompress concatenated zstd frames in bounded steps.

    Each step feeds at most ZSTD_INPUT_BYTES and takes out at most ZSTD_OUTPUT_BYTES
    (`max_length`), so a 352 KB file of 4 GB of output never sits in memory at once, and
    damage mid-file costs only the step it is in: everything before it has been handed on.
    A stream that ends inside a frame raises EOFError (a truncated dump is not a short one).
    Pushshift dumps need the 2 GiB window.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._decompressor = _zstd_decompressor()
        self._in_frame = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while True:
            if self._decompressor.eof:  # a frame ended: the next one, if any, starts in unused_data
                data = self._decompressor.unused_data
                self._decompressor = _zstd_decompressor()
                self._in_frame = False
            elif self._decompressor.needs_input:
                data = self._raw.read1(ZSTD_INPUT_BYTES)  # type: ignore[attr-defined]
                if not data:
                    if self._in_frame:
                        raise EOFError("zstd stream ended inside a frame (truncated file)")
                    return 0
            else:
                data = b""  # output of earlier input still waits inside the decompressor
            if data:
                self._in_frame = True
            out = self._decompressor.decompress(data, max_length=min(len(buffer), ZSTD_OUTPUT_BYTES))
            if out:
                buffer[: len(out)] = out
                return len(out)


def _zstd_decompressor() -> Any:
    try:
        from compression import zstd  # Python ≥ 3.14
    except ImportError:
        from backports import zstd
    return zstd.ZstdDecompressor(options={zstd.DecompressionParameter.window_log_max: 31})


class _LineCapped(io.RawIOBase):
    """Hands on whole lines; a line longer than `cap` bytes is replaced by an empty line (so line
    numbers stay right) and recorded in `rejects` with its first RAW_KEEP_CHARS bytes. Only the
    current line, at most `cap` bytes, is ever held: 8 GB without a newline is one reject."""

    def __init__(self, stream: IO[bytes], cap: int, read_bytes: int,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self._stream = stream
        self._should_stop = should_stop or (lambda: False)
        self._cap = cap
        self._read_bytes = read_bytes
        self._out = b""
        self._tail = bytearray()  # the line being read, not yet ended
        self._line_no = 1  # line number of the tail
        self._skipped_head: bytes | None = None  # while skipping an over-long line: its first bytes
        self.rejects: list[tuple[int, str, str]] = []

    def readable(self) -> bool:
        return True

    def take_rejects(self) -> list[tuple[int, str, str]]:
        taken, self.rejects = self.rejects, []
        return taken

    def unfinished_line(self) -> tuple[int, bytes]:
        """The line being read when the stream broke off: its number and bytes. A line already
        past the cap is rejected as such (with the start it had) and is not returned."""
        if self._skipped_head is not None:
            self._reject_long_line()
        return self._line_no, bytes(self._tail)

    def read_lines(self) -> bytes:
        """The next whole lines, each ending in a newline (at the end: the unended last line), as one block;
        b"" at the end. What `readinto` hands on, without copying it into a buffer."""
        while not self._out:
            if self._skipped_head is not None and self._should_stop():
                raise ReadStopped  # a bomb's endless line would otherwise hold a stopping run for minutes
            block = self._stream.read1(self._read_bytes)  # type: ignore[attr-defined]
            if not block:
                if self._skipped_head is not None:
                    self._reject_long_line()
                rest, self._tail = bytes(self._tail), bytearray()
                return rest
            self._out = self._feed(block)
        out, self._out = self._out, b""
        return out

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if not self._out:
            self._out = self.read_lines()
            if not self._out:
                return 0
        size = min(len(buffer), len(self._out))
        buffer[:size] = self._out[:size]
        self._out = self._out[size:]
        return size

    def _reject_long_line(self) -> None:
        head = self._skipped_head or b""
        self.rejects.append((self._line_no, f"line longer than {_size(self._cap)} (the line cap); not read",
                             head.decode("utf-8", errors="replace")))
        self._skipped_head = None

    def _feed(self, block: bytes) -> bytes:
        parts: list[bytes] = []
        if self._skipped_head is not None:
            newline = block.find(b"\n")
            if newline < 0:
                return b""
            self._reject_long_line()
            self._line_no += 1
            parts.append(b"\n")
            block = block[newline + 1 :]
        last = block.rfind(b"\n")
        if last < 0:
            self._tail += block
        else:
            whole = bytes(self._tail) + block[: last + 1]
            self._tail = bytearray(block[last + 1 :])
            parts.append(self._cap_lines(whole) if len(whole) > self._cap else whole)
            self._line_no += whole.count(b"\n")
        if len(self._tail) > self._cap:
            self._skipped_head = bytes(self._tail[:RAW_KEEP_CHARS])
            self._tail = bytearray()
        return b"".join(parts)

    def _cap_lines(self, whole: bytes) -> bytes:
        """`whole` (ending in a newline) with each over-long line emptied and rejected."""
        kept, start, line_no = [], 0, self._line_no
        while start < len(whole):
            end = whole.index(b"\n", start)
            if end - start > self._cap:
                self.rejects.append((line_no, f"line longer than {_size(self._cap)} (the line cap); not read",
                                     whole[start : start + RAW_KEEP_CHARS].decode("utf-8", errors="replace")))
                kept.append(b"\n")
            else:
                kept.append(whole[start : end + 1])
            start, line_no = end + 1, line_no + 1
        return b"".join(kept)


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n:,} bytes"


def read_batches(source: Source, batch_rows: int = BATCH_ROWS, delimiter: str | None = None,
                 limits: ReadLimits | None = None, should_stop: Callable[[], bool] | None = None,
                 no_header: bool = False) -> Iterator[RecordBatch]:
    """Yield record batches from one source; raises SourceError if it cannot be read at all.

    The format comes from the bytes (see `sniff_format`); the name only tells CSV, TSV and
    plain text apart. `delimiter` forces the CSV delimiter (else it is sniffed); `no_header`: a CSV's first
    line is a row, not a header. Once
    `should_stop()` is true, a read from a pipe, FIFO or stdin ends the source: the whole
    lines read so far are yielded and the rest is left unread.
    """
    limits = limits or ReadLimits()
    raw = _open_raw(source, should_stop)
    size_at_open = _regular_size(raw) if source.path is not None else None
    try:
        stream, head = _with_head(_decompressed(raw, limits.read_bytes), limits.read_bytes)
        fmt = sniff_format(head, source.name if source.path is not None else None)
        if fmt == "text" and source.path is None and delimiter is not None:
            fmt = "csv"  # --delimiter says that stdin is a CSV, whatever its first rows look like
        if fmt is None:
            raise SourceError(source.name, "not a text dump (binary content)")
        if fmt in {"jsonl", "text"} and uses_lone_cr(head):
            stream = io.BufferedReader(_CarriageReturns(stream), buffer_size=1 << 20)
        if fmt == "jsonl":
            batches = _container_records(source, _jsonl_batches(source, stream, batch_rows, limits, should_stop),
                                         batch_rows)
        elif fmt == "json":
            batches = _json_document_batches(source, stream, batch_rows, limits)
        elif fmt == "text":
            batches = _text_line_batches(source, stream, batch_rows, limits, should_stop)
        elif fmt in {"csv", "tsv"}:
            if delimiter is None:
                delimiter = "\t" if fmt == "tsv" else sniff_delimiter(head)
            batches = _csv_batches(source, stream, batch_rows, limits, should_stop, delimiter=delimiter,
                                   no_header=no_header)
        else:
            batches = _parquet_batches(source, stream, batch_rows, limits)
        for batch in batches:
            # where the file's own bytes are: progress and an ETA by size, compressed files included
            batch.input_position = _position(raw) if source.path is not None else None
            yield batch
        _check_not_shrunk(source, raw, size_at_open)
    except ReadStopped:
        return  # the run is stopping; the readers yielded what they had whole
    except (EOFError, OSError) as exc:
        # truncated gzip/zstd streams surface here, after what could be read was yielded
        raise SourceError(source.name, f"stream ended early or is corrupt ({exc})") from exc
    except Exception as exc:
        if type(exc).__module__.startswith("zstd") or "zstd" in type(exc).__name__.lower():
            raise SourceError(source.name, f"corrupt zstd stream ({exc})") from exc
        if type(exc).__name__ == "LZMAError":  # not an OSError, unlike bzip2's and gzip's
            raise SourceError(source.name, f"corrupt xz stream ({exc})") from exc
        raise
    except BaseException as exc:
        # a Rust library (polars) that panics raises pyo3's PanicException, a BaseException: it
        # is this file's fault, so it fails the file, not the run
        if type(exc).__name__ != "PanicException":
            raise
        first = str(exc).splitlines()[0] if str(exc) else "no message"
        raise SourceError(source.name, f"a reader library crashed on this file ({first})") from None
    finally:
        if source.path is not None:
            raw.close()


def _regular_size(raw: IO[bytes]) -> int | None:
    """The size of an open regular file (None: a FIFO, or not a file)."""
    try:
        info = os.fstat(raw.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _check_not_shrunk(source: Source, raw: IO[bytes], size_at_open: int | None) -> None:
    """A file cut shorter while it was read (truncated, rewritten in place) ends early without a read error: its
    last line read as a malformed record and the run said `completed`. It is a read error, as any other: what was
    read before stays, and the file is a failed source. A file read to its end and cut later is not."""
    if size_at_open is None:
        return
    size_now = _regular_size(raw)
    position = _position(raw)
    if size_now is not None and position is not None and size_now < size_at_open and position < size_at_open:
        raise SourceError(source.name, f"the file shrank while it was read ({size_at_open:,} bytes when opened, "
                                       f"{size_now:,} at the end): what was read before is kept; re-run once it is "
                                       "whole")


def _position(raw: IO[bytes]) -> int | None:
    try:
        return raw.tell()
    except (OSError, ValueError):  # a FIFO, or closed
        return None


def input_size(source: Source) -> int | None:
    """The size of a regular file source (what `RecordBatch.input_position` counts towards); None otherwise."""
    if source.path is None:
        return None
    try:
        info = source.path.stat()
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def uses_lone_cr(head: bytes) -> bool:
    """Whether a file ends its lines with a lone CR (classic Mac OS exports): its head holds CRs and no LF.
    Read by lines on LF, 3 records were one reject (JSON lines) or one comment (.txt)."""
    return b"\r" in head and b"\n" not in head


class _CarriageReturns(io.RawIOBase):
    """`stream` with every CR as LF: for files whose line end is a lone CR (`uses_lone_cr`). A JSON line
    cannot hold a raw CR (JSON escapes control characters), so no record is changed by it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = getattr(self._stream, "read1", self._stream.read)(len(buffer))
        buffer[: len(data)] = data.replace(b"\r", b"\n")
        return len(data)


class _Chained(io.RawIOBase):
    """`head` (already read, for format detection) followed by the rest of `stream`."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        # one read of the stream at a time: a decoder error (a damaged zstd block) then loses nothing
        # that was decoded before it, where read(n) would drop the pieces it had gathered
        data = getattr(self._stream, "read1", self._stream.read)(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# byte order marks of the wide encodings, UTF-32's first (its little-endian one starts with UTF-16's)
WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32LE"), (b"\x00\x00\xfe\xff", "UTF-32BE"),
             (b"\xff\xfe", "UTF-16LE"), (b"\xfe\xff", "UTF-16BE"))
WIDE_SAMPLE_BYTES = 4096  # what the NUL pattern of a wide encoding without a BOM is judged on


def wide_encoding(head: bytes) -> str | None:
    """UTF-16LE/BE or UTF-32LE/BE when `head` starts with its byte order mark, or, without one, when its NULs
    fall where that encoding puts them and it decodes to text (Windows tools write "Unicode" as UTF-16LE:
    each line was a reject, read as UTF-8). None: UTF-8 (or binary), read as before."""
    for bom, encoding in WIDE_BOMS:
        if head.startswith(bom):
            return encoding
    if head.startswith(PARQUET_MAGIC):
        return None
    sample = head[: WIDE_SAMPLE_BYTES]
    units = len(sample) // 4
    if units == 0 or b"\x00" not in sample:
        return None
    sample = sample[: units * 4]
    zeros = [sample[i::4].count(0) / units for i in range(4)]  # share of NULs at each byte of a 4-byte unit
    candidates = []
    if zeros[3] == 1 and zeros[2] >= 0.9 and zeros[0] < 0.1:
        candidates.append("UTF-32LE")
    if zeros[0] == 1 and zeros[1] >= 0.9 and zeros[3] < 0.1:
        candidates.append("UTF-32BE")
    even, odd = (zeros[0] + zeros[2]) / 2, (zeros[1] + zeros[3]) / 2
    if odd >= 0.5 and even < 0.05:
        candidates.append("UTF-16LE")
    if even >= 0.5 and odd < 0.05:
        candidates.append("UTF-16BE")
    for encoding in candidates:
        # text, not a binary file with a NUL pattern: no control characters but whitespace
        text = sample.decode(encoding, errors="ignore")
        if text and not any(ch < " " and ch not in "\t\n\r\f" for ch in text):
            return encoding
    return None


class WideDecodeError(OSError):
    """A UTF-16/32 file holds bytes its encoding cannot decode: a read error, raised from then on."""


class _Transcoded(io.RawIOBase):
    """`stream`, decoded from a wide encoding (`wide_encoding`) and handed on as UTF-8, one read at a time.
    Bytes the encoding cannot decode (a lone surrogate) end the file as a read error naming it, after
    everything that decoded before them was handed on."""

    def __init__(self, stream: IO[bytes], encoding: str, read_bytes: int) -> None:
        import codecs

        self._stream = stream
        self._encoding = encoding
        # UTF-16LE: codecs.utf_16_le_decode, which takes (data, errors, final) and says how many bytes it used
        self._decode = getattr(codecs, encoding.lower().replace("-", "_")[:-2] + "_" + encoding[-2:].lower() + "_decode")
        self._read_bytes = read_bytes
        self._pending = b""  # a code unit cut by the end of a read
        self._out = b""
        self._consumed = 0  # bytes of the file decoded so far
        self._failure: WideDecodeError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while not self._out:
            if self._failure is not None:
                raise self._failure
            # UTF-16 grows by half as UTF-8 (2 bytes a character, 3): a read still hands over at most read_bytes
            data = getattr(self._stream, "read1", self._stream.read)(max(4, self._read_bytes * 2 // 3))
            data, self._pending = self._pending + data, b""
            try:
                text, used = self._decode(data, "strict", not data)
            except UnicodeDecodeError as exc:
                text, used = self._decode(data[: exc.start], "strict", False)
                self._failure = WideDecodeError(f"not valid {self._encoding} at byte {self._consumed + used:,} "
                                                f"({exc.reason})")
            self._pending = data[used:] if self._failure is None else b""
            self._consumed += used
            self._out = text.encode("utf-8")
            if not data:
                return 0
        size = min(len(buffer), len(self._out))
        buffer[:size] = self._out[:size]
        self._out = self._out[size:]
        return size


def _with_head(stream: IO[bytes], read_bytes: int = READ_BYTES) -> tuple[IO[bytes], bytes]:
    """Read the first HEAD_BYTES (without a UTF-8 byte order mark) and give back a stream that still starts there.
    A UTF-16 or UTF-32 file (`wide_encoding`) is handed on decoded, as UTF-8."""
    head = _read_head(stream)
    encoding = wide_encoding(head)
    if encoding is not None:
        # the BOM, if any, is decoded to U+FEFF, which is UTF-8's BOM and is skipped below
        transcoded = _Transcoded(io.BufferedReader(_Chained(head, stream), buffer_size=1 << 20), encoding, read_bytes)
        stream = io.BufferedReader(transcoded, buffer_size=1 << 20)
        head = _read_head(stream)
    if head.startswith(UTF8_BOM):  # Excel and Windows tools write one; it is not part of the first value or column
        head = head[len(UTF8_BOM):]
    return io.BufferedReader(_Chained(head, stream), buffer_size=1 << 20), head


def _read_head(stream: IO[bytes]) -> bytes:
    head = b""
    while len(head) < HEAD_BYTES:
        try:
            # read1: one read at a time, so a stop raised by the next read keeps the bytes of the earlier ones
            chunk = getattr(stream, "read1", stream.read)(HEAD_BYTES - len(head))
        except (ReadStopped, WideDecodeError):
            # the run is stopping, or a wide encoding's damage: the readers keep the whole lines read so far (and
            # the damage is raised again by the next read)
            break
        if not chunk:
            break
        head += chunk
    return head


def sniff_format(head: bytes, name: str | None) -> str | None:
    """jsonl | json | csv | tsv | text | parquet from a file's first bytes (and its name for CSV/TSV/text).

    JSON lines and one JSON document are told apart by their bytes, never by the extension:
    Pushshift and MongoDB export one object a line into `.json` files. A file is JSON lines
    when its first line is a whole object, or when a later line at the left margin is one
    (a bad first line does not make a dump a document); a pretty-printed document (or
    several, as some tools write API pages) spans lines.
    """
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    stripped = head.lstrip()
    by_name = _format_from_name(name) if name else None
    if stripped.startswith(TWEETS_JS_PREFIX):
        return "json"
    # a .txt line "[deleted] lol" or a CSV header "[id],text" is no JSON array: where the name says text (or
    # there is no name), an opening `[` makes a JSON document only when its first element parses
    named_json = name is not None and by_name not in {"csv", "tsv", "text"}
    if stripped.startswith(b"[") and (named_json or _opens_json_array(stripped, whole=len(head) < HEAD_BYTES)):
        return "json"
    if by_name in {"csv", "tsv", "text"}:
        return by_name
    if stripped.startswith(b"{"):
        lines = stripped.split(b"\n", 6)
        if len(lines) == 1 or any(_is_json_object(line) for line in lines[:6] if line.startswith(b"{")):
            return "jsonl"
        return "json"
    if by_name in {"json", "jsonl"}:
        return "jsonl"  # named JSON, not starting like JSON: each line is judged (and rejected) on its own
    if b"\x00" in head[:4096] or not _is_text(head[:4096]):
        return None
    if name is None and not looks_like_table(head):
        return "text"  # stdin: plain lines are one comment a line, as a .txt file (`printf 'a\nb\n'`)
    return "csv"


# a one-column CSV on stdin is told from plain lines by its header: a text column's name (the generic preset's)
_TEXT_HEADERS = {"text", "body", "content", "message", "comment"}
TABLE_SHARE = 0.8  # of the sampled rows that must have the header's number of fields


def looks_like_table(head: bytes) -> bool:
    """Whether unnamed text (stdin) is a CSV/TSV rather than plain lines: its first line is a text column's
    name alone, or some delimiter among `, ; TAB |` splits the first line into 2+ fields and at least 80% of
    the first 50 rows (2 at least) into as many. Plain comments rarely agree on their count of commas."""
    sample = head.decode("utf-8", errors="replace")
    cut = sample.rfind("\n")
    sample = sample[:cut] if cut > 0 and len(head) >= HEAD_BYTES else sample  # a cut last line is left out
    if sample.split("\n", 1)[0].strip().strip('"').lower() in _TEXT_HEADERS:
        return True
    for candidate in CSV_DELIMITERS:
        rows = _first_rows(sample, candidate)
        if len(rows) >= 2 and len(rows[0]) >= 2 and sum(len(r) == len(rows[0]) for r in rows) >= TABLE_SHARE * len(rows):
            return True
    return False


def _first_rows(sample: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    """The first `limit` non-empty CSV rows of `sample` split on `delimiter`; a damaged row ends the sample
    (judged on the rows before it; the reader rejects the damaged row itself)."""
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
            if row:
                rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def _opens_json_array(text: bytes, whole: bool) -> bool:
    """Whether `text` (starting with `[`) opens a JSON array: `]`, or a first element that parses and is
    followed by `,` or `]`. When `text` is only the head of a bigger file (not `whole`), an element cut
    by the head's end cannot be judged: it counts as JSON, as before."""
    decoded = text.decode("utf-8", errors="replace")
    at = len(decoded) - len(decoded[1:].lstrip())  # the first character after `[` and its spaces
    if at >= len(decoded):
        return not whole
    if decoded[at] == "]":
        return True
    try:
        _, end = json.JSONDecoder().raw_decode(decoded, at)
    except json.JSONDecodeError as exc:
        return not whole and (exc.pos >= len(decoded) - 1 or "Unterminated" in exc.msg)
    except RecursionError:  # nested deeper than Python's stack: the document reader judges it
        return True
    rest = decoded[end:].lstrip()
    return rest[:1] in {",", "]"} or (not rest and not whole)


def _is_json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack; DuckDB judges it
        return False


def sniff_delimiter(head: bytes) -> str:
    """The CSV delimiter among `, ; TAB |`: the one that splits the first rows into the same number (>1) of fields."""
    sample = head.decode("utf-8", errors="replace")
    cut = sample.rfind("\n")
    sample = sample[:cut] if cut > 0 else sample  # the last line may be cut in the middle
    best, best_score = ",", (0, 0)
    for candidate in CSV_DELIMITERS:
        rows = _first_rows(sample, candidate)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(row) == width for row in rows), width)
        if score > best_score:
            best, best_score = candidate, score
    return best


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


def _jsonl_batches(source: Source, stream: IO[bytes], batch_rows: int, limits: ReadLimits,
                   should_stop: Callable[[], bool] | None) -> Iterator[RecordBatch]:
    capped = _LineCapped(stream, limits.line_bytes, limits.read_bytes, should_stop)
    batch = RecordBatch(source)
    pending = b""
    next_line = 1
    while True:
        try:
            block = capped.read_lines()
        except ReadStopped:
            line_no, unfinished = capped.unfinished_line()
            if pending or unfinished:  # it may go on in the pipe, but this run will not see the rest
                batch.rejects.append((line_no, "line cut short: the run was stopped while reading it",
                                      (pending + unfinished)[:RAW_KEEP_CHARS].decode("utf-8", errors="replace")))
            batch.rejects.extend(capped.take_rejects())
            if batch.rows_read:
                yield batch
            return
        except Exception as exc:  # a truncated or corrupt gzip/zstd stream
            line_no, unfinished = capped.unfinished_line()
            if pending or unfinished:  # the line the damage is in: counted, with what of it decoded
                batch.rejects.append((line_no, "line cut short by the stream damage",
                                      (pending + unfinished)[:RAW_KEEP_CHARS].decode("utf-8", errors="replace")))
            batch.rejects.extend(capped.take_rejects())
            if batch.rows_read:
                yield batch  # keep every whole line read before the damage
            raise SourceError(source.name, f"stream ended early or is corrupt after line {line_no - 1:,} "
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
        next_line = _add_lines(batch, whole, next_line)
        batch.rejects.extend(capped.take_rejects())
        batch.bytes += len(whole)
        while batch.records >= batch_rows:
            full, batch = _cut(batch, batch_rows)
            yield full
        if batch.bytes >= limits.chunk_bytes:
            yield batch
            batch = RecordBatch(source)
    if pending.strip():
        _add_lines(batch, pending, next_line)
    batch.rejects.extend(capped.take_rejects())
    if batch.rows_read:
        yield batch


def _add_lines(batch: RecordBatch, whole: bytes, first_line: int) -> int:
    """Add the lines of `whole` to `batch`, as a LineBlock while every line read so far can be one; the
    number of the line after them."""
    plain_lines, longest = _object_lines(whole)
    if plain_lines and not batch.record:
        if batch.block is None:
            batch.block = LineBlock(first_line)
        batch.block.add(whole, plain_lines, longest)
        return first_line + plain_lines
    numbers, records, rejects = _split_lines(whole, first_line)
    batch.split()
    batch.line_no.extend(numbers)
    batch.record.extend(records)
    batch.rejects.extend(rejects)
    return first_line + whole.count(b"\n") + 1


def _object_lines(whole: bytes) -> tuple[int, int]:
    """(lines, bytes of the longest) of `whole` if it can be a LineBlock (valid UTF-8, each line starting with
    `{`), else (0, 0)."""
    import numpy as np
    import pyarrow as pa

    data = np.frombuffer(whole, np.uint8)
    if not data.size or data[0] != ord("{"):
        return 0, 0
    starts = np.flatnonzero(data == ord("\n")) + 1
    if starts.size and (starts[-1] == data.size or (data[starts] != ord("{")).any()):
        return 0, 0
    try:  # valid UTF-8? ~7 GB/s (a cast to string would load Arrow's compute registry: 0.17 s). A piece is at
        # most a read and a line (ReadLimits), far below 2 GiB
        offsets = pa.py_buffer(np.array([0, data.size], np.int32))
        pa.StringArray.from_buffers(1, offsets, pa.py_buffer(whole)).validate(full=True)
    except pa.ArrowInvalid:
        return 0, 0
    if not starts.size:
        return 1, data.size
    longest = max(int(starts[0]), data.size - int(starts[-1]), int(np.diff(starts).max()) if starts.size > 1 else 0)
    return int(starts.size) + 1, longest


def _cut(batch: RecordBatch, rows: int) -> tuple[RecordBatch, RecordBatch]:
    """`batch` cut after its first `rows` records; each reject goes with the records it was read among.
    Chunks of exactly BATCH_ROWS records fill the store's row groups exactly (see BATCH_ROWS)."""
    if batch.records == rows:
        return batch, RecordBatch(batch.source)
    if batch.block is not None:
        head, tail = batch.block.cut(rows)
        last = tail.first_line - 1
        full = RecordBatch(batch.source, notes=batch.notes, block=head,
                           bytes=sum(map(len, head.parts)) + len(head.parts) - 1)
        rest = RecordBatch(batch.source, block=tail)
    else:
        last = batch.line_no[rows - 1]
        full = RecordBatch(batch.source, batch.line_no[:rows], batch.record[:rows], notes=batch.notes)
        rest = RecordBatch(batch.source, batch.line_no[rows:], batch.record[rows:])
        full.bytes = batch.bytes - sum(map(len, rest.record))
    rest.bytes = batch.bytes - full.bytes
    full.rejects = [reject for reject in batch.rejects if reject[0] <= last]
    rest.rejects = [reject for reject in batch.rejects if reject[0] > last]
    return full, rest


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


class JsonTooDeep(ValueError):
    """A JSON document nests deeper than MAX_JSON_DEPTH (a poison file, not a dump)."""


class _JsonGuard(io.RawIOBase):
    """The bytes of a JSON document on their way to the parser, made safe to parse.

    - Each lone UTF-16 surrogate escape (`\\ud800` without its pair) becomes `marker`, a string no
      dump holds (U+FFFF and 16 random hex digits, new for each file). The parser behind ijson reads
      a lone surrogate as "?", which would store a changed text silently; DuckDB refuses such a JSON
      line. The marker lets the reader refuse the record, as for JSON lines, while a real `\\uffff`
      is kept, as JSON lines keep it. Pairs (emoji escaped as `\\ud83d\\ude00`) pass, and so does
      an escaped backslash before text that looks like an escape (`\\\\ud800` is the 6 characters
      `\\ud800`).
    - A run of more than MAX_JSON_DEPTH nested openings (`[[[[`, `{"a":{"a":`) ends the
      document before the parser sees it (`failure` says why): ijson's memory grows with the
      square of the depth (30k levels took 2.3 GB). Found by a regular expression, in C.
    """

    # an escaped backslash is matched too, so that the `\\ud800` after it (text, not an escape) is passed over
    _ESCAPE = re.compile(rb"\\\\|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
    # opener first, possessive quantifiers: 4x faster than the plain form (0.28 s per 8 MiB of tweets)
    _DEEP = re.compile(rb'[\[{](?:\s*+(?:"[^"\\]{0,256}+"\s*+:\s*+)?+[\[{]){%d}' % MAX_JSON_DEPTH)

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._pending = b""
        self._ready = b""
        self._seen = b""  # the end of what was already passed on: a deep run can span two reads
        self._offset = 0
        self.failure: JsonTooDeep | None = None
        hex_digits = secrets.token_hex(8)
        self.marker = "\uffff" + hex_digits  # what a lone surrogate escape becomes, in a parsed string
        self._marker_escape = b"\\uffff" + hex_digits.encode()

    def readable(self) -> bool:
        return True

    def _checked(self, data: bytes) -> bytes:
        window = self._seen + data
        deep = self._DEEP.search(window)
        if deep:
            # what comes before the deep run is parsed (its records kept); the next read stops the document
            at = self._offset - len(self._seen) + deep.start()
            self.failure = JsonTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels at byte {at:,}")
            return data[: max(0, deep.start() - len(self._seen))]
        self._seen = window[-(MAX_JSON_DEPTH * 270):]
        self._offset += len(data)
        return data

    def _fixed(self, data: bytes) -> bytes:
        if b"\\u" not in data:
            return data
        pieces, start, position = [], 0, 0
        while match := self._ESCAPE.search(data, position):
            if match.group() == b"\\\\":
                position = match.end()  # an escaped backslash: what follows it is text
                continue
            high = match.group()[3:4].lower() in b"89ab"
            following = self._ESCAPE.match(data, match.end())
            if high and following and len(following.group()) == 6 and following.group()[3:4].lower() in b"cdef":
                position = following.end()  # a proper pair
                continue
            pieces += [data[start:match.start()], self._marker_escape]
            start = position = match.end()
        return b"".join(pieces) + data[start:]

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while not self._ready:
            if self.failure:
                return 0  # the parser sees the document end here: `failure` says why
            chunk = self._stream.read(READ_BYTES)
            if not chunk:
                self._ready, self._pending = self._fixed(self._checked(self._pending)), b""
                if not self._ready:
                    return 0
                break
            data = self._pending + chunk
            cut = data.rfind(b'"') + 1  # an escape pair never spans the end of a string
            self._ready, self._pending = self._fixed(self._checked(data[:cut])), data[cut:]
        size = min(len(buffer), len(self._ready))
        buffer[:size] = self._ready[:size]
        self._ready = self._ready[size:]
        return size


def _json_document_batches(source: Source, stream: IO[bytes], batch_rows: int,
                           limits: ReadLimits) -> Iterator[RecordBatch]:
    """A JSON array of records, a Twitter archive (`tweets.js`), API v2 pages, an ActivityPub outbox.

    An array is streamed element by element; a file of objects (one, or several one after
    the other) is read one top-level object at a time. Containers (pages, outboxes, archive
    entries) become their records (`containers.records`); a record's number is its position
    among the file's records.
    """
    import ijson

    head = _peek(stream, 64).lstrip()
    author = None
    head_is_archive = head.startswith(TWEETS_JS_PREFIX)
    if head_is_archive:
        stream = io.BufferedReader(_SkipPrefix(stream))
        head = _peek(stream, 64).lstrip()
        author = _archive_account(source)
    guard = _JsonGuard(stream)
    stream = io.BufferedReader(guard, buffer_size=1 << 20)
    if head.startswith(b"["):
        values = ijson.items(stream, "item", use_float=True)
    elif _is_telegram_head(_peek(stream, HEAD_BYTES)):
        values = _telegram_messages(stream)
    else:
        values = ijson.items(stream, "", use_float=True, multiple_values=True)
    batch = RecordBatch(source, authors_unknown=head_is_archive and author is None)
    index = 0
    seen = containers.SeenPosts()
    try:
        for value in values:
            # a plain record (the common case) skips the container machinery
            items = (value,) if author is None and not containers.is_container(value) else containers.records(
                value, author, seen)
            for item in items:
                index += 1
                record = json.dumps(item, ensure_ascii=False)
                if guard.marker in record:
                    # JSON lines with the same escape are refused by the JSON parser: be consistent
                    batch.rejects.append((index, "malformed JSON (a lone UTF-16 surrogate)", record[:RAW_KEEP_CHARS]))
                else:
                    batch.line_no.append(index)
                    batch.record.append(record)
                    batch.bytes += len(record)
                if len(batch.record) >= batch_rows or batch.bytes >= limits.chunk_bytes:
                    yield batch
                    batch = RecordBatch(source)
    except ReadStopped:  # the run is stopping: keep the elements read whole
        if batch.rows_read:
            yield batch
        return
    except ijson.common.IncompleteJSONError as exc:
        reason = f"{guard.failure}; the rest of the document was not read" if guard.failure else (
            f"malformed JSON document after record {index} ({exc})")
        batch.rejects.append((index + 1, reason, ""))
    except UnicodeDecodeError as exc:
        batch.rejects.append((index + 1, f"invalid UTF-8 in JSON document after record {index}", str(exc)))
    except RecursionError:
        batch.rejects.append((index + 1, f"JSON nested deeper than {MAX_JSON_DEPTH} levels; the rest of the document "
                                         "was not read", ""))
    if batch.rows_read:
        yield batch
    elif index == 0:
        raise SourceError(source.name, "JSON document holds no records")


# a Telegram Desktop export (`result.json`): an object whose first keys are scalars (name, type, id) and then
# `messages`, an array that holds the whole chat (hundreds of MB for a big one)
_TELEGRAM_HEAD = re.compile(
    rb'\s*\{((?:\s*"(?:[^"\\]|\\.)*"\s*:\s*(?:"(?:[^"\\]|\\.)*"|[-+.0-9eE]+|true|false|null)\s*,)*)'
    rb'\s*"messages"\s*:\s*\[')


def _is_telegram_head(head: bytes) -> bool:
    """Whether a document starts as a Telegram chat export: what `containers` calls one (a `type` and an
    `id` before `messages`), told from its first bytes."""
    match = _TELEGRAM_HEAD.match(head)
    if not match:
        return False
    try:
        chat = json.loads(b"{" + match.group(1).rstrip().rstrip(b",") + b"}")
    except ValueError:
        return False
    return containers.is_container({**chat, "messages": []})


def _telegram_messages(stream: IO[bytes]) -> Iterator[Any]:
    """The messages of a Telegram Desktop chat export, streamed one by one (`containers.telegram_message`):
    the chat's scalar fields (its name, the topic, and id) come before `messages`, so they are read first
    and the array after them is never held whole."""
    import ijson

    events = ijson.parse(stream, use_float=True)
    chat: dict[str, Any] = {}
    for prefix, event, value in events:
        if prefix == "messages" and event == "start_array":
            break
        if prefix and "." not in prefix and event in {"string", "number", "boolean", "null"}:
            chat[prefix] = value
    for message in ijson.items(events, "messages.item"):
        yield containers.telegram_message(message, chat.get("name"), chat.get("id"))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _archive_account(source: Source) -> str | None:
    """The username of a Twitter archive's account (`data/account.js` beside `tweets.js`), if present."""
    if source.path is None:
        return None
    account_file = source.path.with_name("account.js")
    try:
        text = account_file.read_text(encoding="utf-8-sig")
        accounts = json.loads(text[text.index("=") + 1:])
        return str(accounts[0]["account"]["username"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def _container_records(source: Source, batches: Iterator[RecordBatch], batch_rows: int) -> Iterator[RecordBatch]:
    """JSON lines whose lines are containers (twarc2 writes one API v2 page a line): one record per tweet.

    Decided on the first lines; files of plain records pass through untouched (no parsing in Python).
    """
    expand: bool | None = None
    out = RecordBatch(source)
    seen = containers.SeenPosts()
    for batch in batches:
        if expand is None:
            expand = any(containers.is_container(_loads(line)) for line in batch.sample(5))
        if not expand:
            yield batch
            continue
        batch.split()
        out.rejects.extend(batch.rejects)
        for line_no, line in zip(batch.line_no, batch.record, strict=True):
            doc = _loads(line)
            if containers.is_container(doc):
                for item in containers.records(doc, seen=seen):
                    out.line_no.append(line_no)
                    out.record.append(json.dumps(item, ensure_ascii=False))
            else:
                out.line_no.append(line_no)
                out.record.append(line)
            if len(out.record) >= batch_rows:
                yield out
                out = RecordBatch(source)
    if out.rows_read:
        yield out


def _loads(line: str) -> object:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):  # judged (and rejected) by the mapping, like any bad line
        return None


def _text_line_batches(source: Source, stream: IO[bytes], batch_rows: int, limits: ReadLimits,
                       should_stop: Callable[[], bool] | None) -> Iterator[RecordBatch]:
    """Plain text, one comment a line (what `opinions analyze` reads): each line is a record's `text`."""
    for batch in _jsonl_batches(source, stream, batch_rows, limits, should_stop):
        batch.record = [json.dumps({"text": line.rstrip("\r")}, ensure_ascii=False) for line in batch.record]
        yield batch


def csv_column_names(header: list[str]) -> tuple[list[str], list[str]]:
    """Column names as records carry them: trimmed and lower-cased (`CONTENT` is `content`), every
    one distinct. A repeated name gets `_2`, `_3` (a later column never silently replaces an
    earlier one) and an empty one `column_N`; each rename is returned as a note."""
    names: list[str] = []
    notes: list[str] = []
    for number, raw in enumerate(header, start=1):
        name = raw.strip().lower() or f"column_{number}"
        if not _encodable(name):
            name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        if name in names:
            suffix = 2
            while f"{name}_{suffix}" in names:
                suffix += 1
            notes.append(f"CSV header repeats column {raw.strip()!r}: column {number} is read as {name}_{suffix}")
            name = f"{name}_{suffix}"
        names.append(name)
    return names, notes


def _csv_batches(source: Source, stream: IO[bytes], batch_rows: int, limits: ReadLimits,
                 should_stop: Callable[[], bool] | None, delimiter: str, no_header: bool = False) -> Iterator[RecordBatch]:
    """CSV through the stdlib reader: exact line numbers and ragged-row detection. `no_header`: the first
    line is a row too, and columns are named by position (`1`, `2`, ...).

    Bytes that are not UTF-8 are kept as escapes while parsing, so a bad byte rejects its own
    row and the rest of the file is still read.
    """
    capped = _LineCapped(stream, limits.line_bytes, limits.read_bytes, should_stop)
    text = io.TextIOWrapper(io.BufferedReader(capped, limits.read_bytes), encoding="utf-8", errors="surrogateescape",
                            newline="")
    # a quoted field may span lines: one that runs on (an unclosed quote) stops at the line cap
    csv.field_size_limit(max(csv.field_size_limit(), limits.line_bytes))
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, ReadStopped):
        if capped.rejects:  # a first line over the cap, and nothing after it
            yield RecordBatch(source, rejects=capped.take_rejects())
        return
    if no_header:  # the first line is a row: columns are named by position, 1 on (`--text-field 6`)
        names, notes = [str(number) for number in range(1, len(header) + 1)], []
        pending = [(reader.line_num, header)]
    else:
        names, notes = csv_column_names(header)
        pending = []
    batch = RecordBatch(source, notes=[f"{source.name}: {note}" for note in notes], columns=names)
    while True:
        if capped.rejects:
            batch.rejects.extend(capped.take_rejects())
        if pending:
            line_num, row = pending.pop()
        else:
            try:
                row = next(reader)
            except StopIteration:
                break
            except ReadStopped:
                break  # the run is stopping: keep the rows read whole
            except csv.Error as exc:
                batch.rejects.append((reader.line_num, f"malformed CSV row ({exc})", ""))
                continue
            line_num = reader.line_num
        if not row:
            continue
        joined = delimiter.join(row)
        if not _encodable(joined):
            raw = joined.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            batch.rejects.append((line_num, "invalid UTF-8", raw[:RAW_KEEP_CHARS]))
        elif len(row) != len(names):
            what = "the first row" if no_header else "header"
            batch.rejects.append((line_num, f"CSV row has {len(row)} fields, {what} has {len(names)}",
                                  joined[:RAW_KEEP_CHARS]))
        else:
            batch.line_no.append(line_num)
            batch.record.append(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False))
            batch.bytes += len(batch.record[-1])
        if len(batch.record) >= batch_rows or batch.bytes >= limits.chunk_bytes:
            yield batch
            batch = RecordBatch(source)
    batch.rejects.extend(capped.take_rejects())
    if batch.rows_read:
        yield batch


def _parquet_batches(source: Source, stream: IO[bytes], batch_rows: int, limits: ReadLimits) -> Iterator[RecordBatch]:
    import pyarrow.parquet as pq

    spooled = None
    # read in place only when the file is plain Parquet by its name (`x.parquet.bz2` is decompressed, spooled)
    compressed = source.name.lower().endswith(tuple(COMPRESSED_SUFFIXES))
    if source.path is not None and not compressed and _format_from_name(source.name) == "parquet":
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
    # rows per chunk from the file's own (uncompressed) row size, so 20 kB comments make small chunks
    meta = parquet.metadata
    row_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)) // max(1, meta.num_rows)
    rows_per_chunk = max(1, min(batch_rows, limits.chunk_bytes // max(1, row_bytes)))
    line = 1
    for arrow_batch in parquet.iter_batches(batch_size=rows_per_chunk):
        lines = _parquet_json_lines(arrow_batch)
        yield RecordBatch(source, list(range(line, line + len(lines))), lines, bytes=sum(map(len, lines)))
        line += len(lines)
    if spooled is not None:
        spooled.close()


def _parquet_json_lines(arrow_batch: Any) -> list[str]:
    """One JSON object per row. Polars writes the JSON, but panics on binary columns and cannot
    take decimal256, so those are made text first: binary that is UTF-8 (older writers store
    strings so) as the string, other binary and fixed-size binary (a UUID as `binary(16)`) as
    hex, and decimals as their exact decimal string (what polars writes for decimal128)."""
    import polars as pl
    import pyarrow as pa

    hex_columns = []
    columns = []
    for column, spec in zip(arrow_batch.columns, arrow_batch.schema, strict=True):
        kind = spec.type
        if pa.types.is_fixed_size_binary(kind):
            column = column.cast(pa.binary())
            hex_columns.append(spec.name)
        elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_binary_view(kind):
            try:
                column = column.cast(pa.large_string())  # checks that every value is UTF-8
            except pa.ArrowInvalid:
                hex_columns.append(spec.name)
        elif pa.types.is_decimal256(kind):
            column = column.cast(pa.large_string())
        columns.append(column)
    frame = pl.from_arrow(pa.RecordBatch.from_arrays(columns, names=arrow_batch.schema.names))
    if not isinstance(frame, pl.DataFrame) or not frame.height:
        return []
    if hex_columns:
        frame = frame.with_columns(pl.col(name).bin.encode("hex") for name in hex_columns)
    return frame.write_ndjson().splitlines()
