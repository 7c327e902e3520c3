"""The SLA report as HTML: a fragment for the board (`report_page_html`) and a complete
document for `GET /v1/reports/sla/page`. Pure; inline SVG charts, no external assets.

Accessibility: each chart is an `<svg role="img">` named by its `<title>` and described by
a `<desc>` that states the figures in words; every bar has its own `<title>`; the same
figures follow in a table with a caption and header cells.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from .domain.attainment import KINDS, SlaReport, Tally
from .formats import DEFINITION

# Colour-blind-safe (Okabe-Ito), each readable on white; levels keep their colour.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
KIND_NAMES = {"first_response": "First response", "next_response": "Next response"}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 260, 44, 40, 12
STYLE = """
.tm-report { font-family: system-ui, sans-serif; color: #111; max-width: 760px; }
.tm-report table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
.tm-report th, .tm-report td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: right;
  white-space: nowrap; }
.tm-report th[scope=row], .tm-report thead th, .tm-report td.name { text-align: left; }
.tm-report .table-wrap { overflow-x: auto; }
.tm-report caption { text-align: left; font-weight: bold; }
.tm-report figure { margin: 1em 0 0; }
.tm-report svg { max-width: 100%; height: auto; }
.tm-report .legend span { display: inline-block; margin-right: 1em; }
.tm-report .swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em;
  vertical-align: middle; }
"""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _tally_cells(t: Tally) -> str:
    cells = (
        t.obligations,
        t.met,
        t.breached,
        t.running,
        _percent(t.attainment),
        _duration(t.paused_seconds),
        _duration(t.median_response_seconds),
        _duration(t.p90_response_seconds),
    )
    return "".join(f"<td>{escape(str(c))}</td>" for c in cells)


TALLY_HEADERS = (
    "Obligations",
    "Met",
    "Breached",
    "Running",
    "Attainment",
    "Paused",
    "Median response",
    "p90 response",
)


def _table(caption: str, headers: Iterable[str], rows: str) -> str:
    """A captioned table (scrolling sideways on a narrow screen); `caption` is escaped."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    return (
        f'<div class="table-wrap"><table><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _groups_table(report: SlaReport) -> str:
    body = [
        f'<tr><th scope="row">{KIND_NAMES[r.kind]}</th><td class="name">{escape(r.group)}</td>'
        f"{_tally_cells(r.tally)}</tr>"
        for r in report.rows
    ]
    body += [
        f'<tr><th scope="row">{KIND_NAMES[k]}</th><td class="name"><strong>total</strong></td>'
        f"{_tally_cells(t)}</tr>"
        for k, t in report.totals.items()
    ]
    return _table(
        f"Obligations due in the period by kind and {report.group_by}",
        ("Kind", report.group_by.capitalize(), *TALLY_HEADERS),
        "".join(body),
    )


def _svg(chart_id: str, title: str, desc: str, inner: str) -> str:
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>{inner}</svg>'
    )


def _axes(y_labels: list[tuple[float, str]]) -> str:
    plot_h = HEIGHT - BOTTOM - TOP
    parts = [
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH}" y2="{TOP + plot_h}" stroke="#444"/>'
    ]
    for share, label in y_labels:
        y = TOP + plot_h * (1 - share)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="11" '
            f'text-anchor="end">{escape(label)}</text>'
        )
    return "".join(parts)


def _bar(x: float, width: float, share: float, colour: str, label: str) -> str:
    plot_h = HEIGHT - BOTTOM - TOP
    h = plot_h * share
    return (
        f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{width:.1f}" height="{h:.1f}" '
        f'fill="{colour}"><title>{escape(label)}</title></rect>'
    )


def _x_label(x: float, text: str) -> str:
    return (
        f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" '
        f'text-anchor="middle">{escape(text)}</text>'
    )


