"""Reports: each declared once (`catalog`), run on a read-only connection (`run`), drawn by one
generic renderer (`render`, `html`) and written where asked (`output`).

Installed as `analyzer.reports` (pyproject's package-dir); the folder stays `reports/`.
"""
