"""Alembic environment: runs on the engine handed over by ``cift.db.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import cift.db.models  # noqa: F401  (registers every table)
from cift.core.settings import get_settings
from cift.db.base import Base
from cift.db.engine import create_db_engine

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine: Engine | None = context.config.attributes.get("engine")
    owned = engine is None
    if engine is None:
        engine = create_db_engine(get_settings())
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
                user_module_prefix="cift.db.types.",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if owned:
            engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=get_settings().database_url_value(),
        target_metadata=target_metadata,
        literal_binds=True,
        user_module_prefix="cift.db.types.",
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
