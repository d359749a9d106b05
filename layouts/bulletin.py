"""The monthly bulletin (月度考核通报): /tablet/bulletin?month=2026-11 and its CSV.

The form the centre publishes: the responsible units' ranking, then the districts',
each line with its score, grade and the figures the score comes from, and the rule
under it. A plain server page (no Dash) with print CSS, so it prints to A4 as it
looks; the guard asks strangers to sign in as for every view. The figures are
kpis.ranking's, so the bulletin and /api/rankings always agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, request

from dashboard.store import kpis
from dashboard.store.kpis import Figures, Period, Ranked
from dashboard.web import csvout
from dashboard.web.context import App, Routes, add_routes
from layouts.components.tabletviews import names, percent
from layouts.i18n import labels

SECTIONS = (("department", "bulletin_units"), ("district", "bulletin_districts"))
COUNTS = ("dispatched", "due_to_close", "closed", "closed_on_time")
COUNT_LABELS = ("col_dispatched", "col_due", "col_closed", "col_on_time")
RATES = ("closure_rate", "on_time_rate", "handling_rate", "rework_rate", "overdue_pending_rate")
CSS = "/tablet/assets/bulletin.css"
SCRIPT = "/tablet/assets/bulletin.js"
FONTS = "/tablet/assets/fonts/fonts.css"


class BadMonth(ValueError):
    """A month the bulletin cannot be made for."""


def month_asked(app: App, now: datetime) -> tuple[str, Period]:
    """The month of `?month=YYYY-MM`, by default the last one; never one to come."""
    zone = ZoneInfo(app.timezone)
    last = (now.astimezone(zone).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    value = request.args.get("month", last).strip()
    try:
        period = Period.parse("month", value, app.timezone)
    except ValueError as error:
        raise BadMonth(str(error)) from None
    if period.start > now:
        raise BadMonth(f"{value} has not begun")
    return value, period


def lines(app: App, period: Period, now: datetime) -> dict[str, list[Ranked | Figures]]:
    """Per section, the ranked lines, then those with nothing due (not ranked)."""
    found: dict[str, list[Ranked | Figures]] = {}
    with app.store.sessions() as db:
        for by, _ in SECTIONS:
            ranked = kpis.ranking(db, period, by, now)  # type: ignore[arg-type]
            codes = {row.code for row in ranked}
            rest = [row for row in kpis.figures(db, period, by, now)  # type: ignore[arg-type]
                    if row.code not in codes and row.dispatched]  # fmt: skip
            found[by] = [*ranked, *rest]
        found["city"] = list(kpis.figures(db, period, None, now))
    return found


def cells(line: Ranked | Figures, named: dict[str, str]) -> list[str]:
    """One line's values as the bulletin writes them."""
    row = line.figures if isinstance(line, Ranked) else line
    code = row.code or ""
    head = ([str(line.rank), named.get(code, code), f"{line.score:.2f}", line.grade]
            if isinstance(line, Ranked) else ["—", named.get(code, code), "—", "—"])  # fmt: skip
    return [*head, *(str(getattr(row, key)) for key in COUNTS),
            *(percent(getattr(row, key)) for key in RATES)]  # fmt: skip


def headings(text: dict[str, str]) -> list[str]:
    """The columns of both tables."""
    fixed = [text["rank"], text["name"], text["score"], text["grade"]]
    return [*fixed, *(text[key] for key in COUNT_LABELS), *(text[f"name_{k}"] for k in RATES)]


def table(title: str, rows: list[list[str]], text: dict[str, str], section: str) -> str:
    """One section's table."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headings(text))
    body = "".join(
        f"<tr data-code-row='{escape(row[1])}'>"
        + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows
    )  # fmt: skip
    return (f"<section data-section='{section}'><h2>{escape(title)}</h2><table>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>")  # fmt: skip


Asked = tuple[datetime, str, dict[str, list[Ranked | Figures]], dict[str, str]]


def _asked(app: App) -> Asked | Response:
    """Now, the month asked for and its lines and names; or the 400 of a bad month."""
    now = datetime.now(UTC)
    try:
        value, period = month_asked(app, now)
    except BadMonth as error:
        return Response(escape(str(error)), status=400, mimetype="text/plain")
    return now, value, lines(app, period, now), names(app)


def page(app: App) -> Any:
    """The printable bulletin of a month."""
    asked = _asked(app)
    if isinstance(asked, Response):
        return asked
    (now, value, found, named), text = asked, labels(app.settings.language)
    title = text["bulletin_title"].format(month=value)
    city = found["city"][0] if found["city"] else None
    figures = " · ".join(f"{escape(text['name_' + k])} {percent(getattr(city, k))}" for k in RATES)
    summary = (f"<p class='city' data-city='1'>{escape(text['bulletin_city'])}: {figures}</p>"
               if city else "")  # fmt: skip
    sections = "".join(
        table(text[key], [cells(line, named) for line in found[by]], text, by)
        for by, key in SECTIONS
    )
    issued = text["bulletin_issued"].format(
        at=f"{now.astimezone(ZoneInfo(app.timezone)):%Y-%m-%d %H:%M}"
    )
    html = (
        f"<!doctype html><html lang='{'en' if app.settings.language == 'en' else 'zh'}'><head>"
        f"<meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        f"<title>{escape(title)}</title><style>@page {{ size: A4; margin: 12mm }}</style>"
        f"<link rel='stylesheet' href='{FONTS}'>"
        f"<link rel='stylesheet' href='{CSS}'><script src='{SCRIPT}' defer></script></head>"
        f"<body class='bulletin' data-month='{value}'>"
        f"<form class='no-print' method='get'>"
        f"<a href='/tablet/'>← {escape(text['tablet_back'])}</a>"
        f"<label>{escape(text['bulletin_month'])} <input type='month' name='month' "
        f"value='{value}'></label><button type='submit'>OK</button>"
        f"<a href='/tablet/bulletin.csv?month={value}' data-csv='1'>{escape(text['csv'])}</a>"
        f"<button type='button' data-print='1'>{escape(text['bulletin_print'])}</button>"
        f"</form><h1>{escape(title)}</h1>{summary}{sections}"
        f"<p class='note'>{escape(text['bulletin_note'])}</p>"
        f"<p class='issued'>{escape(issued)}</p></body></html>"
    )
    return Response(html, mimetype="text/html")


def csv_file(app: App) -> Any:
    """The bulletin as CSV (through the one CSV writer: BOM, every text cell defused)."""
    asked = _asked(app)
    if isinstance(asked, Response):
        return asked
    (_, value, found, named), text = asked, labels(app.settings.language)

    def rows() -> Any:
        yield [text["bulletin_month"], "by", text["code"], *headings(text)]
        for by, _ in SECTIONS:
            for line in found[by]:
                row = line.figures if isinstance(line, Ranked) else line
                yield [value, by, row.code, *cells(line, named)]

    return csvout.response(rows(), f"bulletin-{value}.csv")


ROUTES: Routes = (
    (("GET",), "/tablet/bulletin", page),
    (("GET",), "/tablet/bulletin.csv", csv_file),
)


def register(app: App) -> None:
    """Add the bulletin's page and CSV."""
    add_routes(app, ROUTES)
