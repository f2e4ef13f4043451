"""A party's tiled Merkle log over a :class:`~detente.store.protocol.LogStore`.

:meth:`TileLog.append` integrates a batch and publishes a newly signed checkpoint in one
transaction; it returns only once every index in the batch is durable. The stored checkpoint is
the compare-and-swap token: a writer that lost a race reloads and integrates again, so two
writers can never publish different trees of the same size. The stored checkpoint is verified
with the log's own key whenever it is loaded (fail closed: a store whose checkpoint was not
signed by this log is refused).

Proofs read only the tiles they need, through two bounded LRU caches: one of full level-0 tiles
(one per 256 entries: the many, each read by few proofs) and one of every other tile (the upper
levels and the partial tiles of the right edges: few, and read by every proof). A tile is only
ever replaced in the store by a wider one whose hashes start with the narrower one's, so a cached
tile serves any proof that needs no more of it than it holds; a wider need reads the store again.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeGuard

from detente.crypto.keys import Ed25519Identity, VerifierKey
from detente.crypto.note import Ed25519NoteSigner
from detente.crypto.note_verifiers import verifier_for
from detente.errors import (
    CheckpointConflict,
    ConsistencyError,
    DetenteError,
    InclusionError,
    LogNotFound,
    MalformedTile,
    StorageError,
)
from detente.store.protocol import LogStore, TilePos
from detente.tlog.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from detente.tlog.hashing import EMPTY_ROOT, HASH_SIZE
from detente.tlog.integrate import Integration, edge_tiles, integrate
from detente.tlog.proofs import consistency_proof, inclusion_proof, tree_root
from detente.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileID,
    decode_entry_bundle,
    encode_entry_bundle,
    node_location,
    stored_node,
    tile_bytes,
)

__all__ = ["AppendResult", "TileLog"]

_CAS_RETRIES = 32
_OFFSETS = [[sum(w >> i for i in range(k)) for k in range(TILE_HEIGHT + 1)] for w in range(TILE_WIDTH + 1)]
"""``_OFFSETS[width][k]``: where sublevel ``k`` starts in a stored tile of ``width``, in hashes
(as ``tiles.stored_node`` computes it on every call)."""


@dataclass(frozen=True)
class _Prepared:
    """A batch integrated and signed on top of ``old``/``old_note``, not yet written."""

    old: Checkpoint
    old_note: bytes | None
    checkpoint: Checkpoint
    note: bytes
    result: Integration
    writes: dict[TileID, bytes]
    """The tiles and bundles to commit."""
    edge: dict[TileID, bytes]
    """The tree's right edge after this batch: what the next batch integrates on."""
    identity: Ed25519Identity
    """The key that signed ``note``: the log's key after this batch."""
    rotation: tuple[bytes, Ed25519Identity] | None
    """The rotation scheduled when the batch was prepared."""
    rotating: bool


@dataclass(frozen=True)
class AppendResult:
    first_index: int
    count: int
    checkpoint: Checkpoint
    note: bytes
    leaf_hashes: tuple[bytes, ...]


