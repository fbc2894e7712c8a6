"""Charts drawn on the server as SVG: no script, no build step, readable without colour.

Each series has its own fill pattern (solid, hatched, dotted, cross-hatched) as well as its
shade, every bar carries its number, and the page puts the same numbers in a table beside
the chart for screen readers (the SVG is `role="img"` with a title that says so). Only
presentation attributes are used, never `style`, so the strict CSP holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

INK = "#1a1a1c"
GRID = "#949497"
# Dark enough against white for graphical objects (WCAG 1.4.11, 3:1), each with its pattern.
SHADES = ("#0017c1", "#00118f", "#264af4", "#000060")
PATTERNS = ("solid", "hatch", "dots", "cross")


@dataclass(frozen=True)
class Series:
    label: str
    values: list[int]


def _defs(prefix: str, count: int) -> SafeString:
    parts = []
    for index in range(count):
        kind = PATTERNS[index % len(PATTERNS)]
        shade = SHADES[index % len(SHADES)]
        pid = f"{prefix}-p{index}"
        if kind == "solid":
            body = format_html('<rect width="8" height="8" fill="{}"/>', shade)
        elif kind == "hatch":
            body = format_html(
                '<rect width="8" height="8" fill="#ffffff"/><path d="M0,8 L8,0 M-2,2 L2,-2 M6,10 L10,6" '
                'stroke="{}" stroke-width="2.5"/>',
                shade,
            )
        elif kind == "dots":
            body = format_html(
                '<rect width="8" height="8" fill="#ffffff"/><circle cx="4" cy="4" r="2.2" fill="{}"/>', shade
            )
        else:
            body = format_html(
                '<rect width="8" height="8" fill="#ffffff"/><path d="M0,0 L8,8 M8,0 L0,8" '
                'stroke="{}" stroke-width="1.8"/>',
                shade,
            )
        parts.append(
            format_html(
                '<pattern id="{}" width="8" height="8" patternUnits="userSpaceOnUse">{}</pattern>', pid, body
            )
        )
    return format_html("<defs>{}</defs>", mark_safe("".join(parts)))  # noqa: S308 (built with format_html)


def _n(value: float) -> str:
    return f"{value:.1f}"


def _fill(prefix: str, index: int) -> str:
    return f"url(#{prefix}-p{index})"


def _svg(prefix: str, title: str, width: int, height: int, body: str) -> SafeString:
    return format_html(
        '<svg class="chart" role="img" aria-labelledby="{p}-title" viewBox="0 0 {w} {h}" '
        'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{p}-title">{t}</title>{b}</svg>',
        p=prefix,
        w=width,
        h=height,
        t=title,
        b=mark_safe(body),  # noqa: S308 (every piece is built with format_html)
    )


def _legend(prefix: str, series: list[Series], x: int, y: int) -> str:
    items = []
    for index, one in enumerate(series):
        items.append(
            format_html(
                '<rect x="{}" y="{}" width="14" height="14" fill="{}" stroke="{}"/>'
                '<text x="{}" y="{}" font-size="12" fill="{}">{}</text>',
                x,
                y + index * 20,
                _fill(prefix, index),
                INK,
                x + 20,
                y + index * 20 + 12,
                INK,
                one.label,
            )
        )
    return "".join(items)


def stacked_columns(prefix: str, title: str, labels: list[str], series: list[Series]) -> SafeString:
    """Vertical columns, one per label, each stacked by series (e.g. intake by hour × channel)."""
    totals = [sum(one.values[i] for one in series) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    column, gap, left, plot_h, base = 26, 6, 36, 180, 200
    width = left + len(labels) * (column + gap) + 170
    parts = [str(_defs(prefix, len(series)))]
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>', left, base, width - 170, base, GRID
        )
    )
    for i, label in enumerate(labels):
        x = left + i * (column + gap)
        y: float = base
        for index, one in enumerate(series):
            value = one.values[i]
            if not value:
                continue
            h = value / top * plot_h
            y -= h
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" stroke-width="0.5"/>',
                    x,
                    _n(y),
                    column,
                    _n(h),
                    _fill(prefix, index),
                    INK,
                )
            )
        if totals[i]:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="{}">{}</text>',
                    _n(x + column / 2),
                    _n(y - 4),
                    INK,
                    totals[i],
                )
            )
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="{}">{}</text>',
                _n(x + column / 2),
                base + 15,
                INK,
                label,
            )
        )
    parts.append(_legend(prefix, series, width - 160, 10))
    return _svg(prefix, title, width, base + 25, "".join(parts))


def bars(prefix: str, title: str, rows: list[tuple[str, int]]) -> SafeString:
    """Horizontal bars with their label on the left and their number at the end."""
    top = max((value for _, value in rows), default=0) or 1
    label_w, plot_w, bar_h, gap = 150, 300, 18, 8
    height = len(rows) * (bar_h + gap) + gap
    width = label_w + plot_w + 60
    parts = [str(_defs(prefix, 1))]
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = value / top * plot_w
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="12" text-anchor="end" fill="{}">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" stroke-width="0.5"/>'
                '<text x="{}" y="{}" font-size="12" fill="{}">{}</text>',
                label_w - 8,
                y + 13,
                INK,
                label,
                label_w,
                y,
                _n(w),
                bar_h,
                _fill(prefix, 0),
                INK,
                _n(label_w + w + 6),
                y + 13,
                INK,
                value,
            )
        )
    return _svg(prefix, title, width, max(height, 30), "".join(parts))


def line(prefix: str, title: str, points: list[tuple[str, int]]) -> SafeString:
    """A daily trend: a line with a marker per day, the first and last day and the peak labelled."""
    top = max((value for _, value in points), default=0) or 1
    left, plot_w, plot_h, base = 40, 560, 160, 180
    step = plot_w / max(len(points) - 1, 1)
    coords = [(left + i * step, base - value / top * plot_h) for i, (_, value) in enumerate(points)]
    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>', left, base, left + plot_w, base, GRID
        ),
        format_html(
            '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="{}">{}</text>',
            left - 4,
            base - plot_h + 4,
            INK,
            top,
        ),
        format_html(
            '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="{}">0</text>', left - 4, base + 4, INK
        ),
    ]
    if coords:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(
            format_html('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>', path, SHADES[0])
        )
        # A marker per day (hundreds over a long program): numbers and a constant only, so
        # plain formatting, without format_html's escaping of each argument.
        parts.append(
            SafeString(
                "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{SHADES[1]}"/>' for x, y in coords)
            )
        )
        for index in {0, len(points) - 1}:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" text-anchor="{}" fill="{}">{}</text>',
                    _n(coords[index][0]),
                    base + 15,
                    "start" if index == 0 else "end",
                    INK,
                    points[index][0],
                )
            )
    return _svg(prefix, title, left + plot_w + 20, base + 25, "".join(parts))


def join(parts: list[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))
