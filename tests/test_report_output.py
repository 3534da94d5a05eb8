"""Report output an analyst can trust: every report declared once and built into the CLI, readable at
80 columns, in any format (named in any case), to stdout or a file, with honest units, limits and errors."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from analyzer.cli import app
from analyzer.reports.catalog import REPORTS
from analyzer.reports.render import is_fraction
from tests.helpers import reddit, sql, write_jsonl

DAY = 86_400
START = 1_759_276_800  # 2025-10-01 00:00 UTC


@pytest.fixture(scope="module")
def brand_db(tmp_path_factory, tiny_models):
    """#brand is said 12 times in topic 'zeta' and twice in 'alpha'; 'zeta' grows over six days."""
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("brand")
    records, i = [], 0
    for day in range(6):
        for topic, count in (("zeta", 2), ("alpha", 1 if day < 2 else 0), ("beta", 1)):
            for _ in range(count):
                records.append(reddit(i, body=f"talking about #brand and the weather number {i}", sub=topic,
                                      t=START + day * DAY - i * 60))
                i += 1
    records.append("{not json")
    db = folder / "brand.duckdb"
    env = {"OPINIONS_SENTIMENT_MODEL": str(tiny_models["sentiment"]), "OPINIONS_NER_MODEL": str(tiny_models["ner"])}
    result = CliRunner().invoke(app, ["ingest", str(write_jsonl(folder / "b.jsonl", records)), "--db", str(db),
                                      "--device", "cpu", "--quiet"], env=env)
    assert result.exit_code == 0, result.output
    return db


def run(runner, db, *args, env=None):
    return runner.invoke(app, ["report", *args, "--db", str(db)], env={"COLUMNS": "80", **(env or {})})


