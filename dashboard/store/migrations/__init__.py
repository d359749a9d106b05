"""Alembic migrations of the schema, shipped inside the package (issue 21).

There is no alembic.ini: `dashboard.store.migrate` builds the configuration in code
and passes its own connection in. `OPTIONS` are the rules every migration context
follows, so `env.py` (upgrades, autogenerate) and `commandhall db check` compare
the models with a database the same way.
"""

from __future__ import annotations

from typing import Any

from dashboard.store.models import Base, UTCDateTime


def render_item(kind: str, item: Any, _context: Any) -> str | bool:
    """Write UTCDateTime into a migration as the DateTime it stores.

    A migration must not import today's models: they change after it is written.
    """
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime()"
    return False


OPTIONS: dict[str, Any] = {
    "target_metadata": Base.metadata,
    # SQLite cannot ALTER most things: batch mode copies the table instead.
    "render_as_batch": True,
    "compare_type": True,
    "render_item": render_item,
}
