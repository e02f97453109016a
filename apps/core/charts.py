"""Charts drawn on the server as inline SVG for the dashboard (apps/core/dashboard.py).

No script and no inline style: shapes carry classes (colours in static/css/dashboard.css) and
geometry attributes, which the CSP does not govern. Every bar, segment and point is a link to
the list it counts, and carries its number in ``data-value`` and a ``<title>`` (the tooltip and
what a screen reader says).
"""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.core.dashboard import Bars, Columns, Line

WIDTH = 480
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 170
VALUE_WIDTH = 50
COLUMNS_HEIGHT = 180
AXIS = 22
PALETTE_SIZE = 8


def _short(label: str, limit: int = 12) -> str:
    """A label that fits left of the bars (the whole one is in the bar's title)."""
    return label if len(label) <= limit else f"{label[: limit - 1]}…"


def _n(number: float) -> str:
    return f"{number:.1f}"


def _scale(maximum: int, room: float) -> float:
    return room / maximum if maximum else 0.0


def _joined(parts: list[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def _link(url: str, inner: SafeString) -> SafeString:
    return format_html('<a href="{}">{}</a>', url, inner) if url else inner


def bars_svg(chart: Bars) -> SafeString:
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    scale = _scale(max((int(f.value) for f in chart.figures), default=0), room)
    height = len(chart.figures) * (BAR_HEIGHT + BAR_GAP)
    rows = []
    for i, figure in enumerate(chart.figures):
        y = i * (BAR_HEIGHT + BAR_GAP)
        width = max(int(figure.value) * scale, 2 if figure.value else 0)
        shape = format_html(
            '<g class="bar{tone}" data-value="{value}"><title>{label}: {value}</title>'
            '<text class="chart-label" x="{lx}" y="{ty}" text-anchor="end">{short}</text>'
            '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="3"></rect>'
            '<text class="chart-value" x="{vx}" y="{ty}">{value}</text></g>',
            tone=f" tone-{figure.tone}" if figure.tone else "",
            value=figure.value,
            label=figure.label,
            short=_short(str(figure.label)),
            lx=LABEL_WIDTH - 8,
            ty=_n(y + BAR_HEIGHT * 0.7),
            x=LABEL_WIDTH,
            y=y,
            w=_n(width),
            h=BAR_HEIGHT,
            vx=_n(LABEL_WIDTH + width + 6),
        )
        rows.append(_link(figure.url, shape))
    return _svg(chart.title, "bars", height, _joined(rows))


def columns_svg(chart: Columns) -> SafeString:
    totals = [sum(stack.values[i] for stack in chart.stacks) for i in range(len(chart.periods))]
    plot = COLUMNS_HEIGHT - AXIS
    scale = _scale(max(totals, default=0), plot - 14)
    slot = WIDTH / max(len(chart.periods), 1)
    column = slot * 0.6
    parts = []
    for i, period in enumerate(chart.periods):
        x = i * slot + (slot - column) / 2
        top = plot
        for s, stack in enumerate(chart.stacks):
            value = stack.values[i]
            if not value:
                continue
            h = value * scale
            top -= h
            segment = format_html(
                '<rect class="series-{s}" data-value="{v}" x="{x}" y="{y}" '
                'width="{w}" height="{h}"><title>{period} {label}: {v}</title></rect>',
                s=s % PALETTE_SIZE,
                v=value,
                x=_n(x),
                y=_n(top),
                w=_n(column),
                h=_n(h),
                period=period,
                label=stack.label,
            )
            parts.append(_link(stack.urls[i], segment))
        parts.append(
            format_html(
                '<text class="chart-value" x="{x}" y="{y}" text-anchor="middle">{t}</text>'
                '<text class="chart-label" x="{x}" y="{ay}" text-anchor="middle">{p}</text>',
                x=_n(x + column / 2),
                y=_n(top - 4),
                t=totals[i],
                ay=COLUMNS_HEIGHT - 6,
                p=period,
            )
        )
    return _svg(chart.title, "columns", COLUMNS_HEIGHT, _joined(parts))


def line_svg(chart: Line) -> SafeString:
    plot = COLUMNS_HEIGHT - AXIS
    low, high = min(chart.values, default=0), max(chart.values, default=0)
    # From zero unless the line would be flat at the top: then from a little under the lowest.
    floor = 0 if low < high * 0.5 else int(low * 0.8)
    scale = _scale(high - floor, plot - 24)
    slot = WIDTH / max(len(chart.periods), 1)
    points = [
        (i * slot + slot / 2, plot - (value - floor) * scale)
        for i, value in enumerate(chart.values)
    ]
    path = " ".join(f"{x},{y}" for x, y in points)
    dots = format_html_join(
        "",
        '<a href="{}"><g class="point" data-value="{}"><title>{}: {}</title>'
        '<circle cx="{}" cy="{}" r="5"></circle>'
        '<text class="chart-value" x="{}" y="{}" text-anchor="middle">{}</text></g></a>'
        '<text class="chart-label" x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (
                url,
                value,
                period,
                value,
                _n(x),
                _n(y),
                _n(x),
                _n(y - 10),
                value,
                _n(x),
                COLUMNS_HEIGHT - 6,
                period,
            )
            for (x, y), value, period, url in zip(
                points, chart.values, chart.periods, chart.urls, strict=True
            )
        ),
    )
    line = format_html('<polyline class="line" points="{}"></polyline>', path)
    return _svg(chart.title, "line", COLUMNS_HEIGHT, line + dots)


def _svg(title: str, kind: str, height: float, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart chart-{kind}" role="img" viewBox="0 0 {w} {h}" '
        'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        "<title>{title}</title>{body}</svg>",
        kind=kind,
        w=WIDTH,
        h=f"{max(height, 1):.0f}",
        title=title,
        body=body,
    )


def chart_svg(chart: Bars | Columns | Line) -> SafeString:
    if isinstance(chart, Bars):
        return bars_svg(chart)
    if isinstance(chart, Columns):
        return columns_svg(chart)
    return line_svg(chart)
