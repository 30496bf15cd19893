"""Alembic environment: the server hands us a live connection (server.db.migrate)."""

from __future__ import annotations

from alembic import context

from server.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `casework server migrate`, which supplies the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
