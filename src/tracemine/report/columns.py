"""Fixed-width terminal tables that fit the console: one line per row, never wider than the width.

Fixed columns are as wide as their widest cell; the ``flex`` column (a title) takes what is left and is cut
with "…". When the flex column would get less than its ``min_width``, ``optional`` columns are dropped,
highest ``drop`` first — so a narrow terminal shows the essentials and a wide one shows more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text


@dataclass(frozen=True, slots=True)
class Col:
    """A column: header, alignment, whether it takes the remaining width, and when it may be dropped."""

    name: str
    justify: str = "left"
    flex: bool = False
    min_width: int = 0
    drop: int = 0
    """0: always shown; otherwise dropped when space runs out, the highest number first."""


Cell = Text | str


def layout(columns: Sequence[Col], rows: Sequence[Sequence[Cell]], width: int, gap: int = 1,
           header_style: str = "bold") -> list[Text]:
    """The header and ``rows`` as lines of at most ``width`` cells each."""
    cells = [[c if isinstance(c, Text) else Text(str(c)) for c in row] for row in rows]
    heads = [Text(c.name, style=header_style) for c in columns]
    keep = list(range(len(columns)))
    while True:
        natural = {i: max([heads[i].cell_len, *(r[i].cell_len for r in cells)]) for i in keep}
        fixed = sum(natural[i] for i in keep if not columns[i].flex) + gap * (len(keep) - 1)
        flex = [i for i in keep if columns[i].flex]
        room = width - fixed
        optional = [i for i in keep if columns[i].drop]
        if room >= sum(min(columns[i].min_width, natural[i]) for i in flex) or not optional:
            break
        keep.remove(max(optional, key=lambda i: (columns[i].drop, i)))
    widths = dict(natural)
    for n, i in enumerate(flex):  # the room left, shared out in order; each takes no more than it needs
        later = sum(min(columns[j].min_width, natural[j]) for j in flex[n + 1:])
        widths[i] = max(1, min(natural[i], room - later))
        room -= widths[i]
    lines = []
    for row in [heads, *cells]:
        line = Text()
        for n, i in enumerate(keep):
            cell = row[i].copy()
            cell.truncate(widths[i], overflow="ellipsis")
            pad = widths[i] - cell.cell_len
            last = n == len(keep) - 1
            if columns[i].justify == "right":
                cell = Text(" " * pad) + cell
            elif not last:
                cell.append(" " * pad)
            line.append_text(cell)
            if not last:
                line.append(" " * gap)
        line.truncate(width, overflow="ellipsis")
        lines.append(line)
    return lines
