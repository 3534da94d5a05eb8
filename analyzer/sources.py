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
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from analyzer import containers

# rows per chunk: each chunk is one mapping query and one write transaction, and every write
# reopens and checkpoints the database (so readers get in between), a cost that grows with the
# table. Measured (--tasks none, peak RSS on 200k / 2M rows, 2M wall): 50k-row chunks 388 / 512
# MiB, 49.7 s; 100k 541 / 600 MiB, 36.0 s; 200k 778 / 1,002 MiB, 30.0 s. 100k keeps memory flat.
# With the next chunk mapped while one is written (ingest._mapped_batches): 100k 620 / 751 MiB,
# 19.4 s; 150k 721 / 1,118 MiB, 18.9 s; 250k 802 / 1,564 MiB, 16.5 s.
BATCH_ROWS = 100_000
BLOCK_BYTES = 8 << 20
READ_BYTES = 1 << 20  # small reads: a damaged stream loses at most this much before the damage
MAX_JSON_DEPTH = 200  # real records nest under 10 levels; deeper is a poison file (see _JsonGuard)
RAW_KEEP_CHARS = 65_536  # how much of a rejected record we keep in `rejects.raw`
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PARQUET_MAGIC = b"PAR1"
TWEETS_JS_PREFIX = b"window.YTD."
UTF8_BOM = b"\xef\xbb\xbf"
HEAD_BYTES = 1 << 20  # what format detection looks at: enough for a JSON line or a page of a pretty-printed document
CSV_DELIMITERS = ",;\t|"
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
    notes: list[str] = field(default_factory=list)  # what the reader decided for the user to know (renamed columns)

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
    if lower.endswith(".txt"):
        return "text"
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