class TileLog:
    """One log (``origin``) in a store, readable by anyone with the log's key and writable by
    the holder of its identity."""

    def __init__(
        self,
        store: LogStore,
        origin: str,
        keys: Sequence[VerifierKey],
        *,
        identity: Ed25519Identity | None = None,
        tile_cache_size: int = 2048,
        upper_cache_size: int = 1024,
    ) -> None:
        if not keys:
            raise LogNotFound(f"no verifier key given for log {origin!r}")
        self.store = store
        self.origin = origin
        self.keys = tuple(keys)
        self._verifiers = [verifier_for(k) for k in keys]
        self._identity = identity
        self._write_lock = threading.Lock()
        self._cache: OrderedDict[TilePos, tuple[bytes, int]] = OrderedDict()
        """Full level-0 tiles, at most ``tile_cache_size``."""
        self._upper: OrderedDict[TilePos, tuple[bytes, int]] = OrderedDict()
        """Every other tile (upper levels, partial tiles) at its widest seen, at most ``upper_cache_size``."""
        self._cache_size = tile_cache_size
        self._upper_size = upper_cache_size
        self._cache_lock = threading.Lock()
        self._checkpoint = Checkpoint(origin, 0, EMPTY_ROOT)
        self._note: bytes | None = None
        self._rotation: tuple[bytes, Ed25519Identity] | None = None
        self.refresh()

    @classmethod
    def mirror(
        cls, store: LogStore, key: VerifierKey, *, keys: Sequence[VerifierKey] = (), tile_cache_size: int = 2048
    ) -> TileLog:
        """Open (creating if needed) this store's mirror of the log signed by ``key`` (and, after
        rotations, by the other ``keys`` of its history)."""
        store.ensure_log(key.name)
        return cls(store, key.name, [key, *(k for k in keys if k != key)], tile_cache_size=tile_cache_size)

    def trust(self, keys: Sequence[VerifierKey]) -> None:
        """Also accept checkpoints signed by ``keys``: keys of this log's history that a verified
        rotation record named (``detente.records.keys``). Never call it with any other key."""
        for key in keys:
            if key.name != self.origin:
                raise LogNotFound(f"key {key} is not a key of log {self.origin!r}")
            if key not in self.keys:
                self.keys = (*self.keys, key)
                self._verifiers = [*self._verifiers, verifier_for(key)]

    def schedule_rotation(self, entry: bytes, identity: Ed25519Identity) -> None:
        """The batch that ends with ``entry`` (a rotation record sealed by the current key) has its
        checkpoint signed by ``identity``, the key the record names; from then on this log signs
        with ``identity``. The caller makes sure nothing sealed by the old key is queued after it."""
        if self._identity is None or identity.name != self.origin:
            raise LogNotFound(f"log {self.origin!r} cannot rotate to a key named {identity.name!r} here")
        self._rotation = (entry, identity)

    @classmethod
    def create(cls, store: LogStore, identity: Ed25519Identity, **kw: int) -> TileLog:
        """Open the log named after ``identity`` for writing, creating it with a signed empty
        checkpoint if it does not exist yet."""
        store.ensure_log(identity.name)
        if store.latest_checkpoint(identity.name) is None:
            empty = Checkpoint(identity.name, 0, EMPTY_ROOT)
            note = sign_checkpoint(empty, [Ed25519NoteSigner(identity)]).to_bytes()
            # another writer may create it first; refresh() then verifies whatever is there
            with contextlib.suppress(CheckpointConflict):
                store.commit(identity.name, None, note, {})
        return cls(store, identity.name, [identity.vkey()], identity=identity, **kw)

    # --- state ----------------------------------------------------------------------------

    def refresh(self) -> Checkpoint:
        """Reload and verify the stored checkpoint (another process may have appended)."""
        note = self.store.latest_checkpoint(self.origin)
        if note is None:
            self._checkpoint, self._note = Checkpoint(self.origin, 0, EMPTY_ROOT), None
        else:
            verified = open_checkpoint(note, self._verifiers, origin=self.origin)
            if verified.checkpoint.size < self._checkpoint.size:
                raise StorageError(
                    f"stored checkpoint of {self.origin!r} went back from size "
                    f"{self._checkpoint.size} to {verified.checkpoint.size}"
                )
            self._checkpoint, self._note = verified.checkpoint, note
        return self._checkpoint

    @property
    def checkpoint(self) -> Checkpoint:
        return self._checkpoint

    @property
    def size(self) -> int:
        return self._checkpoint.size

    def signed_checkpoint(self) -> bytes:
        """The latest signed checkpoint note, as served at ``<prefix>/checkpoint``."""
        if self._note is None:
            raise LogNotFound(f"log {self.origin!r} has no checkpoint yet")
        return self._note

    # --- writing --------------------------------------------------------------------------

    def append(self, entries: Sequence[bytes]) -> AppendResult:
        """Append a batch; return once every entry is durable and a new checkpoint is stored."""
        self._check_writable(entries)
        with self._write_lock:
            for attempt in range(_CAS_RETRIES):
                old, old_note = self._checkpoint, self._note
                try:
                    edge = self._edge(old.size)
                except StorageError:
                    if self.store.latest_checkpoint(self.origin) == old_note:
                        raise  # the store really is out of step with its own checkpoint
                    self.refresh()  # another writer moved on: our view was stale
                    continue
                batch = self._prepare(entries, old, old_note, edge, self._identity, self._rotation)
                try:
                    self.store.commit(self.origin, old_note, batch.note, batch.writes)
                except CheckpointConflict:
                    self.refresh()
                    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                    continue
                return self._publish(batch)
        raise CheckpointConflict(f"log {self.origin!r} kept changing under this writer")

    def append_pipelined(self, batches: Iterable[Sequence[bytes]]) -> Iterator[AppendResult]:
        """Append several batches, yielding each one's result once it is durable, in order.

        Batch k+1 is integrated and signed while the store writes batch k
        (:meth:`~detente.store.protocol.LogStore.start_commit`: PostgreSQL inserts the tiles while
        this process computes; SQLite writes and fsyncs its WAL on a thread), so the hashing and
        the writing overlap instead of running one after the other (docs/performance.md,
        "On the quiet machine"). Batch k+1 integrates on
        the right edge batch k made; the first batch of a call reads its edge from the store.

        Each batch is its own transaction and compare-and-swap on the checkpoint of the batch
        before it, and is only sent once that one is durable. When a commit fails, that batch and
        every later one are not appended (nothing of them is written), the log is reloaded from
        the store, and the error is raised. Unlike :meth:`append`, a lost compare-and-swap is not
        retried: the batches prepared after it were signed on a tree that is not the stored one
        (:class:`CheckpointConflict`: append what is left again). No commit is in flight while
        the caller holds a result, so stopping early leaves nothing half-done, and the caller may
        append to this log in between (the batch prepared ahead is then prepared again).
        """
        it = iter(batches)
        entries = next(it, None)
        if entries is None:
            return
        self._check_writable(entries)
        self.refresh()
        ahead: _Prepared | None = None
        while entries is not None:
            following = next(it, None)
            failed: DetenteError | None = None
            with self._write_lock:
                batch = ahead if self._builds_on_state(ahead) else self._prepare_on_state(entries)
                ahead = None
                try:
                    finish = self.store.start_commit(self.origin, batch.old_note, batch.note, batch.writes)
                    try:
                        if following is not None:
                            self._check_writable(following)
                            ahead = self._prepare_after(batch, following)
                    except DetenteError as exc:  # batch k is in flight: report it first
                        failed = exc
                    finally:
                        finish()
                except BaseException:
                    with contextlib.suppress(DetenteError):
                        self.refresh()  # whatever the store holds now: the next append starts there
                    raise
                result = self._publish(batch)
            yield result
            if failed is not None:
                raise failed
            entries = following

    def _check_writable(self, entries: Sequence[bytes]) -> None:
        if self._identity is None:
            raise LogNotFound(f"log {self.origin!r} is open read-only here (no signing key)")
        if not entries:
            raise MalformedTile("append needs at least one entry")

    def _prepare(
        self,
        entries: Sequence[bytes],
        old: Checkpoint,
        old_note: bytes | None,
        edge: dict[TileID, bytes],
        identity: Ed25519Identity | None,
        rotation: tuple[bytes, Ed25519Identity] | None,
    ) -> _Prepared:
        """Integrate ``entries`` on the tree ``old`` (whose right edge is ``edge``) and sign the
        new checkpoint, with the key in force then (a scheduled rotation's key for the batch that
        ends with the rotation record). Writes nothing."""
        if rotation is not None and rotation[0] in entries[:-1]:
            raise StorageError(f"a rotation record of {self.origin!r} must be the last entry of its batch")
        rotating = rotation is not None and entries[-1] == rotation[0]
        signer = rotation[1] if rotation is not None and rotating else identity
        if signer is None:
            raise LogNotFound(f"log {self.origin!r} is open read-only here (no signing key)")
        result = integrate(old.size, edge, entries)
        cp = Checkpoint(self.origin, result.size, result.root)
        note = sign_checkpoint(cp, [Ed25519NoteSigner(signer)]).to_bytes()
        written = {**result.tiles, **result.bundles}
        after = {t: written.get(t) or edge[t] for t in edge_tiles(result.size)}
        return _Prepared(old, old_note, cp, note, result, written, after, signer, rotation, rotating)

    def _prepare_on_state(self, entries: Sequence[bytes]) -> _Prepared:
        # The store's edge, read back: a store out of step with its checkpoint fails here, before
        # anything is sent (the later batches of a call integrate on the edge the one before made).
        old, old_note = self._checkpoint, self._note
        return self._prepare(entries, old, old_note, self._edge(old.size), self._identity, self._rotation)

    def _prepare_after(self, batch: _Prepared, entries: Sequence[bytes]) -> _Prepared:
        # On the tree ``batch`` makes, with the key and rotation in force after it.
        rotation = None if batch.rotating else batch.rotation
        return self._prepare(entries, batch.checkpoint, batch.note, batch.edge, batch.identity, rotation)

    def _builds_on_state(self, batch: _Prepared | None) -> TypeGuard[_Prepared]:
        # Prepared ahead on the batch before it: still right if nothing else changed the log
        # (an append, a refresh, a scheduled rotation) while the caller held that batch's result.
        return batch is not None and batch.old_note == self._note and batch.rotation is self._rotation

    def _publish(self, batch: _Prepared) -> AppendResult:
        """The batch is durable: make it this log's state."""
        self._checkpoint, self._note = batch.checkpoint, batch.note
        self._remember_edge(batch.result.tiles)
        if batch.rotating:
            self._identity, self._rotation = batch.identity, None
            self.trust([batch.identity.vkey()])
        result = batch.result
        count = result.size - result.old_size
        return AppendResult(result.old_size, count, batch.checkpoint, batch.note, tuple(result.leaf_hashes))

    def extend(
        self,
        entries: Sequence[bytes],
        signed_checkpoint: bytes,
        before_commit: Callable[[], object] | None = None,
    ) -> Checkpoint:
        """Mirror another party's log: append ``entries`` fetched from it, only if they produce
        exactly the tree its signed checkpoint states, and store that checkpoint.

        Raises :class:`ConsistencyError` (nothing written) when the size or root differs: the
        entries were altered, or the log is not an extension of what this mirror holds.
        ``before_commit`` runs once the root has matched and before anything is written (what
        the entries teach, such as key events, is kept only when they are the signed tree).
        """
        verified = open_checkpoint(signed_checkpoint, self._verifiers, origin=self.origin)
        cp = verified.checkpoint
        with self._write_lock:
            old, old_note = self._checkpoint, self._note
            if cp.size != old.size + len(entries):
                raise ConsistencyError(
                    f"{len(entries)} entries do not take {self.origin!r} from size {old.size} to {cp.size}"
                )
            if not entries:
                if cp.root != old.root:
                    raise ConsistencyError(f"two different roots for size {cp.size} of {self.origin!r}")
                return cp
            result = integrate(old.size, self._edge(old.size), entries)
            if result.root != cp.root:
                raise ConsistencyError(
                    f"entries {old.size}..{cp.size} of {self.origin!r} do not produce the root its checkpoint signs"
                )
            if before_commit is not None:
                before_commit()
            self.store.commit(self.origin, old_note, signed_checkpoint, {**result.tiles, **result.bundles})
            self._checkpoint, self._note = cp, signed_checkpoint
            self._remember_edge(result.tiles)
            return cp

    def _edge(self, size: int) -> dict[TileID, bytes]:
        ids = edge_tiles(size)
        got = self.store.read_tiles(self.origin, [(t.level, t.index) for t in ids])
        edge: dict[TileID, bytes] = {}
        for t in ids:
            blob, width = got.get((t.level, t.index), (b"", 0))
            if width != t.width:
                raise StorageError(
                    f"tile {t.path()} of {self.origin!r} has width {width}, checkpoint needs {t.width}",
                    hint="the store does not match its checkpoint; restore it from a backup",
                )
            edge[t] = blob
        return edge

    # --- reading --------------------------------------------------------------------------

    def _remember(self, tiles: dict[TilePos, tuple[bytes, int]]) -> None:
        # Keep each tile at the widest version seen; the caller holds no lock.
        with self._cache_lock:
            for pos, (blob, width) in tiles.items():
                if pos[0] == 0 and width == TILE_WIDTH:
                    cache, bound = self._cache, self._cache_size
                    self._upper.pop(pos, None)
                else:
                    cache, bound = self._upper, self._upper_size
                    held = cache.get(pos)
                    if held is not None and held[1] >= width:
                        continue
                if bound <= 0:
                    continue
                cache[pos] = (blob, width)
                cache.move_to_end(pos)
                if len(cache) > bound:
                    cache.popitem(last=False)

    def _remember_edge(self, written: dict[TileID, bytes]) -> None:
        # What a commit just wrote, less the full level-0 tiles (a writer would fill the LRU
        # with tiles no proof may ask for: 32 MB of RSS in an append benchmark).
        self._remember(
            {(t.level, t.index): (blob, t.width) for t, blob in written.items() if t.level or t.width < TILE_WIDTH}
        )

    def _tiles(self, need: dict[TilePos, int]) -> dict[TilePos, tuple[bytes, int]]:
        """The stored tiles at ``need``'s positions, each from the caches when they hold it at
        least as wide as needed, else from the store (what it has, which may be narrower)."""
        out: dict[TilePos, tuple[bytes, int]] = {}
        missing: list[TilePos] = []
        with self._cache_lock:
            for pos, width in need.items():
                cache = self._cache if pos in self._cache else self._upper
                held = cache.get(pos)
                if held is not None and held[1] >= width:
                    cache.move_to_end(pos)
                    out[pos] = held
                else:
                    missing.append(pos)
        if missing:
            got = self.store.read_tiles(self.origin, missing)
            out.update(got)
            self._remember(got)
        return out

    def _fetch(self, nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        need: dict[TilePos, int] = {}
        where: list[tuple[TilePos, int, int]] = []
        for level, index in nodes:
            tl, tn, k, j = node_location(level, index)
            pos, width = (tl, tn), (j + 1) << k  # the narrowest tile holding node j of sublevel k
            if need.get(pos, 0) < width:
                need[pos] = width
            where.append((pos, k, j))
        tiles = self._tiles(need)
        out: list[bytes] = []
        for pos, k, j in where:
            got = tiles.get(pos)
            if got is None:
                raise StorageError(f"tile {pos} of {self.origin!r} is missing from the store")
            blob, width = got
            if j >= width >> k:
                stored_node(blob, width, k, j)  # raises: the stored tile is narrower than needed
            off = (_OFFSETS[width][k] + j) * HASH_SIZE
            out.append(blob[off : off + HASH_SIZE])
        return out

    def _check_size(self, size: int | None) -> int:
        current = self._checkpoint.size
        if size is None:
            return current
        if not 0 <= size <= current:
            raise InclusionError(f"tree size {size} is beyond the log's size {current}")
        return size

    def root(self, size: int | None = None) -> bytes:
        return tree_root(self._check_size(size), self._fetch)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self._check_size(size), self._fetch)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return consistency_proof(size1, self._check_size(size2), self._fetch)

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``[start, end)`` of the log."""
        end = min(end, self._checkpoint.size)
        if not 0 <= start <= end:
            raise InclusionError(f"entry range {start}..{end} is not in the log")
        out: list[bytes] = []
        first, last = start // TILE_WIDTH, (end - 1) // TILE_WIDTH if end else -1
        got = self.store.read_tiles(self.origin, [(-1, n) for n in range(first, last + 1)])
        for n in range(first, last + 1):
            blob, width = got.get((-1, n), (b"", 0))
            bundle = decode_entry_bundle(blob, count=width)
            lo, hi = max(start - n * TILE_WIDTH, 0), min(end - n * TILE_WIDTH, width)
            out.extend(bundle[lo:hi])
        if len(out) != end - start:
            raise StorageError(f"entries {start}..{end} of {self.origin!r} are missing from the store")
        return out

    def entry(self, index: int) -> bytes:
        size = self._checkpoint.size
        if not 0 <= index < size:
            raise InclusionError(
                f"entry {index} is not in {self.origin!r} (size {size})",
                hint=f"entries are numbered from 0 to {size - 1}" if size else "the log is empty",
            )
        return self.entries(index, index + 1)[0]

    def tile(self, level: int, index: int, width: int = TILE_WIDTH) -> bytes:
        """The C2SP wire bytes of a hash tile (or, with level -1, an entry bundle)."""
        tid = TileID(level, index, width)
        if not self._served(tid):
            raise LogNotFound(f"{tid.path()} does not exist for a tree of size {self._checkpoint.size}")
        got = self.store.read_tiles(self.origin, [(level, index)])
        if (level, index) not in got:
            raise LogNotFound(f"{tid.path()} is not in the store")
        blob, stored = got[(level, index)]
        if stored < width:
            raise LogNotFound(f"{tid.path()} is not in the store")
        if level == -1:
            return encode_entry_bundle(decode_entry_bundle(blob, count=width)) if width < stored else blob
        return tile_bytes(blob, width, stored)

    def _served(self, tid: TileID) -> bool:
        # A tile exists if some checkpointed size up to the current one has it: full tiles below
        # the edge, or a partial tile no wider than the edge (older sizes' partial tiles).
        count = self._checkpoint.size if tid.is_entries else self._checkpoint.size >> (8 * tid.level)
        if tid.index < count // TILE_WIDTH:
            return True
        return tid.index == count // TILE_WIDTH and not tid.is_full and tid.width <= count % TILE_WIDTH