def test_every_declared_report_is_a_command_with_its_declared_options(runner):
    listed = runner.invoke(app, ["report", "--help"], env={"COLUMNS": "200"})
    for spec in REPORTS.values():
        assert spec.name in listed.stdout
        shown = runner.invoke(app, ["report", spec.name, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0, shown.output
        for param in spec.params:
            assert param.argument or param.option in shown.stdout, (spec.name, param.option)
        for common in ("--format", "--output", "--section", "--limit", "--wide", "--timeout", "--db"):
            assert common in shown.stdout, (spec.name, common)


def test_format_names_are_case_insensitive_and_unknown_ones_are_refused(runner, brand_db):
    upper = run(runner, brand_db, "topics", "-f", "JSON")
    assert upper.exit_code == 0, upper.output
    assert json.loads(upper.stdout) == json.loads(run(runner, brand_db, "topics", "-f", "json").stdout)
    bad = run(runner, brand_db, "topics", "-f", "xml")
    assert bad.exit_code == 1 and "choose one of table, json, jsonl" in bad.stderr


def test_jsonl_has_one_object_a_row_and_names_the_section_when_there_are_several(runner, brand_db):
    whole = json.loads(run(runner, brand_db, "topic", "zeta", "-f", "json").stdout)
    lines = [json.loads(line) for line in run(runner, brand_db, "topic", "zeta", "-f", "jsonl").stdout.splitlines()]
    for name, rows in whole.items():
        assert [{k: v for k, v in line.items() if k != "section"} for line in lines if line["section"] == name] == rows
    single = [json.loads(line) for line in run(runner, brand_db, "topics", "-f", "jsonl").stdout.splitlines()]
    assert single == json.loads(run(runner, brand_db, "topics", "-f", "json").stdout)


def test_csv_is_one_section_chosen_or_one_file_per_section(runner, brand_db, tmp_path):
    several = run(runner, brand_db, "topic", "zeta", "-f", "csv")
    assert several.exit_code == 1 and "--section" in several.stderr and "-o FILE" in several.stderr
    whole = json.loads(run(runner, brand_db, "topic", "zeta", "-f", "json").stdout)
    chosen = run(runner, brand_db, "topic", "zeta", "-f", "csv", "--section", "trend")
    assert chosen.exit_code == 0, chosen.output
    assert "#" not in chosen.stdout  # no comment lines that a hashtag could be taken for
    trend = list(csv.DictReader(io.StringIO(chosen.stdout)))
    assert [(r["period"], int(r["comments"])) for r in trend] == [(r["period"], r["comments"]) for r in whole["trend"]]
    files = run(runner, brand_db, "topic", "zeta", "-f", "csv", "-o", str(tmp_path / "zeta.csv"))
    assert files.exit_code == 0, files.output
    assert sorted(p.name for p in tmp_path.glob("zeta-*.csv")) == sorted(f"zeta-{name}.csv" for name in whole)
    entities = list(csv.DictReader((tmp_path / "zeta-entities.csv").open()))
    assert [r["entity"] for r in entities] == [r["entity"] for r in whole["entities"]]
    unknown = run(runner, brand_db, "topic", "zeta", "--section", "nope")
    assert unknown.exit_code == 1 and "no section 'nope'" in unknown.stderr


@pytest.mark.parametrize("fmt", ["json", "jsonl", "markdown", "html", "table"])
def test_output_file_holds_what_stdout_shows(runner, brand_db, tmp_path, fmt):
    target = tmp_path / f"out.{fmt}"
    written = run(runner, brand_db, "entities", "-f", fmt, "-o", str(target))
    assert written.exit_code == 0 and written.stdout == ""
    shown = run(runner, brand_db, "entities", "-f", fmt).stdout
    strip = (lambda t: re.sub(r"generated [^<]+ UTC", "", t)) if fmt == "html" else (lambda t: t)
    assert strip(target.read_text()) == strip(shown)


def test_shares_are_percent_for_people_and_fractions_for_machines(runner, brand_db):
    assert all(is_fraction(c) for c in ("positive", "negative", "negative_share", "usual_negative", "share"))
    assert not any(is_fraction(c) for c in ("confidence", "net_sentiment", "volume_z", "comments"))
    [row] = [r for r in json.loads(run(runner, brand_db, "topics", "-f", "json").stdout) if r["topic"] == "zeta"]
    assert 0 <= row["negative"] <= 1
    markdown = run(runner, brand_db, "topics", "-f", "markdown").stdout
    [line] = [line for line in markdown.splitlines() if line.startswith("| zeta |")]
    assert f"{row['negative'] * 100:.1f}%" in line


def test_an_entitys_topics_are_ordered_by_its_mentions(runner, brand_db):
    rows = json.loads(run(runner, brand_db, "entities", "--label", "HASHTAG", "-f", "json").stdout)
    [brand] = [r for r in rows if r["entity"] == "#brand"]
    assert brand["topics"] == "zeta, beta, alpha"  # 12, 6 and 2 mentions: not alphabetical


@pytest.mark.parametrize(("args", "message"), [
    (["topic", "nosuchtopic"], "no topic named 'nosuchtopic'"),
    (["trend", "zeta", "nosuchtopic"], "no topic named 'nosuchtopic'"),
    (["entities", "--topic", "nosuchtopic"], "no topic named 'nosuchtopic'"),
    (["entities", "--label", "FOO"], "no entities labelled 'FOO'; labels in this database: HASHTAG"),
    (["trend", "--by", "year"], "--by 'year': choose one of day, week, month"),
])
def test_an_unknown_topic_label_or_choice_is_exit_1_with_a_clear_message(runner, brand_db, args, message):
    for fmt in ("table", "json"):
        result = run(runner, brand_db, *args, "-f", fmt)
        assert result.exit_code == 1 and message in result.stderr and result.stdout == ""


def test_limit_says_how_many_rows_it_left_out(runner, brand_db):
    total = sql(brand_db, "SELECT count(DISTINCT topic) FROM comment_topics")[0][0]
    table = run(runner, brand_db, "topics", "--limit", "2")
    assert table.exit_code == 0 and f"showing 2 of {total} rows" in table.stdout
    as_json = run(runner, brand_db, "topics", "--limit", "2", "-f", "json")
    assert len(json.loads(as_json.stdout)) == 2 and f"showing 2 of {total} rows" in as_json.stderr
    trend = run(runner, brand_db, "trend", "zeta", "--limit", "2", "-f", "json")
    assert [r["period"] for r in json.loads(trend.stdout)] == ["2025-10-05", "2025-10-06"]  # the latest two
    everything = run(runner, brand_db, "topics")
    assert "showing" not in everything.stdout


def test_every_report_fits_80_columns_without_splitting_numbers(runner, brand_db):
    for args in (["runs"], ["topics"], ["topic", "zeta"], ["entities"], ["trend", "zeta", "alpha"], ["alerts"],
                 ["rejects"]):
        result = run(runner, brand_db, *args)
        assert result.exit_code == 0, (args, result.output)
        wide = [line for line in result.stdout.splitlines() if len(line) > 80]
        assert wide == [], args
    runs = run(runner, brand_db, "runs").stdout
    [data] = [line for line in runs.splitlines() if line.startswith("│ ") and "completed" in line]
    read = sql(brand_db, "SELECT rows_read FROM runs")[0][0]
    assert f" {read} " in data  # the whole number on the run's one line
    assert "rows_duplicate" not in runs and "rows_duplicate" in run(runner, brand_db, "runs", "--wide",
                                                                     env={"COLUMNS": "300"}).stdout


def test_html_tables_scroll_in_their_own_box_and_charts_scale(runner, brand_db):
    page = run(runner, brand_db, "topic", "zeta", "-f", "html").stdout
    assert "<title>Topic zeta: trend, entities, strongest comments and summary · opinions</title>" in page
    assert ".table-box{max-width:100%;overflow-x:auto" in page
    assert page.count('<div class="table-box"><table>') == page.count("<table>") > 0
    assert re.search(r'<svg class="chart"[^>]*viewBox="0 0 \d+ \d+"', page)
    assert not re.search(r"<svg[^>]* width=", page)  # width comes from the page (CSS), not fixed pixels
    assert "svg.chart{display:block;width:100%" in page


def test_a_summary_is_never_cut_in_any_format(runner, brand_db, tmp_path):
    import shutil

    import duckdb

    db = tmp_path / "summary.duckdb"
    shutil.copy(brand_db, db)
    summary = " ".join(f"Sentence {i} says something people said about zeta." for i in range(20))
    assert len(summary) > 600
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO summaries (topic, period_start, period_end, method, model, summary, n_comments, "
                    "created_at) VALUES ('zeta', NULL, NULL, 'extractive', 'test', $s, 12, now())", {"s": summary})
    for fmt in ("markdown", "html", "json", "jsonl"):
        out = run(runner, db, "topic", "zeta", "-f", fmt, "--section", "summary").stdout
        assert summary in out, fmt
    table = run(runner, db, "topic", "zeta", "--section", "summary", env={"COLUMNS": "80"}).stdout
    assert "Sentence 19 says" in table and "…" not in table


def test_version(runner):
    from analyzer import __version__
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"opinions {__version__}"


# A comment is written by anyone on the internet: what it holds must reach a terminal, a markdown viewer
# and a spreadsheet as text, never as commands (issue 35, points 1-3). Stored text stays as it was.
HOSTILE_TEXT = ("hidden\x1b[1A\x1b[2K row \x1b]0;owned\x07 \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ "
                "\x9b31m \u202egnp.exe <script>alert(1)</script> [x](javascript:alert(1)) \\[y\\](javascript:1)")
HOSTILE_AUTHOR = "=HYPERLINK(\"http://evil\",\"click\")"
HOSTILE_TOPIC = "\x1b[8mtopic\u2066"
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("hostile")
    records = [reddit(1, body=HOSTILE_TEXT, sub=HOSTILE_TOPIC, author=HOSTILE_AUTHOR),
               reddit(2, body="+cmd|' /C calc'!A0", sub=HOSTILE_TOPIC, author="@SUM(1+1)"),
               reddit(3, body="-2+3", sub=HOSTILE_TOPIC, author="\tplain")]
    db = folder / "hostile.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(write_jsonl(folder / "h.jsonl", records)), "--db", str(db),
                                      "--tasks", "none", "--quiet"])
    assert result.exit_code == 0, result.output
    assert sql(db, "SELECT text FROM comments WHERE id = 't1_c1'") == [(HOSTILE_TEXT,)]  # stored untouched
    return db


