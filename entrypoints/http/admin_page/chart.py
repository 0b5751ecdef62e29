"""The summary's chart as plain SVG numbers: one polyline per series, drawn on the
server so the page needs no script (and its CSP allows none).

Money and credits share one axis: a credit is worth one US cent, so both are shown
in dollars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from domain.credits import credits_as_usd

WIDTH = 720
HEIGHT = 240
PAD_LEFT = 64
PAD_BOTTOM = 28
PAD_TOP = 12
PAD_RIGHT = 28


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    colour: str
    points: str
    total: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    lines: Sequence[Line]
    y_ticks: Sequence[tuple[float, str]]
    x_ticks: Sequence[tuple[float, str]]
    left: int
    bottom: int
    right: int
    top: int


def _scale(values: Sequence[int], top: int) -> list[float]:
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    return [round(HEIGHT - PAD_BOTTOM - plot * v / top, 1) for v in values]


def chart(days: Sequence[date], series: Sequence[tuple[str, str, Sequence[int]]]) -> Chart:
    """``series``: (name, colour, one value per day in cents or credits)."""
    top = max([1, *(max(values, default=0) for _, _, values in series)])
    span = max(len(days) - 1, 1)
    xs = [round(PAD_LEFT + (WIDTH - PAD_LEFT - PAD_RIGHT) * i / span, 1) for i in range(len(days))]
    lines = [
        Line(
            name,
            colour,
            " ".join(f"{x},{y}" for x, y in zip(xs, _scale(values, top), strict=True)),
            credits_as_usd(sum(values)),
        )
        for name, colour, values in series
    ]
    y_ticks = [
        (y, f"${credits_as_usd(v)}")
        for v, y in zip((0, top // 2, top), _scale((0, top // 2, top), top), strict=True)
    ]
    step = max(len(days) // 5, 1)
    x_ticks = [(xs[i], days[i].strftime("%d %b")) for i in range(0, len(days), step)]
    return Chart(
        WIDTH,
        HEIGHT,
        lines,
        y_ticks,
        x_ticks,
        PAD_LEFT,
        HEIGHT - PAD_BOTTOM,
        WIDTH - PAD_RIGHT,
        PAD_TOP,
    )
