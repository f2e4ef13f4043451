"""CPU-bound pure work in worker processes, so it never holds the node's GIL.

A label check of an 8 MiB text keeps a core busy for seconds; on a thread it shares the node's
one GIL with the event loop and with the thread answering the inbox, which then wait for it
(``docs/performance.md``, the responsiveness section). A :class:`CpuPool` runs such work in
worker processes instead: started on first use (``spawn``: nothing of the node's state, keys or
sockets is inherited), at most ``size`` of them, each lowered to :data:`WORKER_NICE` so that the
node's own answers get the CPU first.

Only pure functions of plain data cross the boundary: a module-level function, its arguments
and its answer are pickled (bytes in, dicts out); signing and recording stay in the node. A job
past its ``timeout`` has its worker killed (the work is really stopped, unlike a thread's) and is
answered :class:`~detente.errors.BudgetExceeded`; a worker that dies mid-job (killed, out of
memory, a crash in a parser) is answered :class:`~detente.errors.HeavyWorkerLost`. Either way
the worker is replaced by a fresh one on the next job: the pool itself never breaks. A
:class:`~detente.errors.DetenteError` raised by the job is raised again here, with its message
and hint. :meth:`CpuPool.run` blocks: call it from a heavy-work slot's thread
(:mod:`detente.api.heavy`), never from the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from detente.errors import BudgetExceeded, DetenteError, HeavyWorkerLost

__all__ = ["WORKER_NICE", "CpuPool", "CpuPoolStats"]

log = logging.getLogger("detente.cpu_pool")

T = TypeVar("T")

WORKER_NICE = 10
"""How much a worker lowers its own scheduling priority: the node's loop and its short answers
are runnable before heavy work whenever both want a core."""


@dataclass(frozen=True)
class CpuPoolStats:
    """What ``/api/v1/status`` shows of the worker processes (``heavy.workers``)."""

    size: int
    alive: int
    started: int
    jobs: int
    killed_over_budget: int
    lost: int

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _serve(conn: Connection) -> None:
    """A worker's life: take a job, answer it, until the pipe closes."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)
    while True:
        try:
            fn, args, kwargs = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            answer: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except DetenteError as exc:  # typed: raised again in the node with its message and hint
            answer = ("error", (type(exc), exc.args, dict(exc.__dict__)))
        except Exception:  # a bug: the node answers 500 as it would for the same bug on a thread
            answer = ("crash", traceback.format_exc(limit=20))
        try:
            conn.send(answer)
        except Exception:  # an answer that does not pickle is a bug in the job: said so, not hung
            conn.send(("crash", traceback.format_exc(limit=20)))


class _Worker:
    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve, args=(child,), name="detente-cpu", daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        self.process.join(timeout=10)
        with contextlib.suppress(Exception):
            self.conn.close()


class CpuPool:
    """At most ``size`` worker processes running pure jobs; started lazily, replaced when lost."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a CpuPool needs at least one worker")
        self.size = size
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._closed = False
        self._counts = {"started": 0, "jobs": 0, "killed_over_budget": 0, "lost": 0}

    def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker process, answered within ``timeout`` seconds (None:
        waited for to its end). Blocks the calling thread."""
        worker = self._take()
        try:
            worker.conn.send((fn, args, kwargs))
            if not worker.conn.poll(timeout):
                self._drop(worker, "killed_over_budget")
                raise BudgetExceeded(
                    f"the request took longer than its budget of {timeout:g} s; its worker process was stopped "
                    "(nothing was written)"
                )
            kind, value = worker.conn.recv()
        except (EOFError, OSError):  # BrokenPipeError is an OSError
            code = worker.process.exitcode
            self._drop(worker, "lost")
            raise HeavyWorkerLost(
                f"the worker process doing this request ended before it answered (exit status {code}); "
                "nothing was written"
            ) from None
        except BaseException:
            if worker in self._busy:  # interrupted mid-job: its answer would be the next job's
                self._drop(worker, "lost")
            raise
        self._give_back(worker)
        if kind == "ok":
            return value  # type: ignore[no-any-return]
        if kind == "error":
            cls, exc_args, attrs = value
            error = cls.__new__(cls)
            Exception.__init__(error, *exc_args)
            error.__dict__.update(attrs)
            raise error
        raise RuntimeError(f"a worker process's job failed:\n{value}")

    def stats(self) -> CpuPoolStats:
        with self._lock:
            return CpuPoolStats(size=self.size, alive=len(self._idle) + len(self._busy), **self._counts)

    def pids(self) -> list[int]:
        """The process ids of the workers alive now (idle or busy)."""
        with self._lock:
            return [w.process.pid for w in [*self._idle, *self._busy] if w.process.pid is not None]

    def close(self) -> None:
        """Stop every worker, busy ones too (their callers are answered ``HeavyWorkerLost``)."""
        with self._lock:
            self._closed = True
            workers = [*self._idle, *self._busy]
            self._idle.clear()
        for worker in workers:
            worker.kill()

    def _take(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise HeavyWorkerLost("the node is stopping; no new work is taken", hint="retry once it is back")
            worker = self._idle.pop() if self._idle else None
            self._counts["jobs"] += 1
        if worker is None or not worker.process.is_alive():
            if worker is not None:
                worker.kill()
            worker = _Worker(self._context)
            with self._lock:
                self._counts["started"] += 1
        with self._lock:
            self._busy.add(worker)
        return worker

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            if not self._closed and len(self._idle) < self.size:
                self._idle.append(worker)
                return
        worker.kill()

    def _drop(self, worker: _Worker, why: str) -> None:
        with self._lock:
            self._busy.discard(worker)
            self._counts[why] += 1
        worker.kill()
        log.warning("cpu-worker-replaced reason=%s pid=%s", why, worker.process.pid)
