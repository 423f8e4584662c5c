"""DB data sources: an SQL query through SQLAlchemy, SQLite by default, PostgreSQL
(and whatever SQLAlchemy reaches) when the configuration says so.

``<database>`` takes NXSDataWriter's attributes (``dbtype`` PGSQL/MYSQL, ``dbname``,
``hostname``, ``port``, ``user``, ``passwd``) plus ``dbtype="SQLITE"`` with ``dbname`` a
file, or a ``url`` (any SQLAlchemy URL). Queries run read-only (SQLite opened with
``mode=ro``, PostgreSQL in a ``READ ONLY`` transaction): a configuration cannot change
the database. ``format`` SCALAR, SPECTRUM or IMAGE as in NXSDataWriter.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from ..core import NotFoundError, ValidationError
from ._config import Source
from ._sources import Sample

__all__ = ["DbReader", "db_url"]

_DRIVERS = {"PGSQL": "postgresql+psycopg2", "POSTGRESQL": "postgresql+psycopg2", "MYSQL": "mysql+pymysql"}


def db_url(params: dict[str, str]) -> str:
    """The SQLAlchemy URL of a DB source."""
    if params.get("url"):
        return params["url"]
    kind = params.get("dbtype", "SQLITE").upper()
    if kind == "SQLITE":
        if not params.get("dbname"):
            raise ValidationError("an SQLITE database needs dbname=\"/path/to/file.db\"")
        return f"sqlite:///file:{quote(params['dbname'])}?mode=ro&uri=true"
    if kind not in _DRIVERS:
        raise ValidationError(f"dbtype {kind!r}: ctlshell knows SQLITE, PGSQL, MYSQL (or give url=...)")
    user = quote(params.get("user", ""))
    if params.get("passwd"):
        user += ":" + quote(params["passwd"])
    host = params.get("hostname", "127.0.0.1") + (f":{params['port']}" if params.get("port") else "")
    return f"{_DRIVERS[kind]}://{user + '@' if user else ''}{host}/{params.get('dbname', '')}"


def _shape(rows: Sequence[Any], fmt: str, query: str) -> Any:
    if not rows:
        raise NotFoundError(f"query returned no rows: {query}")
    if fmt == "SCALAR":
        return rows[0][0]
    if fmt == "SPECTRUM":
        return [r[0] for r in rows] if len(rows[0]) == 1 else list(rows[0])
    return [list(r) for r in rows]


class DbReader:
    """Runs the query of a DB source; one SQLAlchemy engine per database URL."""

    def __init__(self) -> None:
        self._engines: dict[str, Any] = {}

    def read(self, source: Source) -> Sample:
        from sqlalchemy import create_engine, text

        url = db_url(source.params)
        engine = self._engines.get(url)
        if engine is None:
            engine = self._engines[url] = create_engine(url, pool_pre_ping=True)
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION READ ONLY"))
            rows = conn.execute(text(source.params["query"])).fetchall()
            conn.rollback()
        return Sample(_shape(rows, source.params["format"], source.params["query"]), time.time())

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
