"""Report rendering: one generic renderer for every report and format."""

from reports.render import FORMATS, Section, render

__all__ = ["FORMATS", "Section", "render"]
