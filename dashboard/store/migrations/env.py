"""Alembic's environment: migrate over the connection the caller passes in.

`dashboard.store.migrate` opens the connection, takes the schema lock and its
transaction, and hands it over in `config.attributes["connection"]`; the migrations
run inside that transaction, so two processes starting at once never both migrate.
"""

from __future__ import annotations

from alembic import context

from dashboard.store.migrations import OPTIONS

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `commandhall db upgrade`, which passes a connection")
context.configure(connection=connection, **OPTIONS)
with context.begin_transaction():
    context.run_migrations()
