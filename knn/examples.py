"""The corrections people give, kept in SQLite: one row per correction, nothing pickled.

A row holds the 28x28 digit the model was shown (784 bytes, uint8, 0 paper, 255 ink, row by
row), the label the person gave, the model's answer, the time (seconds since the epoch, UTC), the
session id and the user name when known. The database is marked as ours (``PRAGMA
application_id``) and carries its schema version (``PRAGMA user_version``): a file that is not
an SQLite database, is damaged, or belongs to something else is an error at open, never replaced.

Every write is one transaction (``BEGIN IMMEDIATE``, so the check against the limits and the
insert cannot interleave with another writer's); the journal is in WAL mode so readers never wait
for writers; each call opens its own connection, so one store may be shared by threads and any
number of processes may open the same file.

``python -m knn.examples`` lists, exports and deletes them (:mod:`knn.examples_cli`).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from knn.storage import default_cache_dir

#: Marks the database as this project's ("DAD1": draw-a-digit, examples, version 1 of the mark).
APPLICATION_ID = 0x44414431
SCHEMA_VERSION = 1
FILE_NAME = "examples.sqlite"
DIGIT_SHAPE = (28, 28)
#: A session is one visitor's page: enough for a patient teacher, not for a flood.
MAX_PER_SESSION = 200
#: About 80 MB of rows; past that an operator exports and deletes (``python -m knn.examples``).
MAX_ROWS = 100_000
BUSY_TIMEOUT_SECONDS = 30.0

_SCHEMA = """
CREATE TABLE examples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT NOT NULL,
    user TEXT,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    predicted INTEGER CHECK (predicted BETWEEN 0 AND 9),
    created REAL NOT NULL,
    digit BLOB NOT NULL CHECK (length(digit) = 784)
);
CREATE INDEX examples_session ON examples (session);
CREATE INDEX examples_user ON examples (user);
CREATE INDEX examples_created ON examples (created);
"""


class ExampleStoreError(Exception):
    """Base class of the store's errors."""


class StoreFullError(ExampleStoreError):
    """A limit (examples per session, rows in all) is reached; the message says which."""


class NotAnExampleStoreError(ExampleStoreError):
    """The file is not a usable example store: not SQLite, damaged, another application's, or
    written by a newer version. It is left as it is."""


class UnknownExampleError(ExampleStoreError, KeyError):
    """No example with this id belongs to this session."""


class Examples(NamedTuple):
    """Stored examples, oldest first: images uint8 (n, 28, 28), 0 paper, 255 ink; labels uint8
    (n,); ids int64 (n,)."""

    images: np.ndarray
    labels: np.ndarray
    ids: np.ndarray


class SessionSummary(NamedTuple):
    """One session's examples: how many, the user name(s) seen, the first and last times."""

    session: str
    users: str
    count: int
    first: float
    last: float