def attainment_chart(report: SlaReport, kind: str, chart_id: str) -> str:
    """Grouped bars: one group per week, one bar per level (its attainment), then a table."""
    cells = [lw for lw in report.level_weeks if lw.kind == kind]
    weeks = sorted({lw.week for lw in cells})
    levels = sorted({lw.level for lw in cells})
    colour = {lv: PALETTE[i % len(PALETTE)] for i, lv in enumerate(levels)}
    name = KIND_NAMES[kind]
    title = f"{name}: SLA attainment per level per week ({report.zone.key})"
    if not cells:
        return f"<h3>{escape(title)}</h3><p>No {name.lower()} obligations were due.</p>"
    slot = (WIDTH - LEFT) / len(weeks)
    bar_w = max(2.0, (slot * 0.8) / len(levels))
    bars, words = [], []
    for wi, week in enumerate(weeks):
        bars.append(_x_label(LEFT + slot * (wi + 0.5), f"week of {week}"))
        for li, level in enumerate(levels):
            found = next((c for c in cells if c.week == week and c.level == level), None)
            if found is None or found.tally.attainment is None:
                continue
            a = found.tally.attainment
            label = (
                f"{level}, week of {week}: {_percent(a)} "
                f"({found.tally.met} met of {found.tally.met + found.tally.breached})"
            )
            bars.append(
                _bar(LEFT + slot * wi + slot * 0.1 + li * bar_w, bar_w, a, colour[level], label)
            )
            words.append(label)
    desc = "; ".join(words) or "no obligation was decided yet"
    svg = _svg(
        chart_id, title, desc, _axes([(0, "0 %"), (0.5, "50 %"), (1, "100 %")]) + "".join(bars)
    )
    legend = "".join(
        f'<span><span class="swatch" style="background:{colour[lv]}"></span>{escape(lv)}</span>'
        for lv in levels
    )
    rows = "".join(
        f'<tr><th scope="row">{escape(c.level)}</th><td class="name">{escape(c.week)}</td>'
        f"{_tally_cells(c.tally)}</tr>"
        for c in cells
    )
    table = _table(f"{title}: the figures", ("Level", "Week of", *TALLY_HEADERS), rows)
    return (
        f"<figure><figcaption><h3>{escape(title)}</h3></figcaption>{svg}"
        f'<p class="legend" aria-hidden="true">{legend}</p></figure>{table}'
    )


def breaches_chart(report: SlaReport, chart_id: str) -> str:
    """24 bars: breaches by the hour of day of their deadline (both kinds), then a table."""
    per_hour = [sum(report.breaches_by_hour[k][h] for k in KINDS) for h in range(24)]
    top = max(per_hour) or 1
    title = f"Breaches by hour of day ({report.zone.key})"
    slot = (WIDTH - LEFT) / 24
    bars = []
    for hour, n in enumerate(per_hour):
        label = f"{hour:02d}:00 to {hour:02d}:59: {n} breach{'es' if n != 1 else ''}"
        bars.append(_bar(LEFT + slot * hour + slot * 0.1, slot * 0.8, n / top, "#D55E00", label))
        if hour % 3 == 0:
            bars.append(_x_label(LEFT + slot * (hour + 0.5), f"{hour:02d}"))
    busy = [f"{h:02d}:00 ({n})" for h, n in enumerate(per_hour) if n]
    desc = (f"{sum(per_hour)} breaches; by hour: " + ", ".join(busy)) if busy else "No breaches."
    svg = _svg(chart_id, title, desc, _axes([(0, "0"), (1, str(top))]) + "".join(bars))
    rows = "".join(
        f'<tr><th scope="row">{h:02d}:00</th>'
        + "".join(f"<td>{report.breaches_by_hour[k][h]}</td>" for k in KINDS)
        + f"<td>{per_hour[h]}</td></tr>"
        for h in range(24)
    )
    headers = ("Hour", *(KIND_NAMES[k] for k in KINDS), "All")
    table = _table(f"{title}: the figures", headers, rows)
    return f"<figure><figcaption><h3>{escape(title)}</h3></figcaption>{svg}</figure>{table}"


def report_page_html(report: SlaReport, *, id_prefix: str = "tm-sla") -> str:
    """The report as an HTML fragment (a `<section>`), ready to sit in a page of the board."""
    period = (
        f"{report.start.isoformat()} to {report.end.isoformat()} (exclusive), "
        f"as of {report.as_of.isoformat()}, weeks and hours in {report.zone.key}"
    )
    charts = [attainment_chart(report, k, f"{id_prefix}-att-{k}") for k in KINDS]
    return (
        f'<section class="tm-report" aria-labelledby="{id_prefix}-h"><style>{STYLE}</style>'
        f'<h2 id="{id_prefix}-h">SLA attainment</h2><p>{escape(period)}. '
        f"Met: replied at or before the deadline; breached: not met by the deadline; running "
        f"obligations are left out of attainment. Definition: {escape(DEFINITION)}.</p>"
        f"{_groups_table(report)}{''.join(charts)}{breaches_chart(report, f'{id_prefix}-hr')}"
        "</section>"
    )


def report_document_html(report: SlaReport) -> str:
    """A complete HTML document around the fragment (served at /v1/reports/sla/page)."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Tidemark SLA report</title></head>"
        f"<body><main>{report_page_html(report)}</main></body></html>"
    )
