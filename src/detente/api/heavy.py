"""Heavy work off the event loop, in bounded slots and within a time budget.

Label checks and applies, report rendering, STIX exports and imports, incident imports and eval
runs each run on one of ``heavy_slots`` worker threads (``detente.toml``), never on the event
loop, so ``/healthz``, the inbox and sync stay answered however large the input. A request that
finds every slot taken is refused at once (503 ``heavy-work-busy`` with ``Retry-After``) rather
than queued behind work it cannot see.

A *read* (a check, a rendering, an export) whose answer takes longer than
``heavy_budget_seconds`` is answered 503 ``budget-exceeded``; a thread cannot be stopped from
outside, so its work runs on to its end and keeps its slot until then (``abandoned`` in
``/api/v1/status`` counts them), and the node refuses new heavy work while the slots are full.
A *write* (an import, an eval run: it signs records) is never abandoned half-way: it keeps its
slot and is answered when it ends, so no record is half-written and a retry with the same
``Idempotency-Key`` never signs twice.

While any heavy work runs, the interpreter's switch interval is lowered from its default 5 ms to
:data:`SWITCH_INTERVAL`: a worker thread holds the GIL for at most that long before the event loop
(or the thread answering the inbox) gets it back, so the short requests between two heavy ones
wait for the GIL a tenth as long (``docs/performance.md``, the responsiveness section).

The pure CPU part of a label check (parsing, C2PA reading, the text scan) does not even run on
the slot's thread: :meth:`HeavyWork.compute` hands it to a worker *process*
(:class:`~detente.node.cpu_pool.CpuPool`, one per slot, started on first use), so it never holds
the node's GIL; its budget is kept by stopping the worker (503 ``budget-exceeded``, the slot free
at once), and a worker lost mid-job is answered 503 ``heavy-worker-lost`` and replaced.

A route that must read a large body first takes its slot with :meth:`HeavyWork.reserve` *before*
reading it: a request that finds every slot taken is refused without its body being read."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from detente.errors import BudgetExceeded, HeavyWorkBusy
from detente.node.cpu_pool import CpuPool

__all__ = ["HeavyStats", "HeavyWork", "Slot", "heavy_of", "install_heavy"]

T = TypeVar("T")

SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL while another waits for it, whenever heavy work runs."""

_switch_lock = threading.Lock()
_switch = {"running": 0, "saved": 0.0}


def _heavy_started() -> None:
    """The first heavy work in the process lowers the switch interval (every ``HeavyWork`` counts:
    the tests make several in one process)."""
    with _switch_lock:
        if _switch["running"] == 0:
            _switch["saved"] = sys.getswitchinterval()
            sys.setswitchinterval(min(SWITCH_INTERVAL, _switch["saved"]))
        _switch["running"] += 1


def _heavy_ended() -> None:
    """The last heavy work to end gives the interval back as it was."""
    with _switch_lock:
        _switch["running"] -= 1
        if _switch["running"] == 0:
            sys.setswitchinterval(_switch["saved"])


