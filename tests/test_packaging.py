"""The installed package is `analyzer` alone: queries/ and reports/ install inside it, as
analyzer.queries and analyzer.reports, so site-packages gets no top-level `queries` or `reports`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from analyzer.cli import app
from tests.helpers import reddit, write_jsonl

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(900)
def test_the_wheel_installs_only_analyzer_and_its_reports_run(tmp_path, runner):
    pytest.importorskip("setuptools")
    source = tmp_path / "src"
    source.mkdir()
    for name in ("analyzer", "queries", "reports"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    # setuptools once printed ~400 lines here (a licence table, undeclared data folders): a user reads them as breakage
    assert "Warning" not in built.stderr, built.stderr[-3000:]
    [wheel] = (tmp_path / "dist").glob("opinions-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"analyzer", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "analyzer/queries/reports/topics.sql" in names and "analyzer/reports/catalog.py" in names

    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                                str(wheel)], capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-3000:]
    db = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["ingest", str(write_jsonl(tmp_path / "a.jsonl", [reddit(i) for i in range(5)])),
                                 "--db", str(db), "--tasks", "none", "--quiet"])
    assert result.exit_code == 0, result.output
    env = {**os.environ, "PYTHONPATH": str(site)}
    outside = tmp_path / "elsewhere"  # not the checkout: its folders must not be what gets imported
    outside.mkdir()
    probe = ("import analyzer, importlib.util as u; print(analyzer.__file__); "
             "print(u.find_spec('queries'), u.find_spec('reports'))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=outside, env=env, capture_output=True, text=True)
    assert done.stdout.splitlines() == [str(site / "analyzer" / "__init__.py"), "None None"], done.stderr
    report = subprocess.run([sys.executable, "-m", "analyzer.cli", "report", "topics", "--db", str(db), "-f", "csv"],
                            cwd=outside, env=env, capture_output=True, text=True)
    assert report.returncode == 0, report.stderr
    assert report.stdout.splitlines()[1].startswith("apple,5,")


def test_every_folder_that_ships_is_a_declared_package():
    """setuptools skips (and warns about) a folder of data that `packages` does not name: a new
    pack entry or SQL folder must be added to pyproject.toml, or it is missing from the wheel."""
    import tomllib

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(setup["packages"])
    roots = {"analyzer": ROOT / "analyzer", **{name: ROOT / folder for name, folder in setup["package-dir"].items()}}
    shipped = set()
    for name, folder in roots.items():
        for path in folder.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".sql", ".json",
                                                                                     ".safetensors", ".md"}:
                shipped.add(".".join((name, *path.parent.relative_to(folder).parts)))
    assert {"analyzer.pack.sentiment", "analyzer.queries.reports"} <= shipped  # the walk sees data folders
    assert sorted(shipped - declared) == []


def test_no_module_imports_the_top_level_folders_by_their_source_names():
    # in the repository `import reports` works (the folder is on sys.path), installed it does not:
    # only `analyzer.reports` / `analyzer.queries` exist there (`opinions config show` broke this way)
    import re

    pattern = re.compile(r"^\s*(from|import)\s+(queries|reports)\b", re.MULTILINE)
    root = Path(__file__).resolve().parents[1]
    offenders = [str(path.relative_to(root)) for folder in ("analyzer", "reports", "queries", "scripts", "training", "bench")
                 for path in (root / folder).rglob("*.py") if pattern.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


def _module_imports() -> dict[str, set[str]]:
    """Each analyzer module's module-level imports of other analyzer modules, `if TYPE_CHECKING:`
    ones included (a cycle there is a layering fault that a type checker trips on); imports inside
    a function run late, when everything is loaded, and are how heavy or upward calls are made."""
    import ast

    package = ROOT / "analyzer"
    names = {}
    for path in package.rglob("*.py"):
        parts = ("analyzer", *path.relative_to(package).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    for folder, dotted in (("reports", "analyzer.reports"), ("queries", "analyzer.queries")):
        for path in (ROOT / folder).rglob("*.py"):
            rest = path.relative_to(ROOT / folder).with_suffix("").parts
            names[".".join((dotted, *rest)).removesuffix(".__init__")] = path
    edges: dict[str, set[str]] = {name: set() for name in names}
    for name, path in names.items():
        body = ast.parse(path.read_text()).body
        type_checking = [inner for node in body if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                         for inner in node.body]
        for node in [*body, *type_checking]:
            if isinstance(node, ast.ImportFrom) and node.module:
                subs = {f"{node.module}.{a.name}" for a in node.names} & names.keys()
                edges[name] |= (subs or ({node.module} & names.keys())) - {name}
            elif isinstance(node, ast.Import):
                edges[name] |= {a.name for a in node.names} & names.keys() - {name}
    return edges


def test_the_modules_import_each_other_without_cycles():
    edges = _module_imports()
    assert "analyzer.tasks.classifier" in edges["analyzer.tasks.sentiment.task"]  # the scan sees imports
    done: set[str] = set()
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        for target in sorted(edges[name]):
            if target in path:
                cycles.append([*path[path.index(target):], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(name)

    for name in sorted(edges):
        if name not in done:
            visit(name, [name])
    assert cycles == []
    assert edges["analyzer.errors"] == set()  # errors imports nothing: catching costs no imports
    # settings sit below the tasks and the models: each task's folder says which model a profile runs
    assert edges["analyzer.settings"] == {"analyzer.errors"}
