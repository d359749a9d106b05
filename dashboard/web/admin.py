"""/admin/audit: the audit trail for administrators, filtered, and as CSV.

Filters: user, action (prefix), result, from and to (ISO dates or times, in UTC).
Every cell is escaped on the page and neutralised for spreadsheets in the CSV.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from flask import request

from dashboard.store import audit
from dashboard.web import csvout
from dashboard.web.api import BadRequest
from dashboard.web.context import App, Routes, add_routes
from dashboard.web.guard import page

COLUMNS = ("at", "actor", "action", "result", "address", "detail")
FILTERS = (("actor", "user"), ("action", "action"), ("result", "result"))


def _time(name: str) -> datetime | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be an ISO date or time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def query() -> audit.AuditQuery:
    """The filters the request asks for."""

    def given(field: str) -> str | None:
        return request.args.get(field, "").strip() or None

    return audit.AuditQuery(
        actor=given("actor"),
        action=given("action"),
        result=given("result"),
        start=_time("from"),
        end=_time("to"),
    )


def _rows(app: App, asked: audit.AuditQuery) -> list[dict[str, Any]]:
    with app.store.sessions() as db:
        return [audit.as_dict(row) for row in audit.search(db, asked)]


def audit_page(app: App) -> Any:
    """The filter form and the newest matching rows."""
    inputs = "".join(
        f"<input name='{field}' placeholder='{label}' "
        f"value='{escape(request.args.get(field, ''))}'>"
        for field, label in (*FILTERS, ("from", "from"), ("to", "to"))
    )
    head = "".join(f"<th>{name}</th>" for name in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(row[c] or ''))}</td>" for c in COLUMNS) + "</tr>"
        for row in _rows(app, query())
    )
    csv_link = escape("/admin/audit.csv?" + request.query_string.decode("latin-1"))
    content = (
        f"<form method='get'>{inputs}<button>筛选 / Filter</button></form>"
        f"<p><a href='{csv_link}'>CSV</a></p><table><tr>{head}</tr>{body}</table>"
    )
    return page("审计日志 / Audit", content, 200, raw=True)


def audit_csv(app: App) -> Any:
    """The matching rows as CSV for Excel (through the one CSV writer)."""
    asked = query()  # read from the request before the answer streams

    def rows() -> Any:
        yield COLUMNS
        for row in _rows(app, asked):
            yield [row[c] for c in COLUMNS]

    return csvout.response(rows(), "audit.csv")


ROUTES: Routes = (
    (("GET",), "/admin/audit", audit_page),
    (("GET",), "/admin/audit.csv", audit_csv),
)


def register(app: App) -> None:
    """Add the admin pages."""
    add_routes(app, ROUTES)
