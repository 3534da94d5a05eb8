"""The errors a user can cause and fix: each module raises its own subclass of `OpinionsError`,
and the CLI prints any of them as one line (exit 1). This module imports nothing, so every
module can import it and catching it costs no imports.
"""

from __future__ import annotations


class OpinionsError(Exception):
    """Base of every error that is the user's to fix (bad input, settings, files, a locked or full database)."""


# what the CLI prints as one line without a traceback: ours, and the OS's about the user's files
USER_ERRORS: tuple[type[BaseException], ...] = (OpinionsError, FileNotFoundError, PermissionError)
