"""The desk warns admins and commanders from 60 days before the calendar runs out."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.app import create_app
from layouts.calendar_warning import coverage_warning


@pytest.fixture
def app(settings, engine):
    return create_app(settings, engine=engine, redis_url=settings.redis_url)


@pytest.mark.parametrize("role", ["admin", "commander"])
def test_admins_and_commanders_see_the_warning_in_december(app, role: str) -> None:
    """On 5 Dec 2026 the warning names the last day covered and the missing year."""
    warning = coverage_warning(app, role, today=date(2026, 12, 5))
    assert warning is not None and "2026-12-31" in warning.children
    assert "2027" in warning.children


@pytest.mark.parametrize("role", ["leader", "viewer", None])
def test_other_roles_do_not_see_it(app, role: str | None) -> None:
    """Leaders and viewers cannot act on it: no warning."""
    assert coverage_warning(app, role, today=date(2026, 12, 5)) is None


def test_no_warning_more_than_sixty_days_ahead(app) -> None:
    """On 1 Oct 2026 the end of coverage is 91 days away: nothing shown."""
    assert coverage_warning(app, "commander", today=date(2026, 10, 1)) is None
