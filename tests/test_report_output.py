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