def read_batches(source: Source, batch_rows: int = BATCH_ROWS, delimiter: str | None = None) -> Iterator[RecordBatch]:
    """Yield record batches from one source; raises SourceError if it cannot be read at all.

    The format comes from the bytes (see `sniff_format`); the name only tells CSV, TSV and
    plain text apart. `delimiter` forces the CSV delimiter (else it is sniffed).
    """
    raw = _open_raw(source)
    try:
        stream, head = _with_head(_decompressed(raw))
        fmt = sniff_format(head, source.name if source.path is not None else None)
        if fmt is None:
            raise SourceError(source.name, "not a text dump (binary content)")
        if fmt == "jsonl":
            yield from _container_records(source, _jsonl_batches(source, stream, batch_rows), batch_rows)
        elif fmt == "json":
            yield from _json_document_batches(source, stream, batch_rows)
        elif fmt == "text":
            yield from _text_line_batches(source, stream, batch_rows)
        elif fmt in {"csv", "tsv"}:
            if delimiter is None:
                delimiter = "\t" if fmt == "tsv" else sniff_delimiter(head)
            yield from _csv_batches(source, stream, batch_rows, delimiter=delimiter)
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
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _with_head(stream: IO[bytes]) -> tuple[IO[bytes], bytes]:
    """Read the first HEAD_BYTES (without a UTF-8 byte order mark) and give back a stream that still starts there."""
    head = b""
    while len(head) < HEAD_BYTES:
        chunk = stream.read(HEAD_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    if head.startswith(UTF8_BOM):  # Excel and Windows tools write one; it is not part of the first value or column
        head = head[len(UTF8_BOM):]
    return io.BufferedReader(_Chained(head, stream), buffer_size=1 << 20), head


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
    if stripped.startswith(TWEETS_JS_PREFIX) or stripped.startswith(b"["):
        return "json"
    by_name = _format_from_name(name) if name else None
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
    return "csv"


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
        rows: list[list[str]] = []
        try:
            for row in csv.reader(io.StringIO(sample, newline=""), delimiter=candidate):
                if row:
                    rows.append(row)
                if len(rows) >= 50:
                    break
        except csv.Error:
            pass  # judged on the rows before the damage; the reader rejects the damaged row itself
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


class JsonTooDeep(ValueError):
    """A JSON document nests deeper than MAX_JSON_DEPTH (a poison file, not a dump)."""


class _JsonGuard(io.RawIOBase):
    """The bytes of a JSON document on their way to the parser, made safe to parse.

    - Each lone UTF-16 surrogate escape (`\\ud800` without its pair) becomes `\\uffff`. The
      parser behind ijson reads a lone surrogate as "?", which would store a changed text
      silently; DuckDB refuses such a JSON line. A noncharacter in its place lets the reader
      refuse the record, as for JSON lines. Pairs (emoji escaped as `\\ud83d\\ude00`) pass.
    - A run of more than MAX_JSON_DEPTH nested openings (`[[[[`, `{"a":{"a":`) ends the
      document before the parser sees it (`failure` says why): ijson's memory grows with the
      square of the depth (30k levels took 2.3 GB). Found by a regular expression, in C.
    """

    _ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
    # opener first, possessive quantifiers: 4x faster than the plain form (0.28 s per 8 MiB of tweets)
    _DEEP = re.compile(rb'[\[{](?:\s*+(?:"[^"\\]{0,256}+"\s*+:\s*+)?+[\[{]){%d}' % MAX_JSON_DEPTH)

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._pending = b""
        self._ready = b""
        self._seen = b""  # the end of what was already passed on: a deep run can span two reads
        self._offset = 0
        self.failure: JsonTooDeep | None = None

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
            high = match.group()[3:4].lower() in b"89ab"
            following = self._ESCAPE.match(data, match.end())
            if high and following and following.group()[3:4].lower() in b"cdef":
                position = following.end()  # a proper pair
                continue
            pieces += [data[start:match.start()], b"\\uffff"]
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


def _json_document_batches(source: Source, stream: IO[bytes], batch_rows: int) -> Iterator[RecordBatch]:
    """A JSON array of records, a Twitter archive (`tweets.js`), API v2 pages, an ActivityPub outbox.

    An array is streamed element by element; a file of objects (one, or several one after
    the other) is read one top-level object at a time. Containers (pages, outboxes, archive
    entries) become their records (`containers.records`); a record's number is its position
    among the file's records.
    """
    import ijson

    head = _peek(stream, 64).lstrip()
    author = None
    if head.startswith(TWEETS_JS_PREFIX):
        stream = io.BufferedReader(_SkipPrefix(stream))
        head = _peek(stream, 64).lstrip()
        author = _archive_account(source)
    guard = _JsonGuard(stream)
    stream = io.BufferedReader(guard, buffer_size=1 << 20)
    values = ijson.items(stream, "item", use_float=True) if head.startswith(b"[") else ijson.items(
        stream, "", use_float=True, multiple_values=True)
    batch = RecordBatch(source)
    index = 0
    try:
        for value in values:
            # a plain record (the common case) skips the container machinery
            items = (value,) if author is None and not containers.is_container(value) else containers.records(value, author)
            for item in items:
                index += 1
                record = json.dumps(item, ensure_ascii=False)
                if "\uffff" in record:
                    # JSON lines with the same escape are refused by the JSON parser: be consistent
                    batch.rejects.append((index, "malformed JSON (a lone UTF-16 surrogate)", record[:RAW_KEEP_CHARS]))
                else:
                    batch.line_no.append(index)
                    batch.record.append(record)
                if len(batch.record) >= batch_rows:
                    yield batch
                    batch = RecordBatch(source)
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
    for batch in batches:
        if expand is None:
            expand = any(containers.is_container(_loads(line)) for line in batch.record[:5])
        if not expand:
            yield batch
            continue
        out.rejects.extend(batch.rejects)
        for line_no, line in zip(batch.line_no, batch.record, strict=True):
            doc = _loads(line)
            if containers.is_container(doc):
                for item in containers.records(doc):
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


def _text_line_batches(source: Source, stream: IO[bytes], batch_rows: int) -> Iterator[RecordBatch]:
    """Plain text, one comment a line (what `opinions analyze` reads): each line is a record's `text`."""
    for batch in _jsonl_batches(source, stream, batch_rows):
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


def _csv_batches(source: Source, stream: IO[bytes], batch_rows: int, delimiter: str) -> Iterator[RecordBatch]:
    """CSV through the stdlib reader: exact line numbers and ragged-row detection.

    Bytes that are not UTF-8 are kept as escapes while parsing, so a bad byte rejects its own
    row and the rest of the file is still read.
    """
    text = io.TextIOWrapper(_peekable(stream), encoding="utf-8", errors="surrogateescape", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    names, notes = csv_column_names(header)
    batch = RecordBatch(source, notes=[f"{source.name}: {note}" for note in notes])
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            batch.rejects.append((reader.line_num, f"malformed CSV row ({exc})", ""))
            continue
        if not row:
            continue
        joined = delimiter.join(row)
        if not _encodable(joined):
            raw = joined.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            batch.rejects.append((reader.line_num, "invalid UTF-8", raw[:RAW_KEEP_CHARS]))
        elif len(row) != len(names):
            batch.rejects.append((reader.line_num, f"CSV row has {len(row)} fields, header has {len(names)}",
                                  joined[:RAW_KEEP_CHARS]))
        else:
            batch.line_no.append(reader.line_num)
            batch.record.append(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False))
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
