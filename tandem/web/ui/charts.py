"""Charts drawn on the server as SVG: no script, no library, readable by screen readers (a title
and a table of the same figures sit beside each chart)."""

from __future__ import annotations

from dataclasses import dataclass
from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
COLOURS = ("#2563eb", "#d97706", "#059669", "#7c3aed", "#dc2626", "#0891b2")


@dataclass(frozen=True)
class Line:
    name: str
    values: list[int | None]


def line_chart(title: str, labels: list[str], lines: list[Line], every: int = 1) -> Markup:
    """Lines over `labels` (one point each; None leaves a gap), a y axis from 0, a legend."""
    top_value = max([v for line in lines for v in line.values if v is not None] + [1])
    scale = _nice(top_value)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: int) -> float:
        return TOP + inner_h - inner_h * v / scale

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 22 * ((len(lines) + 3) // 4)}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for fraction in (0, 0.5, 1):
        value = scale * fraction
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" class="grid"/>'
                     f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{_count(value)}</text>')
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(label)}</text>')
    for n, line in enumerate(lines):
        colour = COLOURS[n % len(COLOURS)]
        for run in _runs(line.values):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            if len(run) == 1:
                i, v = run[0]
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"/>')
            else:
                parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        lx, ly = LEFT + (n % 4) * 150, HEIGHT + 14 + 22 * (n // 4)
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{lx + 16}" y="{ly + 1}">{escape(line.name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _runs(values: list[int | None]) -> list[list[tuple[int, int]]]:
    runs: list[list[tuple[int, int]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, v))
    return [r for r in runs if r]


def _count(value: float) -> str:
    """An axis figure short enough for the axis's margin, never in exponent form (1e+06 is 1M)."""
    for from_value, per_unit, unit in ((1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if value >= from_value:
            return f"{value / per_unit:g}{unit}"
    return f"{value:g}"


def _nice(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^n at or above `value`."""
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= value:
            return factor * magnitude
    return 10 * magnitude
