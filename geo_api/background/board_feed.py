"""The live boards' shared reader: one read of the changes per server process, fanned out.

Every open board (`GET /board/stream`) used to read the database itself on each
wake-up: 50 boards at 100 intakes/s were 250 reads a second and a p95 push of
3.3 s on 2 cores.  Now one reader task per process, woken through the process's
single LISTEN connection (`case_events`), reads what changed once (as `EVERYONE`,
with the `Watermark` logic: the cursor moves only over unbroken id runs, so a
higher id committing first makes nobody skip the lower one), renders each event's
SSE text once, asks once per *distinct scope* among the connected boards which of
the cases it may see (`visible_cases`), and puts the same `Batch` on every board's
queue.  Each board then sends the events its scope lets through.  The reader reads on
its own thread and connection (`OwnConnection`), so a saturated intake does not make it
wait in the request threads' line for a pooled connection.

A board that joins with an older cursor (a reconnect with ``Last-Event-ID``) first
reads what it missed for itself (`catch_up`, its own scope), up to what the feed had
settled or sent when it joined, then follows the feed: nothing missed, nothing twice.
The reader starts with the first board (from that board's cursor) and stops with the
last one.  A board whose queue backs up is closed; it resumes from its cursor.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from fastapi import FastAPI
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from geo_api.background.case_events import EVERY_CASE, Subscription
from grids.cases.access import Actor
from grids.cases.board import (
    EVERYONE,
    MAX_CHANGES,
    Changes,
    Cursor,
    ScopeKey,
    Watermark,
    board_changes,
    visible_cases,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

GAP_POLL_S = 0.5
"""While an id below sent ones is missing, look again this often (its commit also wakes us)."""
COALESCE_S = 0.05
"""After a wake-up, gather this long: one read for a burst of commits, not one per commit."""
IDLE_S = 15.0
"""Without a wake-up, look at least this often whether any board is still connected."""
MAX_BACKLOG = 500
"""Batches a board may fall behind by before it is closed (it resumes from its cursor)."""
RETRY_S = 1.0
"""After a failed read (the database away), try again this much later."""


def sse_json(value: Any) -> str:
    """The JSON of an event's payload, as the board stream has always written it."""
    return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


def case_text(event: dict[str, Any]) -> str:
    """One case event as SSE text."""
    return f"event: case\ndata: {sse_json(event)}\n\n"


def position_text(position: dict[str, Any]) -> str:
    """One worker position as SSE text."""
    return f"event: position\ndata: {sse_json(position)}\n\n"


class OwnConnection:
    """The shared reader's own thread and database connection, held while boards are open.

    Why: at a saturated intake every request thread waits for one of the pool's
    connections (and the worker pool's threads); the reader queued behind them, so a
    commit reached the boards only after the queue ahead of it had drained.  With its
    own thread and connection it reads as soon as it is woken.  A failed read drops
    the connection; the next one checks out a fresh one.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="wangge-board-read")
        self._conn: Connection | None = None

    def _call(self, read: Callable[[Session], T]) -> T:
        if self._conn is None or self._conn.closed:
            self._conn = self._engine.connect()
        try:
            with Session(bind=self._conn, expire_on_commit=False) as session:
                return read(session)
        except Exception:
            self._drop()
            raise

    async def read(self, read: Callable[[Session], T]) -> T:
        """`read(session)` on the reader's thread, in its own transaction on its connection."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._call, read)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:
                logger.debug("dropping the board reader's connection failed", exc_info=True)

    async def release(self) -> None:
        """Give the connection back to the pool (the last board left)."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._release)

    def close(self) -> None:
        """End the reader's thread (at shutdown)."""
        self._thread.shutdown(wait=False)

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


@dataclass(frozen=True)
class Batch:
    """What one shared read found: rendered once, filtered per board by `visible`."""

    events: list[tuple[int, int, str]]
    """(event id, case id, SSE text), oldest first."""
    positions: list[tuple[int, str]]
    visible: dict[ScopeKey, frozenset[int]]
    """Per scope asked for: the cases of `events` it may see."""
    cursor: Cursor
    """The feed's safe cursor after this batch."""


@dataclass(frozen=True)
class Joined:
    """The feed as a board found it on joining: what is settled and what was sent above it."""

    mark: Cursor
    sent: tuple[frozenset[int], frozenset[int]]


@dataclass(eq=False)
class Board:
    """One connected board: its scope, where it started, its queue of batches."""

    scope: ScopeKey
    start: Cursor
    joined: Joined
    queue: asyncio.Queue[Batch | None] = field(default_factory=asyncio.Queue)
    closed: bool = False
    """The feed gave up on this board (it fell too far behind): end the stream."""