def test_no_control_character_from_the_data_reaches_a_terminal_or_markdown(runner, hostile_db):
    shown = [run(runner, hostile_db, "topics"), run(runner, hostile_db, "topics", "-f", "markdown"),
             run(runner, hostile_db, "topic", HOSTILE_TOPIC.lower()),
             run(runner, hostile_db, "topic", HOSTILE_TOPIC.lower(), "-f", "markdown")]
    for fmt in ("table", "markdown", "html"):
        shown.append(runner.invoke(app, ["query", "SELECT author, topic, text FROM comments ORDER BY id",
                                         "--db", str(hostile_db), "-f", fmt], env={"COLUMNS": "80"}))
    shown.append(runner.invoke(app, ["query", "PIVOT (SELECT text, 1 AS n FROM comments) ON text USING sum(n)",
                                     "--db", str(hostile_db)], env={"COLUMNS": "80"}))
    for result in shown:
        assert result.exit_code == 0, result.output
        assert not CONTROL_CHARACTERS.search(result.stdout), result.stdout
    table = shown[4].stdout
    assert "\\x1b" in table and "\\u202e" in table  # shown as visible escapes, not dropped


def test_markdown_shows_html_and_link_syntax_as_text(runner, hostile_db):
    result = runner.invoke(app, ["query", "SELECT text FROM comments WHERE id = 't1_c1'", "--db", str(hostile_db),
                                 "-f", "markdown"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "](javascript:" not in out.replace("\\](javascript:", "")  # every ] before a link target is escaped
    assert "\\[x\\](javascript:alert(1))" in out and "\\\\\\[y\\\\\\](javascript:1)" in out


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_cells_that_a_spreadsheet_would_run_get_a_leading_quote(runner, hostile_db, tmp_path):
    statement = "SELECT author, text, -1.5 AS net, score FROM comments ORDER BY id"
    streamed = runner.invoke(app, ["query", statement, "--db", str(hostile_db), "-f", "csv"])
    to_file = runner.invoke(app, ["query", statement, "--db", str(hostile_db), "-f", "csv", "-o", str(tmp_path / "q.csv")])
    assert streamed.exit_code == 0 and to_file.exit_code == 0, streamed.output + to_file.output
    for rows in (_csv_rows(streamed.stdout), _csv_rows((tmp_path / "q.csv").read_text())):
        assert [row[0] for row in rows[1:]] == ["'" + HOSTILE_AUTHOR, "'@SUM(1+1)", "'\tplain"]
        assert rows[2][1] == "'+cmd|' /C calc'!A0" and rows[3][1] == "'-2+3"
        assert {row[2] for row in rows[1:]} == {"-1.5"}  # a number stays a number
    raw = runner.invoke(app, ["query", statement, "--db", str(hostile_db), "-f", "csv", "--raw-cells"])
    assert [row[0] for row in _csv_rows(raw.stdout)[1:]] == [HOSTILE_AUTHOR, "@SUM(1+1)", "\tplain"]

    exported = runner.invoke(app, ["export", "table", "comments", str(tmp_path / "c.csv"), "--db", str(hostile_db)])
    assert exported.exit_code == 0, exported.output
    rows = _csv_rows((tmp_path / "c.csv").read_text())
    authors = sorted(row[rows[0].index("author")] for row in rows[1:])
    assert authors == sorted(["'" + HOSTILE_AUTHOR, "'@SUM(1+1)", "'\tplain"])
    raw_export = runner.invoke(app, ["export", "table", "comments", str(tmp_path / "r.csv"), "--db", str(hostile_db),
                                     "--raw-cells"])
    assert raw_export.exit_code == 0, raw_export.output
    rows = _csv_rows((tmp_path / "r.csv").read_text())
    assert HOSTILE_AUTHOR in {row[rows[0].index("author")] for row in rows[1:]}

    report = run(runner, hostile_db, "topic", HOSTILE_TOPIC.lower(), "--section", "most_positive", "-f", "csv")
    assert report.exit_code == 0, report.output
    assert not any(cell.startswith(("=", "+", "-", "@", "\t")) for row in _csv_rows(report.stdout) for cell in row
                   if not re.fullmatch(r"-?[\d.]+", cell))


def test_file_names_in_log_and_error_lines_cannot_forge_lines(runner, tmp_path):
    bad = tmp_path / "x\x1b]0;owned\x07\nopinions: run 9 completed.jsonl"
    bad.write_bytes(b"\x00\x01\x02 binary")
    good = write_jsonl(tmp_path / "good.jsonl", [reddit(1)])
    ingested = runner.invoke(app, ["ingest", str(bad), str(good), "--db", str(tmp_path / "o.duckdb"), "--tasks", "none"])
    assert ingested.exit_code == 0, ingested.output
    missing = runner.invoke(app, ["ingest", str(tmp_path / "gone\x1b[2K\r.jsonl"), "--db", str(tmp_path / "o.duckdb")])
    assert missing.exit_code == 1
    for stderr in (ingested.stderr, missing.stderr):
        assert not CONTROL_CHARACTERS.search(stderr), stderr
    assert "opinions: run 9" not in "\n".join(line for line in ingested.stderr.splitlines() if line.startswith("opinions"))
    assert "x\\x1b]0;owned\\x07\\x0aopinions: run 9 completed.jsonl" in ingested.stderr