class ExampleStore:
    """Corrections in an SQLite file (default: ``examples.sqlite`` in the per-user cache).

    Opening creates the file if it does not exist, and checks that an existing one is ours.
    ``max_per_session`` and ``max_rows`` bound what :meth:`add` accepts.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        max_per_session: int = MAX_PER_SESSION,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self.path = Path(path) if path is not None else default_cache_dir() / FILE_NAME
        self.max_per_session = max_per_session
        self.max_rows = max_rows
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._open()

    def add(
        self,
        session: str,
        digit: np.ndarray,
        label: int,
        predicted: int | None,
        user: str | None = None,
    ) -> int:
        """Keep one correction; return its id.

        digit : uint8 (28, 28), 0 paper, 255 ink (what the model was shown); label : the digit
        the person says it is, 0..9; predicted : the model's answer (None if unknown).
        Raises :class:`StoreFullError` at a limit, ``ValueError`` for a bad argument.
        """
        _check_text("session", session)
        if user is not None:
            _check_text("user", user)
        blob = _digit_bytes(digit)
        label = _check_digit_label("label", label)
        predicted = None if predicted is None else _check_digit_label("predicted", predicted)
        with self._transaction() as db:
            (in_session,) = db.execute(
                "SELECT count(*) FROM examples WHERE session = ?", (session,)
            ).fetchone()
            if in_session >= self.max_per_session:
                raise StoreFullError(
                    f"session {session!r} already keeps {in_session} examples, the most one "
                    "session may keep; remove some of them before adding more"
                )
            (total,) = db.execute("SELECT count(*) FROM examples").fetchone()
            if total >= self.max_rows:
                raise StoreFullError(
                    f"{self.path} holds {total} examples, its limit; export them and delete old "
                    "ones with `python -m knn.examples export` and `... delete --before DATE`"
                )
            cursor = db.execute(
                "INSERT INTO examples (session, user, label, predicted, created, digit) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (session, user, label, predicted, time.time(), blob),
            )
            return int(cursor.lastrowid)

    def examples(self, session: str | None = None, user: str | None = None) -> Examples:
        """The examples of a session and/or a user (all if neither), oldest first."""
        where, args = _filter(session=session, user=user)
        with closing(self._connect()) as db:
            rows = db.execute(
                f"SELECT id, label, digit FROM examples{where} ORDER BY id", args
            ).fetchall()
        images = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.uint8)
        return Examples(
            images.reshape(len(rows), *DIGIT_SHAPE),
            np.array([r[1] for r in rows], dtype=np.uint8),
            np.array([r[0] for r in rows], dtype=np.int64),
        )

    def count(self, session: str | None = None, user: str | None = None) -> int:
        """How many examples a session and/or a user has (all if neither)."""
        where, args = _filter(session=session, user=user)
        with closing(self._connect()) as db:
            return int(db.execute(f"SELECT count(*) FROM examples{where}", args).fetchone()[0])

    def sessions(self) -> list[SessionSummary]:
        """Every session with examples, the most recent first."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT session, group_concat(DISTINCT user), count(*), min(created), "
                "max(created) FROM examples GROUP BY session ORDER BY max(created) DESC"
            ).fetchall()
        return [SessionSummary(s, u or "", n, first, last) for s, u, n, first, last in rows]

    def remove(self, example_id: int, session: str, user: str | None = None) -> None:
        """Remove one example, which must belong to ``session`` or, when given, to ``user`` (a
        visitor undoing their own, a logged-in one also those of earlier visits)."""
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM examples WHERE id = ? "
                "AND (session = ? OR (? IS NOT NULL AND user = ?))",
                (int(example_id), session, user, user),
            )
            if cursor.rowcount == 0:
                raise UnknownExampleError(
                    f"no example {example_id} in session {session!r} (removed already?)"
                )

    def delete(self, session: str | None = None, before: datetime | float | None = None) -> int:
        """Delete a session's examples, those made before a time, or both; return how many.

        ``before``: a datetime (naive means local time) or seconds since the epoch. With neither
        argument, nothing is deleted: emptying the store is asked for with ``delete_all``.
        """
        if session is None and before is None:
            raise ValueError("say which examples to delete: a session, a time (before=), or both")
        if isinstance(before, datetime):
            before = before.timestamp()
        where, args = _filter(session=session, before=before)
        with self._transaction() as db:
            return db.execute(f"DELETE FROM examples{where}", args).rowcount

    def delete_all(self) -> int:
        """Delete every example; return how many there were."""
        with self._transaction() as db:
            return db.execute("DELETE FROM examples").rowcount

    def _open(self) -> None:
        """Check that the file is ours (creating it if empty), then turn on WAL."""
        with closing(self._connect()) as db:
            try:
                # One read transaction, so that the three agree while another process creates
                # the store (read apart, an id of 0 and the new tables could both be seen).
                db.execute("BEGIN")
                app_id = db.execute("PRAGMA application_id").fetchone()[0]
                version = db.execute("PRAGMA user_version").fetchone()[0]
                tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                db.execute("COMMIT")
            except sqlite3.DatabaseError as err:
                raise NotAnExampleStoreError(
                    f"{self.path} is not an SQLite database or is damaged ({err}); it was left "
                    "as it is: move it away (or pass another path) to start a new store"
                ) from None
            if app_id == 0 and tables == 0:
                self._create(db)
            elif app_id != APPLICATION_ID:
                raise NotAnExampleStoreError(
                    f"{self.path} is an SQLite database of another application (application_id "
                    f"{app_id:#x}, not {APPLICATION_ID:#x}); it was left as it is: pass the path "
                    "of an example store, or a new file"
                )
            elif version > SCHEMA_VERSION:
                raise NotAnExampleStoreError(
                    f"{self.path} was written by a newer version (schema {version}, this code "
                    f"reads up to {SCHEMA_VERSION}); upgrade this program to use it"
                )
            _use_wal(db)
            problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:
                raise NotAnExampleStoreError(
                    f"{self.path} is damaged ({'; '.join(problems[:3])}); it was left as it is: "
                    "restore a copy or move it away to start a new store"
                )

    def _create(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have created it while this one waited for the lock.
            if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken at once (``BEGIN IMMEDIATE``) so that checks hold until
        the commit; rolled back on any exception."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


def _filter(**conditions: Any) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause for the conditions that are not None (``before`` compares the time)."""
    clauses, args = [], []
    for name, value in conditions.items():
        if value is not None:
            clauses.append("created < ?" if name == "before" else f"{name} = ?")
            args.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)


def _digit_bytes(digit: Any) -> bytes:
    digit = np.asarray(digit)
    if digit.shape != DIGIT_SHAPE or digit.dtype != np.uint8:
        raise ValueError(
            f"digit must be uint8 of shape {DIGIT_SHAPE} (0 paper, 255 ink), got "
            f"{digit.dtype} {digit.shape}"
        )
    return np.ascontiguousarray(digit).tobytes()


def _check_digit_label(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= 9:
        raise ValueError(f"{name} must be a digit 0..9, got {value!r}")
    return int(value)


def _check_text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValueError(f"{name} must be a non-empty string of at most 200 characters")


if __name__ == "__main__":
    from knn.examples_cli import main

    raise SystemExit(main())


def _use_wal(db: sqlite3.Connection) -> None:
    """Turn on write-ahead logging (it stays on in the file). The switch needs the file to
    itself and SQLite does not wait for it, so while other processes open a new store at the
    same moment it is tried again until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        if time.monotonic() > deadline:
            raise ExampleStoreError(
                "the example store could not turn on write-ahead logging (is its folder on a "
                "file system that SQLite cannot share memory on?)"
            )
        try:
            db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as err:
            if "locked" not in str(err):
                raise
            time.sleep(0.02)