class BoardFeed:
    """This process's shared board reader and the boards it feeds."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._boards: set[Board] = set()
        self._scopes: Counter[ScopeKey] = Counter()
        self._marks: tuple[Watermark, Watermark] | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._own: OwnConnection | None = None
        self.reads = 0
        """Shared reads so far (tests and benchmarks count them)."""

    def join(self, scope: ScopeKey, after: Cursor) -> Board:
        """Connect a board (from the running loop); the reader starts with the first one."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._marks = (Watermark(after.event_id), Watermark(after.position_id))
            self._loop = loop
            self._task = loop.create_task(self._run(), name="wangge-board-feed")
        ev, po = self._marks  # type: ignore[misc]
        joined = Joined(Cursor(ev.mark, po.mark), (frozenset(ev.sent), frozenset(po.sent)))
        board = Board(scope, after, joined)
        self._boards.add(board)
        self._scopes[scope] += 1
        return board

    def leave(self, board: Board) -> None:
        """Disconnect a board (its stream ended)."""
        if board in self._boards:
            self._boards.discard(board)
            self._scopes[board.scope] -= 1
            if self._scopes[board.scope] <= 0:
                del self._scopes[board.scope]

    def boards(self) -> int:
        """How many boards this process feeds now."""
        return len(self._boards)

    async def _run(self) -> None:
        hub = self._app.state.case_events
        sub: Subscription = hub.subscribe(EVERY_CASE)
        if self._own is None:
            self._own = OwnConnection(self._app.state.engine)
        try:
            while self._boards:
                await self._round(sub, self._own)
        finally:
            hub.unsubscribe(sub)
            try:
                await self._own.release()
            except (Exception, asyncio.CancelledError):  # at shutdown: the pool goes anyway
                logger.debug("releasing the board reader's connection failed", exc_info=True)

    async def _round(self, sub: Subscription, own: OwnConnection) -> None:
        """One read, handed to every board; then wait for the next wake-up."""
        marks = self._marks
        assert marks is not None
        scopes = list(self._scopes)
        try:
            changes, visible = await own.read(lambda s: self._read(s, marks, scopes))
        except Exception:
            logger.warning("the shared board read failed; retrying", exc_info=True)
            await asyncio.sleep(RETRY_S)
            return
        self.reads += 1
        self._hand_on(marks, changes, visible)  # no await in between: joins see a settled state
        full = MAX_CHANGES in (len(changes.event_ids), len(changes.position_ids))
        if full:
            return  # more waiting: read on before sleeping
        waiting = marks[0].waiting or marks[1].waiting
        if await sub.wait(GAP_POLL_S if waiting else IDLE_S):
            await asyncio.sleep(COALESCE_S)
            sub.event.clear()  # what woke us meanwhile is in the next read

    def _read(
        self, s: Session, marks: tuple[Watermark, Watermark], scopes: list[ScopeKey]
    ) -> tuple[Changes, dict[ScopeKey, frozenset[int]]]:
        changes = board_changes(
            session=s,
            actor=EVERYONE,
            after=Cursor(marks[0].mark, marks[1].mark),
            now=self._app.state.clock(),
            sent=(marks[0].sent, marks[1].sent),
        )
        ids = {e["incident_id"] for e in changes.events}
        return changes, visible_cases(session=s, scopes=scopes, ids=ids)

    def _hand_on(
        self,
        marks: tuple[Watermark, Watermark],
        changes: Changes,
        visible: dict[ScopeKey, frozenset[int]],
    ) -> None:
        t = time.monotonic()
        for mark, ids in zip(marks, (changes.event_ids, changes.position_ids), strict=True):
            mark.fresh(ids)
            mark.advance(ids, t)
        batch = Batch(
            [(e["id"], e["incident_id"], case_text(e)) for e in changes.events],
            [(p["id"], position_text(p)) for p in changes.positions],
            visible,
            Cursor(marks[0].mark, marks[1].mark),
        )
        for board in list(self._boards):
            if board.queue.qsize() >= MAX_BACKLOG:
                board.closed = True
                board.queue.put_nowait(None)
                self.leave(board)
            else:
                board.queue.put_nowait(batch)

    def stop(self) -> None:
        """End the reader (at shutdown)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._own is not None:
            self._own.close()


async def catch_up(
    maker: Callable[[], Session], clock: Callable[[], datetime], actor: Actor, board: Board
) -> AsyncIterator[str]:
    """What a resuming board missed before it joined: read for it alone, in its own scope.

    Everything up to the feed's mark when the board joined, and the ids the feed had
    already sent above it; the rest reaches the board through the feed.
    """
    start, joined = board.start, board.joined
    top = (
        max([joined.mark.event_id, *joined.sent[0]]),
        max([joined.mark.position_id, *joined.sent[1]]),
    )
    if start.event_id >= top[0] and start.position_id >= top[1]:
        return

    def wanted(i: int, after: int, mark: int, sent: frozenset[int]) -> bool:
        return i > after and (i <= mark or i in sent)

    def read(cur: Cursor) -> Changes:
        with maker() as s:
            return board_changes(session=s, actor=actor, after=cur, now=clock())

    cur = Cursor(min(start.event_id, top[0]), min(start.position_id, top[1]))
    while True:
        changes = await run_in_threadpool(read, cur)
        for e in changes.events:
            if wanted(e["id"], start.event_id, joined.mark.event_id, joined.sent[0]):
                yield case_text(e)
        for p in changes.positions:
            if wanted(p["id"], start.position_id, joined.mark.position_id, joined.sent[1]):
                yield position_text(p)
        more_e = len(changes.event_ids) == MAX_CHANGES and changes.cursor.event_id < top[0]
        more_p = len(changes.position_ids) == MAX_CHANGES and changes.cursor.position_id < top[1]
        if not (more_e or more_p):
            return
        cur = Cursor(
            changes.cursor.event_id if more_e else top[0],
            changes.cursor.position_id if more_p else top[1],
        )


def install(app: FastAPI) -> None:
    """Give the app its feed (`app.state.board_feed`), stopped at shutdown."""
    app.state.board_feed = BoardFeed(app)
    app.state.shutdown_hooks.append(lambda a: a.state.board_feed.stop())
