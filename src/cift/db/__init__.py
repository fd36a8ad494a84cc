"""The metadata database: SQLAlchemy models, engines and sessions, Alembic migrations."""
