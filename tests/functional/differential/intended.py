"""The table of intended differences from os-vif 5.x, as the suite reads it.

The table is ``doc/source/operators/differences_from_5x.csv``, which the
operators' page "Differences from os-vif 5.x" also shows.  Its columns:

``Difference``
    a pattern over the difference strings the suite reports (see
    :mod:`.normalise`), e.g. ``step * (plug * by ours): link tap*.alias:
    5.3.0=None ours=*``; ``*`` stands for any text, every other character
    for itself.  Written between double backquotes, so that the page
    shows it as it is.
``Scenarios``
    a pattern over scenario names (``*``: all), also between double
    backquotes.
``What``
    what operators see, in words.
``Why``
    why this release differs on purpose.

A row whose ``What`` and ``Why`` are empty adds a pattern to the entry
above it (one reason, several lines of differences).  A difference that
no row covers fails its scenario; a row that covers nothing in a full run
is reported as stale.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import os
import re

__all__ = ["TABLE", "Entry", "load"]

#: Where the table is.
TABLE = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "doc", "source",
    "operators", "differences_from_5x.csv",
)


def _literal(cell: str) -> str:
    # Patterns are written as ``literals`` so that the page shows their
    # stars as they are.
    cell = cell.strip()
    if cell.startswith("``") and cell.endswith("``") and len(cell) > 4:
        cell = cell[2:-2]
    return cell


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(
        "^" + ".*".join(re.escape(part) for part in text.split("*")) + "$",
        re.DOTALL,
    )


@dataclasses.dataclass(frozen=True)
class Entry:
    """One row of the table."""

    difference: str
    scenarios: str
    what: str
    why: str
    line: int

    @functools.cached_property
    def _difference(self) -> re.Pattern[str]:
        return _pattern(self.difference)

    @functools.cached_property
    def _scenarios(self) -> re.Pattern[str]:
        return _pattern(self.scenarios)

    def covers(self, scenario: str, difference: str) -> bool:
        """Say whether this entry covers ``difference`` in ``scenario``."""
        return bool(
            self._scenarios.match(scenario)
            and self._difference.match(difference)
        )


def load(path: str = TABLE) -> tuple[Entry, ...]:
    """Read the table (the first row names the columns)."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    entries: list[Entry] = []
    for number, row in enumerate(rows, start=2):
        what, why = row["What"].strip(), row["Why"].strip()
        if not what and not why:
            if not entries:
                raise ValueError("%s:%d: a continuation row comes first"
                                 % (path, number))
            what, why = entries[-1].what, entries[-1].why
        entries.append(
            Entry(
                difference=_literal(row["Difference"]),
                scenarios=_literal(row["Scenarios"]) or "*",
                what=what,
                why=why,
                line=number,
            )
        )
    return tuple(entries)
