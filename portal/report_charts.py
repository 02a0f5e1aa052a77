"""Charts of the quarterly reports, as server-rendered SVG (pygal), readable without
JavaScript.

pygal embeds a tooltip script and its configuration in a ``<script>`` by default; we ask for
no script (``js=[]``) and strip the configuration script it still writes, so the SVG is
static. Each chart gets a ``<title>`` and ``<desc>`` that the ``<svg role="img">`` is
labelled by. The pages load it as an image (``image/svg+xml``) rather than inline, since
pygal styles it with a ``<style>`` block and the site's pages carry no inline style; the
image's ``alt`` and a table of the same numbers beside it stand in for it. Charts hold counts
per quarter, court or region only: never an entry.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

import pygal
from pygal.style import Style

from portal.i18n import translate
from search_index.quarterly import Counts
from search_index.reports import QuarterReport

# pygal adds a legacy import hook for its map plugins (pygal.maps.*, unused here) that makes
# every later import on Python 3.11+ warn (ImportWarning, an error under the tests): remove it.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

MAX_REGIONS = 15  # regions drawn; the table lists them all
TREND_QUARTERS = 12  # /stats: the last three years
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)
_SVG_OPEN = re.compile(r"<svg\b([^>]*)>")
STYLE = Style(
    font_family='"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif',
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#555",
    colors=("#1f5fa8", "#b3261e", "#7a5c00", "#2e7d32", "#6a1b9a"),
)
GROUND_LABELS = {"shielded": "屏蔽", "revoked": "撤销", "deleted": "删除", "expired": "期满移出"}
TIMELY_LABELS = {
    "ours_on_time": "本网站按时移除",
    "ours_late": "本网站超期移除",
    "senders_late": "报送时已超期",
}
SERIES_LABELS = {"listed": "新纳入", "removed": "移除", "corrected": "更正"}


@dataclass(slots=True, frozen=True)
class Chart:
    """A chart and its table alternative (``columns`` head the ``rows``). The SVG is drawn
    only when asked for (``svg``): the page itself needs the table."""

    id: str  # also the image's file name: chart-grounds.svg
    title: str
    desc: str
    graph: Any = field(compare=False, repr=False)
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[int, ...]], ...]

    def svg(self) -> str:
        return _svg(self.graph, self.id, self.title, self.desc)


def find(charts: Sequence[Chart], chart_id: str) -> Chart | None:
    return next((chart for chart in charts if chart.id == chart_id), None)


def quarter_charts(report: QuarterReport, lang: str) -> list[Chart]:
    total = report.total
    label = report.quarter.label(lang)
    regions = sorted(report.by_region, key=lambda item: -(item[1].listed + item[1].removed))
    return [
        _bars(
            "chart-grounds",
            _t(lang, "{quarter}移除的依据").format(quarter=label),
            _t(lang, "屏蔽、撤销、删除和期满移出的条目数。"),
            [(_t(lang, GROUND_LABELS[k]), getattr(total, k)) for k in GROUND_LABELS],
            _t(lang, "条目数"),
        ),
        _bars(
            "chart-timely",
            _t(lang, "{quarter}移除是否及时").format(quarter=label),
            _t(
                lang,
                "在三个工作日的法定期限内、超过期限从本网站移除的条目数，以及法院报送时已超过期限的条目数。",
            ),
            [(_t(lang, TIMELY_LABELS[k]), getattr(total, k)) for k in TIMELY_LABELS],
            _t(lang, "条目数"),
        ),
        _grouped(
            "chart-regions",
            _t(lang, "{quarter}各地区新纳入和移除").format(quarter=label),
            _t(lang, "各地区新纳入名单和移出名单的条目数（最多 {n} 个地区）。").format(
                n=MAX_REGIONS
            ),
            [name for name, _counts in regions[:MAX_REGIONS]],
            [counts for _name, counts in regions[:MAX_REGIONS]],
            ("listed", "removed"),
            lang,
            horizontal=True,
        ),
    ]


def trend_charts(reports: Sequence[QuarterReport], lang: str) -> list[Chart]:
    """Charts over the published quarters (oldest first), for /stats."""
    recent = sorted(reports, key=lambda r: r.quarter)[-TREND_QUARTERS:]
    labels = [r.quarter.label(lang) for r in recent]
    totals = [r.total for r in recent]
    return [
        _grouped(
            "trend-changes",
            _t(lang, "每季度新纳入、移除和更正"),
            _t(lang, "每个已公布季度新纳入名单、移出名单和更正的条目数。"),
            labels,
            totals,
            ("listed", "removed", "corrected"),
            lang,
        ),
        _grouped(
            "trend-timely",
            _t(lang, "每季度移除是否及时"),
            _t(lang, "每个已公布季度本网站按时移除、超期移除，以及法院报送时已超期的条目数。"),
            labels,
            totals,
            tuple(TIMELY_LABELS),
            lang,
        ),
    ]


def _bars(chart_id: str, title: str, desc: str, values: list[tuple[str, int]], unit: str) -> Chart:
    chart = _new(pygal.Bar, title, show_legend=False)
    chart.x_labels = [name for name, _ in values]
    chart.y_labels = _ticks(max((value for _, value in values), default=0))
    chart.add(unit, [value for _, value in values])
    rows = tuple((name, (value,)) for name, value in values)
    return Chart(chart_id, title, desc, chart, (unit,), rows)


def _grouped(
    chart_id: str,
    title: str,
    desc: str,
    labels: list[str],
    counts: list[Counts],
    keys: tuple[str, ...],
    lang: str,
    *,
    horizontal: bool = False,
) -> Chart:
    names = {**SERIES_LABELS, **TIMELY_LABELS}
    chart = _new(pygal.HorizontalBar if horizontal else pygal.Bar, title)
    chart.x_labels = labels
    chart.y_labels = _ticks(max((_value(c, k) for c in counts for k in keys), default=0))
    for key in keys:
        chart.add(_t(lang, names[key]), [_value(c, key) for c in counts])
    columns = tuple(_t(lang, names[k]) for k in keys)
    rows = tuple(
        (label, tuple(_value(c, k) for k in keys)) for label, c in zip(labels, counts, strict=True)
    )
    return Chart(chart_id, title, desc, chart, columns, rows)


def _new(kind: type[pygal.Graph], title: str, **options: object) -> pygal.Graph:
    return kind(
        js=[],  # no tooltip script: the page works, and reads, without JavaScript
        disable_xml_declaration=True,  # inlined into the page
        title=title,
        style=STYLE,
        width=720,
        height=400,
        print_values=True,
        legend_at_bottom=True,
        min_scale=1,
        no_data_text="—",
        **options,
    )


def _svg(chart: pygal.Graph, chart_id: str, title: str, desc: str) -> str:
    """The chart's SVG without any script, labelled by its own title and description."""
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    label = (
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )
    opening = (
        f'<svg\\1 role="img" aria-labelledby="{chart_id}-title" '
        f'aria-describedby="{chart_id}-desc">{label}'
    )
    return _SVG_OPEN.sub(opening, svg, count=1)


def _ticks(top: int) -> list[int]:
    """Whole-number axis ticks from 0 past ``top``, at most about six (pygal's own scale
    would mark 0.1 steps for a count of 1)."""
    step = 1
    while top / step > 5:
        step *= 5 if str(step)[0] == "2" else 2  # 1, 2, 10, 20, 100, …
    return list(range(0, top + step + 1 if top % step else top + 1, step)) or [0]


def _value(counts: Counts, key: str) -> int:
    return counts.removed if key == "removed" else getattr(counts, key)


def _t(lang: str, text: str) -> str:
    return translate(lang, text)
