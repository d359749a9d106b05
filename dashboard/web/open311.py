"""Open311 GeoReport v2 out of our cases, under /open311/v2/ (JSON and XML).

services: our categories; requests: the standard's filters (service_request_id,
service_code, start_date, end_date, status) within its limits (90 days, 1000
requests); requests/{id}: one. `expected_datetime` carries our deadline (which
FixMyStreet leaves out), `agency_responsible` the unit, `status_notes` the last
note. Service codes read like `event-0102` (kind and code: codes repeat across
kinds).

The XML can never fail to parse: text is stripped of every character XML 1.0 cannot
carry, escaped or not (C0 controls but tab, LF and CR; lone surrogates; U+FFFE and
U+FFFF). The contract refuses most of them, but a row written before it did, or by
hand, must not make the whole answer unreadable (issue 20).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

from flask import Response, abort, jsonify, request

from dashboard.store.models import Case
from dashboard.store.open311 import RequestQuery, requests
from dashboard.web.api import BadRequest
from dashboard.web.context import App, Routes, add_routes
from streams.names import CLOSED_STATES

WINDOW = timedelta(days=90)
LIMIT = 1000
# The fields of a service request in GeoReport v2, in the standard's order.
REQUEST_FIELDS = (
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
)  # fmt: skip
# XML 1.0's Char production (section 2.2): everything outside it is dropped.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SERVICE_FIELDS = ("service_code", "service_name", "description", "metadata", "type",
                  "keywords", "group")  # fmt: skip


def services(app: App, form: str) -> Any:
    """Every category as a service."""
    english = app.settings.language == "en"
    majors = app.catalogue.majors_en if english else app.catalogue.majors
    listed = [
        {
            "service_code": f"{kind.value}-{code}",
            "service_name": category.name_en if english else category.name,
            "description": category.name_en,
            "metadata": False,
            "type": "realtime",
            "keywords": kind.value,
            "group": majors.get((kind, code[:2]), ""),
        }
        for (kind, code), category in sorted(app.catalogue.categories.items())
    ]
    return _answer(listed, form, "services", "service")


def service_requests(app: App, form: str) -> Any:
    """Requests matching the standard's filters, newest first."""
    query = _query(app)
    with app.store.sessions() as session:
        found = [_request(app, case, note) for case, note in requests(session, query)]
    return _answer(found, form, "service_requests", "request")


def service_request(app: App, request_id: str, form: str) -> Any:
    """One request by its id (as a list of one, as the standard has it)."""
    now = datetime.now(UTC)
    query = RequestQuery(start=now - WINDOW, end=now, ids=[request_id], limit=1)
    with app.store.sessions() as session:
        found = [_request(app, case, note) for case, note in requests(session, query)]
    if not found:
        abort(404)
    return _answer(found, form, "service_requests", "request")


def _query(app: App) -> RequestQuery:
    args, now = request.args, datetime.now(UTC)
    end = _date(args.get("end_date")) or now
    start = _date(args.get("start_date")) or end - WINDOW
    if end - start > WINDOW:
        raise BadRequest("start_date and end_date may be at most 90 days apart")
    status = args.get("status")
    if status not in (None, "open", "closed"):
        raise BadRequest("status must be open or closed")
    return RequestQuery(
        start=start,
        end=end,
        ids=_list(args.get("service_request_id")),
        codes=[_code(code) for code in _list(args.get("service_code"))],
        status=status,
        limit=LIMIT,
    )


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadRequest(f"not a W3C date and time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _code(text: str) -> tuple[str, str]:
    kind, _, code = text.partition("-")
    if kind not in ("event", "component") or len(code) != 4:
        raise BadRequest(f"service_code {text!r} must read like event-0102")
    return kind, code


def _request(app: App, case: Case, note: str | None) -> dict[str, Any]:
    category = app.catalogue.category(case.kind, case.category)
    unit = app.catalogue.units.get(case.department or "")
    english = app.settings.language == "en"
    return {
        "service_request_id": case.case_id,
        "status": "closed" if case.state in CLOSED_STATES else "open",
        "status_notes": note,
        "service_name": (category.name_en if english else category.name) if category else None,
        "service_code": f"{case.kind}-{case.category}",
        "description": case.description,
        "agency_responsible": (unit.name_en if english else unit.name) if unit else None,
        "service_notice": None,
        "requested_datetime": _w3c(case.reported_at),
        "updated_datetime": _w3c(case.updated_at),
        "expected_datetime": _w3c(case.deadline),
        "address": case.address,
        "address_id": None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lon,
        "media_url": None,
    }


def _w3c(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _answer(items: list[dict[str, Any]], form: str, root: str, item: str) -> Any:
    if form == "json":
        return jsonify(items)
    tree = ElementTree.Element(root)
    for entry in items:
        node = ElementTree.SubElement(tree, item)
        for key, value in entry.items():
            ElementTree.SubElement(node, key).text = xml_text(value)
    body = ElementTree.tostring(tree, encoding="unicode", xml_declaration=True)
    return Response(body, mimetype="application/xml")


def xml_text(value: Any) -> str:
    """A value as XML element text: booleans as the standard writes them, and nothing
    XML 1.0 cannot hold."""
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return NOT_XML.sub("", text)


ROUTES: Routes = (
    (("GET",), "/open311/v2/services.<any(json, xml):form>", services),
    (("GET",), "/open311/v2/requests.<any(json, xml):form>", service_requests),
    (("GET",), "/open311/v2/requests/<request_id>.<any(json, xml):form>", service_request),
)


def register(app: App) -> None:
    """Add the GeoReport v2 endpoints."""
    add_routes(app, ROUTES)