@dataclass(frozen=True)
class HeavyStats:
    """What ``/api/v1/status`` shows of the heavy work: slots, how many are running now (and
    ``reserved``: taken by requests whose body is still being read), the worker processes, and
    totals since the node started."""

    slots: int
    budget_seconds: float
    running: int
    reserved: int
    finished: int
    refused_busy: int
    over_budget: int
    abandoned_running: int
    failed: int
    workers: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class HeavyWork:
    """The node's heavy-work slots (one per worker thread) and its answer budget for reads."""

    def __init__(self, slots: int, budget_seconds: float) -> None:
        self.slots = slots
        self.budget_seconds = budget_seconds
        self._free = threading.BoundedSemaphore(slots)
        self._closed = False
        self._lock = threading.Lock()
        self._running = 0
        self._reserved = 0
        self._abandoned = 0
        self._counts = {"finished": 0, "refused_busy": 0, "over_budget": 0, "failed": 0}
        self._pool: CpuPool | None = None

    def reserve(self) -> Slot:
        """A slot taken now, or 503 ``heavy-work-busy`` at once: take it before reading a large
        body (``async with heavy.reserve() as slot:``), then run the work on it."""
        if self._closed or not self._free.acquire(blocking=False):
            self._count("refused_busy")
            raise HeavyWorkBusy(
                f"all {self.slots} heavy-work slots are taken (label checks, reports, imports, exports, eval runs)",
                retry_after=str(max(1, round(self.budget_seconds / 4))),
            )
        with self._lock:
            self._reserved += 1
        return Slot(self)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a slot; answered 503 past the budget (the work runs on)."""
        return await self.reserve().read(fn, *args, **kwargs)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a slot, waited for to its end (it signs records)."""
        return await self.reserve().write(fn, *args, **kwargs)

    @property
    def pool(self) -> CpuPool:
        """The worker processes for :meth:`compute`, started on first use."""
        with self._lock:
            if self._pool is None:
                self._pool = CpuPool(self.slots)
            return self._pool

    def compute(self, fn: Callable[..., T], *args: Any, budget: bool = True, **kwargs: Any) -> T:
        """A pure ``fn(*args, **kwargs)`` (plain data in and out) in a worker process; blocking, so
        called from work running on a slot. ``budget``: the worker is stopped past
        ``heavy_budget_seconds`` (503 ``budget-exceeded``); without it, waited for to its end."""
        return self.pool.run(fn, *args, timeout=self.budget_seconds if budget else None, **kwargs)

    def stats(self) -> HeavyStats:
        pool = self._pool
        workers = pool.stats().as_json() if pool is not None else {"size": self.slots, "alive": 0}
        with self._lock:
            return HeavyStats(
                slots=self.slots,
                budget_seconds=self.budget_seconds,
                running=self._running,
                reserved=self._reserved,
                abandoned_running=self._abandoned,
                workers=workers,
                **self._counts,
            )

    def close(self) -> None:
        """Stop taking work. Threads still running are daemon threads, never waited for, so a
        SIGTERM mid-request stops the node in bounded time; worker processes are stopped."""
        self._closed = True
        if self._pool is not None:
            self._pool.close()

    async def _run(
        self, slot: Slot, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], *, budget: bool
    ) -> T:
        slot.hand_over()
        state = {"abandoned": False}
        with self._lock:
            self._running += 1
        _heavy_started()

        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def work() -> None:
            result: Any = None
            error: BaseException | None = None
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the request, which answers with it
                error = exc
            finally:  # the slot is free before the answer is handed over, so a next request finds it
                with self._lock:
                    self._running -= 1
                    if state["abandoned"]:
                        self._abandoned -= 1
                _heavy_ended()
                self._free.release()
            _settle(loop, future, result, error)

        # a daemon thread per request (the semaphore bounds them): never joined at exit
        threading.Thread(target=work, name="detente-heavy", daemon=True).start()
        try:
            if budget:
                result = await asyncio.wait_for(asyncio.shield(future), self.budget_seconds)
            else:
                result = await future
        except TimeoutError:
            with self._lock:
                if not future.done():
                    state["abandoned"] = True
                    self._abandoned += 1
                self._counts["over_budget"] += 1
            future.add_done_callback(_retrieve)
            raise BudgetExceeded(
                f"the request took longer than its budget of {self.budget_seconds:g} s and was abandoned "
                "(the work runs on in its slot until it ends; nothing was written)"
            ) from None
        except BudgetExceeded:  # a worker process stopped at the budget (compute): its slot is free
            self._count("over_budget")
            raise
        except BaseException:
            self._count("failed")
            raise
        self._count("finished")
        return result

    def _unreserve(self) -> None:
        with self._lock:
            self._reserved -= 1

    def _count(self, what: str) -> None:
        with self._lock:
            self._counts[what] += 1


class Slot:
    """One heavy-work slot, taken by :meth:`HeavyWork.reserve`. Its work is started with
    :meth:`read` or :meth:`write` (the slot is then given back when the work ends); a slot whose
    work never started (the body was refused 413, the client went away) is given back when its
    ``async with`` block ends."""

    def __init__(self, heavy: HeavyWork) -> None:
        self._heavy = heavy
        self._held = True

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on this slot's thread; answered 503 past the budget (the work runs on)."""
        return await self._heavy._run(self, fn, args, kwargs, budget=True)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on this slot's thread, waited for to its end (it signs records, or it
        keeps its budget itself: :meth:`HeavyWork.compute`)."""
        return await self._heavy._run(self, fn, args, kwargs, budget=False)

    def hand_over(self) -> None:
        """The work has started: from now on its thread gives the slot back."""
        if not self._held:
            raise RuntimeError("a heavy-work slot runs one piece of work")
        self._held = False
        self._heavy._unreserve()

    def release(self) -> None:
        """Give the slot back if no work was started on it."""
        if self._held:
            self._held = False
            self._heavy._unreserve()
            self._heavy._free.release()

    async def __aenter__(self) -> Slot:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


def _settle(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], result: Any, exc: BaseException | None
) -> None:
    """Hand a worker thread's outcome to its future on the event loop (gone at shutdown: dropped)."""

    def done() -> None:
        if future.done():
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)

    with contextlib.suppress(RuntimeError):  # the loop has closed: the node is stopping, nobody waits
        loop.call_soon_threadsafe(done)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """An abandoned future's outcome is read so that its error is never logged as unretrieved."""
    if not future.cancelled():
        future.exception()


def install_heavy(app: Any, slots: int, budget_seconds: float) -> HeavyWork:
    """The application's heavy-work slots, made on first use (every route module that runs heavy
    work calls this, so each can be served on its own, as the tests do)."""
    heavy: HeavyWork | None = getattr(app.state, "heavy", None)
    if heavy is None:
        heavy = app.state.heavy = HeavyWork(slots, budget_seconds)
    return heavy


def heavy_of(request: Any) -> HeavyWork:
    """The node's heavy-work slots, as ``create_app`` keeps them on the application."""
    heavy: HeavyWork = request.app.state.heavy
    return heavy
