"""Numeric dates: is `2/10/2015` the 10th of February or the 2nd of October?

A value cannot tell, but a file can: in a column of US dates some day is above 12
(`2/24/2015`), in a column of European dates some first number is. The order is decided per
file from its first chunk, and a file where no value decides it is refused with the
`--time-format` to pass, never read in a guessed order.
"""

from __future__ import annotations

import re

from analyzer.errors import OpinionsError
from analyzer.sources.reader import SourceError

_TIMES = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")
_SHAPE = re.compile(r"^\s*\d{1,2}([/.-])\d{1,2}[/.-](\d{2,4})(\s+\d{1,2}:\d{2}(:\d{2})?)?")


class TimeFormatError(OpinionsError, ValueError):
    """A --time-format that DuckDB's strptime cannot use."""


def check_time_format(fmt: str) -> str:
    """`fmt` if DuckDB's strptime (which reads the time field) accepts it, else TimeFormatError; asked of
    DuckDB itself, before a run starts (`%Q` recorded a failed run with a raw DuckDB message)."""
    import duckdb

    if "%" not in fmt:
        raise TimeFormatError(f"{fmt!r} has no % directive: give a strptime format such as '%m/%d/%Y %H:%M'")
    with duckdb.connect() as con:
        try:
            con.execute("SELECT try_strptime('', $fmt)", {"fmt": fmt})
        except duckdb.InvalidInputException as exc:
            reason = str(exc).split("Failed to parse format specifier", 1)[-1].strip(" :")
            raise TimeFormatError(f"{fmt!r} is not a strptime format DuckDB reads ({reason}); "
                                  "e.g. '%m/%d/%Y %H:%M'") from None
    return fmt


def _formats(first: str, second: str) -> list[str]:
    formats = []
    for sep in "/.-":
        for year in ("%Y", "%y"):
            day = f"{first}{sep}{second}{sep}{year}"
            formats.extend([f"{day} {time}" for time in _TIMES] + [day])
    return formats


MONTH_FIRST = _formats("%m", "%d")
DAY_FIRST = _formats("%d", "%m")


def suggested_format(example: str, month_first: bool = True) -> str:
    """A strptime format for `example` (`2/10/2015 11:35` → `%m/%d/%Y %H:%M`)."""
    match = _SHAPE.match(example)
    if not match:
        return "%m/%d/%Y %H:%M"
    sep, year, time, seconds = match.groups()
    date = sep.join(("%m", "%d") if month_first else ("%d", "%m")) + sep + ("%Y" if len(year) == 4 else "%y")
    return date + ("" if not time else " %H:%M:%S" if seconds else " %H:%M")


def numeric_date_formats(source: str, numeric_dates: int, day_first: int, month_first: int,
                         example: str | None) -> list[str]:
    """The strptime formats for a file's numeric dates, from the counts of `date_order.sql`.

    Raises SourceError when the file's dates do not decide the order (or contradict each other).
    """
    if not numeric_dates:
        return []
    if month_first and not day_first:
        return MONTH_FIRST
    if day_first and not month_first:
        return DAY_FIRST
    us, eu = suggested_format(example or "", True), suggested_format(example or "", False)
    if day_first and month_first:
        raise SourceError(source, f"numeric dates in both orders ({day_first:,} day/month, {month_first:,} "
                                  f"month/day, e.g. {example!r}): pass --time-format '{us}' or '{eu}'; "
                                  "rows in the other order are then rejected")
    raise SourceError(source, f"ambiguous dates: no value decides whether {example!r} is month/day or day/month; "
                              f"pass --time-format '{us}' (US) or --time-format '{eu}'")
