"""The list's freshness on the admin pages: the last import and the index lag in words, and
the last day's imports as a small bar chart, one bar an hour.

The chart is an inline SVG drawn here, not by a chart library: the site's Content Security
Policy allows no inline style or script, which pygal's output carries, and 24 rectangles
need none. It has a ``<title>`` and ``<desc>`` (what a screen reader says), a ``<title>``
per bar (what a mouse shows), and the same numbers as a table below it, so it reads without
JavaScript, without images and without sight. Colours come from site.css classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from search_index.dates import CST
from search_index.imports import ImportActivity, ImportHour

WIDTH, HEIGHT = 480, 150
PLOT_TOP, PLOT_BOTTOM, PLOT_LEFT = 16, 122, 8
STALE = timedelta(days=1)  # no import for this long is worth a warning


@dataclass(frozen=True, slots=True)
class Freshness:
    """What the page shows: sentences, the chart and its table."""

    last_import: str
    stale: bool
    index_lag: str
    lagging: bool
    chart: Markup
    table: list[tuple[str, int, int]]  # hour, imports, lines: the chart as a table
    total_imports: int
    total_lines: int


def freshness(activity: ImportActivity, sync_seconds: float) -> Freshness:
    imports = sum(h.imports for h in activity.hours)
    lines = sum(h.lines for h in activity.hours)
    last = activity.last
    stale = last is None or activity.now - last.finished_at > STALE
    words = last_import_words(activity)
    if last is not None and stale:
        words += "已超过一天没有新的导入。"
    return Freshness(
        words,
        stale,
        lag_words(activity.index_lag, sync_seconds),
        activity.index_lag > 0,
        chart_svg(activity.hours, imports, lines),
        [(hour_label(h.start), h.imports, h.lines) for h in activity.hours],
        imports,
        lines,
    )


def last_import_words(activity: ImportActivity) -> str:
    last = activity.last
    if last is None:
        return "尚未导入过名单。"
    when = last.finished_at.astimezone(CST)
    ago = ago_words(activity.now - last.finished_at)
    return (
        f"最近一次导入：{when:%Y-%m-%d %H:%M}（北京时间，{ago}），"
        f"来源 {last.source}，{last.lines:,} 行。"
    )


def ago_words(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return "刚刚"
    if seconds < 3600:
        return f"{seconds // 60} 分钟前"
    if seconds < 86400:
        return f"{seconds // 3600} 小时前"
    return f"{seconds // 86400} 天前"


def lag_words(lag: int, sync_seconds: float) -> str:
    if lag <= 0:
        return "检索索引已同步：公开查询看到的就是库中的名单。"
    return (
        f"检索索引落后 {lag:,} 项变更：这些变更已入库，还没有反映到公开查询中"
        f"（后台每 {sync_seconds:g} 秒同步一次）。"
    )


def chart_svg(hours: list[ImportHour], imports: int, lines: int) -> Markup:
    """Lines imported per hour, one bar an hour, the current hour last."""
    peak = max((h.lines for h in hours), default=0)
    step = (WIDTH - PLOT_LEFT) / max(1, len(hours))
    span = PLOT_BOTTOM - PLOT_TOP
    parts = [
        f'<svg class="import-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-labelledby="import-chart-title import-chart-desc">',
        '<title id="import-chart-title">最近 24 小时每小时导入的行数</title>',
        f'<desc id="import-chart-desc">{escape(_description(hours, imports, lines))}</desc>',
        f'<line class="axis" x1="{PLOT_LEFT}" y1="{PLOT_BOTTOM}" x2="{WIDTH}" y2="{PLOT_BOTTOM}"/>',
    ]
    for n, hour in enumerate(hours):
        height = round(span * hour.lines / peak, 1) if peak else 0
        x = round(PLOT_LEFT + n * step + step * 0.15, 1)
        label = f"{hour.start:%H}时：{hour.imports} 次导入，{hour.lines:,} 行"
        top, width = round(PLOT_BOTTOM - height, 1), round(step * 0.7, 1)
        parts.append(
            f'<rect class="bar" x="{x}" y="{top}" width="{width}" height="{height}">'
            f"<title>{escape(label)}</title></rect>"
        )
        last = n == len(hours) - 1
        if n % 6 == 0 or last:  # the current hour's label ends at the edge, not past it
            where = (
                f'x="{WIDTH}" text-anchor="end"'
                if last
                else (f'x="{round(PLOT_LEFT + n * step + step / 2, 1)}" text-anchor="middle"')
            )
            parts.append(f'<text class="tick" {where} y="{HEIGHT - 10}">{hour.start:%H}时</text>')
    if peak:
        parts.append(f'<text class="tick" x="{PLOT_LEFT}" y="11">最多 {peak:,} 行/小时</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _description(hours: list[ImportHour], imports: int, lines: int) -> str:
    if not imports:
        return "最近 24 小时没有导入。"
    busiest = max(hours, key=lambda h: h.lines)
    return (
        f"最近 24 小时共导入 {imports} 次、{lines:,} 行；"
        f"最多的一小时是 {busiest.start:%m-%d %H}时，{busiest.imports} 次、{busiest.lines:,} 行。"
    )


def hour_label(start: datetime) -> str:
    """The table's hour: ``12-02 13:00–14:00``."""
    return f"{start:%m-%d %H}:00–{start + timedelta(hours=1):%H}:00"
