"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.dml import Insert

SQLITE_PRAGMAS = (
    # WAL lets readers run beside the one writer; NORMAL is durable across application crashes in WAL mode.
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    # Wait for the writer lock instead of failing at once with "database is locked".
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-32000",
)


T = TypeVar("T")

# PostgreSQL pool defaults (the settings CARELINE_DB_POOL_SIZE and CARELINE_DB_MAX_OVERFLOW override them).
POOL_SIZE = 30
MAX_OVERFLOW = 10


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW
) -> AsyncEngine:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 10}
        if parsed.database not in (None, "", ":memory:"):
            # Every transaction takes SQLite's one write lock at BEGIN IMMEDIATE, so transactions run one at a
            # time whatever the pool. With one connection they queue here in arrival order; with several they
            # queue in SQLite's busy handler, which polls with sleeps of up to 100 ms (p99 of seconds).
            kwargs.update(pool_size=1, max_overflow=0, pool_timeout=30)
    else:
        # No pool_pre_ping: with asyncpg it costs three round trips (BEGIN, ";", ROLLBACK) on every checkout.
        # A closed connection is caught locally instead (_install_closed_check); one that fails mid-statement
        # invalidates the pool, and callers on the hot path retry once (storage.db.retry_on_disconnect).
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_recycle=3600)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _install_sqlite_pragmas(engine)
    else:
        _install_closed_check(engine)
    return engine


def _install_closed_check(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        # asyncpg notices a server-side close (restart, idle timeout, pg_terminate_backend) as soon as the
        # event loop reads the EOF: no round trip needed. DisconnectionError makes the pool discard this
        # connection and check out another (SQLAlchemy retries up to three times).
        raw = getattr(dbapi_conn, "_connection", None)
        if raw is not None and raw.is_closed():
            raise exc.DisconnectionError("connection closed by the server")


async def retry_on_disconnect(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt``; if the database connection turned out dead, run it once more on a fresh one.

    For single idempotent statements only (the inbound SID claim): SQLAlchemy has already invalidated the pool
    by the time the error reaches us, so the second try gets a new connection.
    """
    try:
        return await attempt()
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return await attempt()


def _install_sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would delay BEGIN; we let SQLAlchemy emit it (see below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # BEGIN IMMEDIATE takes the write lock at the start, so two writers queue on busy_timeout instead of
        # failing on lock upgrade (SQLITE_BUSY that busy_timeout cannot retry).
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def insert_for(session: AsyncSession, table: Any) -> Insert:
    """A dialect-specific INSERT that supports ON CONFLICT (both SQLite ≥ 3.24 and PostgreSQL do)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {name!r}")
