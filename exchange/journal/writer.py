"""Append records to a journal with group commit and a chosen fsync policy.

    w = JournalWriter("paperex-data/journal", config, fsync="batch")
    print(w.last_seq)                 # resumes after the last record (None if empty)
    w.append(seq, ts, 3, [12345, 1, 0, 6500000, 10, 0])   # buffered
    w.append(seq, ts, 1003, [...])                        # event of the same seq
    w.commit()                        # one write() for the group, then the fsync policy
    w.close()                         # commits what is pending, fsyncs, unlocks

fsync policies (``fsync=``):

``"always"``
    ``fdatasync`` after every commit. When :meth:`commit` returns, the group
    survives a process crash *and* an OS crash / power loss.
``"batch"`` (default)
    ``fdatasync`` at most every ``batch_ms`` milliseconds: :meth:`commit` starts
    a sync only if ``batch_ms`` have passed since the last one started, and the
    sync runs on the writer's sync thread, so the committing thread (the event
    loop) never waits for the disk; :meth:`close`, a segment roll and
    :meth:`sync` always sync, in the caller's thread. When :meth:`commit` returns the
    group has been handed to the kernel with ``write()``, so it survives a
    *process* crash. What it risks: on an OS crash or power loss, every group
    committed since the last sync can be lost although it was acknowledged.
    Usually the journal then ends cleanly before them or with a torn tail that
    recovery cuts; because the kernel writes dirty pages back in any order, the
    unsynced region can also come back with a hole (zeros) before data that did
    reach the disk, which recovery refuses as corruption (JournalError naming
    the offset) rather than guessing. That window is at most ``batch_ms`` plus
    one ``fdatasync`` while commits keep arriving; if commits stop, the unsynced groups stay unsynced
    until the owner calls :meth:`sync_if_due` (the sequencer should call it from
    its clock tick) or :meth:`sync` / :meth:`close`. Synced data is never at risk.
``"never"``
    No fsync, except once in :meth:`close` (a clean shutdown is durable).
    Survives a process crash; an OS crash can lose anything since the last
    clean close, and, because an older segment is not synced before the next is
    created, may even leave a torn record in a segment that is not the last,
    which recovery refuses. For tests and benchmarks.

A journal has one writer at a time: the writer holds an exclusive ``flock`` on
the journal directory until :meth:`close`; a second writer gets JournalError.
"""
from __future__ import annotations

import fcntl
import logging
import os
import queue
import threading
import time
import weakref
import zlib
from pathlib import Path
from typing import Any, Callable

import msgpack

from exchange.journal.format import (
    DEFAULT_SEGMENT_BYTES, FSYNC_POLICIES, MAGIC, MAX_RECORD_BYTES, RECORD_HEADER,
    RECORD_HEADER_SIZE, SEGMENT_HEADER, SEGMENT_HEADER_SIZE, UNPACK_OPTS, VERSION, JournalError,
    TornTail, segment_name,
)
from exchange.journal.recovery import DurableMark, RecoveryResult, keep_side_file, recover

log = logging.getLogger("exchange.journal")
_fdatasync = getattr(os, "fdatasync", os.fsync)
_pack_record_header = RECORD_HEADER.pack
_crc32 = zlib.crc32


def _sync_loop(ref: "weakref.ref[JournalWriter]", wake: queue.SimpleQueue) -> None:
    while True:
        wake.get()
        writer = ref()
        if writer is None or not writer._sync_now():
            return
        del writer


def _canonical(value: Any) -> Any:
    """``value`` as it reads back from msgpack (tuples become lists, ...)."""
    return msgpack.unpackb(msgpack.packb(value, use_bin_type=True), raw=False,
                           strict_map_key=False)


#: the shape of a record class without one: its records go through ``to_record()``
_NO_SHAPE = (None, None, ())


def _journal_shape(cls: type) -> tuple:
    """``cls.JOURNAL_SHAPE`` when it is one a tuple can be packed by, else ``_NO_SHAPE``."""
    shape = getattr(cls, "JOURNAL_SHAPE", None)
    if (issubclass(cls, tuple) and type(shape) is tuple and len(shape) == 3
            and type(shape[0]) is int and (shape[1] is None or type(shape[1]) is int)):
        return shape
    return _NO_SHAPE


def segment_header(first_seq: int, config: Any) -> bytes:
    """The bytes of a segment header (see ``format``)."""
    body = msgpack.packb({"first_seq": first_seq, "config": config}, use_bin_type=True)
    return SEGMENT_HEADER.pack(MAGIC, VERSION, 0, len(body), zlib.crc32(body)) + body


class JournalWriter:
    """The single appender of a journal directory.

    Opening recovers the journal first (a torn tail is cut and reported in
    :attr:`recovery` / :attr:`torn_tails` and logged) and resumes after its last
    record: :attr:`last_seq` / :attr:`last_ts` are that record's (None when empty).

    ``config`` is the venue configuration written into every segment header. On
    an existing journal it must equal the stored config (``None`` = use the
    stored one); a different config raises JournalError.

    ``must_reach``: a :class:`~exchange.journal.recovery.DurableMark` (or seq) the
    journal is known to have been durable through (the newest snapshot's);
    recovery refuses to cut a tail that would end it earlier.
    """

    def __init__(self, path: "str | os.PathLike[str]", config: Any = None, *,
                 fsync: str = "batch", batch_ms: int = 10,
                 segment_bytes: int = DEFAULT_SEGMENT_BYTES,
                 clock: Callable[[], float] = time.monotonic,
                 must_reach: Any = None):
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync must be one of {FSYNC_POLICIES}, not {fsync!r}")
        if segment_bytes <= 0:
            raise ValueError("segment_bytes must be positive")
        self.path = Path(path)
        self.fsync = fsync
        self.batch_s = batch_ms / 1000.0
        self.segment_bytes = segment_bytes
        self._clock = clock
        self.path.mkdir(parents=True, exist_ok=True)
        self._dirfd: int | None = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(self._dirfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._dirfd)
            self._dirfd = None
            raise JournalError(f"journal {self.path} is open by another writer") from None
        self._fd: int | None = None
        try:
            rec: RecoveryResult = recover(self.path, must_reach=must_reach)
            if rec.segments:
                stored = rec.config
                if config is not None and _canonical(config) != stored:
                    raise JournalError(
                        f"venue config differs from the one stored in journal {self.path}",
                        file=str(rec.segments[-1][1]), offset=0, last_seq=rec.last_seq)
                config = stored
                self._seg_path: Path | None = rec.segments[-1][1]
                self._fd = os.open(self._seg_path, os.O_WRONLY | os.O_APPEND)
                self._seg_size = rec.end_offset
            else:
                self._seg_path = None
                self._seg_size = 0
        except BaseException:
            self._release()
            raise
        self.recovery = rec
        self.config = config
        self._header_config = config
        self.last_seq: int | None = rec.last_seq
        self.last_ts: int | None = rec.last_ts
        self._tail_seq = rec.last_seq if rec.last_seq is not None else 0
        self._tail_ts = rec.last_ts
        self._buf = bytearray()
        self._group_seq = 0
        self._pending = 0
        self._dirty = False
        self._last_sync = clock()
        self._failed: str | None = None
        # "batch" syncs run on a thread of its own (started on the first one), woken
        # through a C queue (a threading.Event costs the loop a Python-level lock);
        # _fd_lock keeps a segment from being closed under a running fdatasync
        self._fd_lock = threading.Lock()
        self._sync_wake: queue.SimpleQueue = queue.SimpleQueue()
        self._sync_running = False
        self._sync_thread: threading.Thread | None = None
        self._pack = msgpack.Packer(use_bin_type=True).pack
        self._shapes: dict[type, tuple] = {}    # record class -> its JOURNAL_SHAPE (or _NO_SHAPE)
        self.segments_created = 0
        self.commits = 0
        self.syncs = 0

    # -- properties ---------------------------------------------------------

    @property
    def torn_tails(self) -> list[TornTail]:
        """What recovery cut or removed when this writer opened the journal."""
        return self.recovery.torn

    @property
    def end_mark(self) -> "DurableMark | None":
        """Where the committed journal ends: last seq, segment file name, byte size."""
        if self.last_seq is None or self._seg_path is None:
            return None
        return DurableMark(self.last_seq, self._seg_path.name, self._seg_size)

    @property
    def pending(self) -> int:
        """Records appended but not yet committed."""
        return self._pending

    @property
    def segment_path(self) -> Path | None:
        """The segment currently appended to."""
        return self._seg_path

    @property
    def closed(self) -> bool:
        return self._dirfd is None

    # -- appending ----------------------------------------------------------

    def append(self, seq: int, ts: int, kind: int, payload: Any) -> None:
        """Buffer one record. Nothing reaches the file before :meth:`commit`.

        ``seq`` (>= 0) may repeat (events share their command's seq) but never go back.
        Raises TypeError/ValueError (and buffers nothing) for a bad record.
        """
        if type(seq) is not int or type(ts) is not int or type(kind) is not int:
            raise TypeError("seq, ts and kind must be int")
        if seq < self._tail_seq:
            raise ValueError(f"seq {seq} goes backwards (must be >= {self._tail_seq})")
        if self._dirfd is None:
            raise JournalError(f"journal writer {self.path} is closed")
        body = self._pack([seq, ts, kind, payload])
        n = len(body)
        if n > MAX_RECORD_BYTES:
            raise ValueError(f"record of {n} bytes exceeds {MAX_RECORD_BYTES}")
        buf = self._buf
        if not buf:
            self._group_seq = seq
        buf += _pack_record_header(n, _crc32(body))
        buf += body
        self._tail_seq = seq
        self._tail_ts = ts
        self._pending += 1

    def append_command(self, seq: int, ts: int, command: Any, events: Any) -> None:
        """Buffer a command's record and its events' records, all at ``seq``: objects
        whose ``to_record()`` returns ``(kind, payload)``.  The same records as one
        :meth:`append` each (the sequencer's hot path: one call per command).
        A bad record raises like :meth:`append` and buffers nothing of the command.

        A tuple whose class carries ``JOURNAL_SHAPE = (kind, core, defaults)`` (the
        venue's commands and events, ``exchange.contract.records``) is packed from
        itself: its fields, or its first ``core`` fields while the others equal
        ``defaults`` - what its ``to_record()`` gives, without making it."""
        if type(seq) is not int or type(ts) is not int:
            raise TypeError("seq, ts and kind must be int")
        if seq < self._tail_seq:
            raise ValueError(f"seq {seq} goes backwards (must be >= {self._tail_seq})")
        if self._dirfd is None:
            raise JournalError(f"journal writer {self.path} is closed")
        buf = self._buf
        start = len(buf)
        pack = self._pack
        shapes = self._shapes
        try:
            for rec in (command, *events):
                shape = shapes.get(rec.__class__)
                if shape is None:
                    shape = shapes[rec.__class__] = _journal_shape(rec.__class__)
                kind, core, defaults = shape
                if kind is None:            # a record without a shape: its to_record()
                    kind, payload = rec.to_record()
                    if type(kind) is not int:
                        raise TypeError("seq, ts and kind must be int")
                    body = pack((seq, ts, kind, payload))
                elif core is None:
                    body = pack((seq, ts, kind, rec))
                elif rec[core:] == defaults:
                    body = pack((seq, ts, kind, rec[:core]))
                else:                       # an optional field set: to_record() cuts the rest
                    body = pack((seq, ts, kind, rec.to_record()[1]))
                size = len(body)
                if size > MAX_RECORD_BYTES:
                    raise ValueError(f"record of {size} bytes exceeds {MAX_RECORD_BYTES}")
                buf += _pack_record_header(size, _crc32(body))
                buf += body
        except BaseException:
            del buf[start:]
            raise
        if not start:
            self._group_seq = seq
        self._tail_seq = seq
        self._tail_ts = ts
        self._pending += 1 + len(events)

    def discard(self) -> int:
        """Drop the records appended since the last commit; return how many."""
        n = self._pending
        self._buf.clear()
        self._pending = 0
        self._tail_seq = self.last_seq if self.last_seq is not None else 0
        self._tail_ts = self.last_ts
        return n

    def commit(self) -> int:
        """Write the buffered group with one ``write()``; apply the fsync policy.

        Returns the number of records committed. On return the group is in the
        kernel (and on disk for ``"always"``). A group never spans segments.
        """
        if self._failed:
            raise JournalError(f"journal writer {self.path} failed earlier: {self._failed}")
        buf = self._buf
        if not buf:
            if self.fsync == "batch":
                self.sync_if_due()
            return 0
        if self._dirfd is None:
            raise JournalError(f"journal writer {self.path} is closed")
        if self._fd is None:
            data = self._new_segment(self._group_seq) + buf
        elif (self._seg_size + len(buf) > self.segment_bytes
              and self._group_seq > (self.last_seq if self.last_seq is not None else -1)):
            self._roll()
            data = self._new_segment(self._group_seq) + buf
        else:
            data = buf
        self._write(data)
        self._seg_size += len(data)
        n = self._pending
        buf.clear()
        self._pending = 0
        self.last_seq = self._tail_seq
        self.last_ts = self._tail_ts
        self.commits += 1
        self._dirty = True
        policy = self.fsync
        if policy == "always":
            self._sync()
        elif policy == "batch" and self._clock() - self._last_sync >= self.batch_s:
            self._sync_in_background()
        return n

    # -- syncing ------------------------------------------------------------

    def sync(self) -> None:
        """fdatasync the current segment now if anything is unsynced."""
        if self._dirty and self._fd is not None:
            self._sync()

    def sync_if_due(self) -> bool:
        """Sync if something is unsynced and ``batch_ms`` have passed since the last
        sync (no-op for ``"never"``). Call it from a timer so that in ``"batch"``
        mode the loss window stays bounded when commits stop. True if it synced."""
        if self._dirty and self._fd is not None and self.fsync != "never" \
                and self._clock() - self._last_sync >= self.batch_s:
            self._sync()
            return True
        return False

    def _sync(self) -> None:
        with self._fd_lock:         # waits for a background sync that is running
            _fdatasync(self._fd)
            self._dirty = False
            self._last_sync = self._clock()
            self.syncs += 1

    def _sync_in_background(self) -> None:
        if self._sync_running:
            return                  # one is running; the next commit after it starts another
        # what is written now is what the sync will cover; later writes make it dirty again
        self._dirty = False
        self._last_sync = self._clock()
        self._sync_running = True
        if self._sync_thread is None:
            # the thread holds the writer weakly: a writer nobody closed is still collected
            self._sync_thread = threading.Thread(
                target=_sync_loop, args=(weakref.ref(self), self._sync_wake), daemon=True,
                name=f"journal-sync {self.path.name}")
            self._sync_thread.start()
        self._sync_wake.put(True)

    def _sync_now(self) -> bool:
        """The sync thread's work; False once the writer is closed."""
        try:
            with self._fd_lock:
                if self._dirfd is None:
                    return False
                if self._fd is not None:
                    try:
                        _fdatasync(self._fd)
                        self.syncs += 1
                    except OSError as exc:  # the next commit refuses: nothing more is acknowledged
                        self._failed = f"fdatasync failed: {exc}"
                        log.error("journal %s: %s", self.path, self._failed)
            return True
        finally:
            self._sync_running = False

    def wait_for_sync(self, timeout: float = 5.0) -> bool:
        """Wait until no background sync is running (tests); False on timeout."""
        end = time.monotonic() + timeout
        while self._sync_running:
            if time.monotonic() >= end:
                return False
            time.sleep(0.0005)
        return True

    # -- repairing ----------------------------------------------------------

    def truncate_from(self, seq: int) -> int:
        """Cut every record whose seq is >= ``seq`` from the end of the journal.

        Used to drop a commit group that a crash left incomplete (its command
        record is on file, its events only in part): such a group was never
        acknowledged.  Only the last segment can be cut, and only whole records;
        returns the number of bytes removed."""
        if self._pending:
            raise JournalError(f"journal writer {self.path}: commit or discard before truncating")
        if self._fd is None or self._seg_path is None:
            return 0
        data = self._seg_path.read_bytes()
        off = SEGMENT_HEADER_SIZE + SEGMENT_HEADER.unpack_from(data, 0)[3]
        cut = None
        last_seq = last_ts = None
        while off + RECORD_HEADER_SIZE <= len(data):
            length = RECORD_HEADER.unpack_from(data, off)[0]
            body = data[off + RECORD_HEADER_SIZE:off + RECORD_HEADER_SIZE + length]
            rec_seq, rec_ts = msgpack.unpackb(body, **UNPACK_OPTS)[:2]
            if rec_seq >= seq:
                cut = off
                break
            last_seq, last_ts = rec_seq, rec_ts
            off += RECORD_HEADER_SIZE + length
        if cut is None:
            return 0
        if last_seq is None:
            raise JournalError(f"journal {self.path}: seq {seq} starts segment {self._seg_path.name};"
                               " refusing to cut a whole segment", file=str(self._seg_path),
                               offset=cut, last_seq=self.last_seq)
        removed = len(data) - cut
        keep_side_file(self._seg_path, cut, data[cut:], "cut")
        with self._fd_lock:
            os.ftruncate(self._fd, cut)
            _fdatasync(self._fd)
        self._seg_size = cut
        self.last_seq = self._tail_seq = last_seq
        self.last_ts = self._tail_ts = last_ts
        log.warning("journal %s: cut %d bytes from seq %d on (an incomplete commit group)",
                    self._seg_path, removed, seq)
        return removed

    # -- closing ------------------------------------------------------------

    def close(self, commit_pending: bool = True) -> None:
        """Commit pending records (unless ``commit_pending`` is False), fsync, unlock."""
        if self._dirfd is None:
            return
        try:
            if commit_pending and self._pending and not self._failed:
                self.commit()
            else:
                self.discard()
            if self._fd is not None and not self._failed:
                self._sync()
        finally:
            self._release()

    def _release(self) -> None:
        lock = getattr(self, "_fd_lock", None)
        if lock is not None:
            lock.acquire()          # a running background sync finishes first
        try:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._dirfd is not None:
                try:
                    fcntl.flock(self._dirfd, fcntl.LOCK_UN)
                finally:
                    os.close(self._dirfd)
                    self._dirfd = None
        finally:
            if lock is not None:
                lock.release()
        thread = getattr(self, "_sync_thread", None)
        if thread is not None:
            self._sync_wake.put(False)  # it sees the closed writer and ends
            if thread is not threading.current_thread():
                thread.join(5.0)
            self._sync_thread = None

    def __enter__(self) -> "JournalWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(commit_pending=exc_type is None)

    def __del__(self) -> None:  # last resort: never leave the fds open
        try:
            if getattr(self, "_dirfd", None) is not None:
                self._release()
        except Exception:
            pass

    # -- segments -----------------------------------------------------------

    def _roll(self) -> None:
        """Finish the current segment: sync it (unless "never") and close it."""
        if self.fsync != "never" and self._dirty:
            self._sync()
        with self._fd_lock:
            os.close(self._fd)
            self._fd = None

    def _new_segment(self, first_seq: int) -> bytes:
        """Create the segment file for ``first_seq``; return its header bytes."""
        p = self.path / segment_name(first_seq)
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError:
            raise JournalError(f"segment {p} already exists", file=str(p), offset=0,
                               last_seq=self.last_seq) from None
        self._fd = fd
        self._seg_path = p
        self._seg_size = 0
        self.segments_created += 1
        if self.fsync != "never":
            os.fsync(self._dirfd)   # make the new directory entry durable
        return segment_header(first_seq, self._header_config)

    def _write(self, data) -> None:
        fd = self._fd
        mv = memoryview(data)
        done = 0
        try:
            while done < len(mv):
                done += os.write(fd, mv[done:])
        except OSError as exc:
            # Take back the partial group so the file ends on a record boundary.
            self._failed = f"{exc.__class__.__name__}: {exc}"
            try:
                os.ftruncate(fd, self._seg_size)
            except OSError:
                pass
            raise JournalError(f"journal write failed ({self._failed})",
                               file=str(self._seg_path), offset=self._seg_size,
                               last_seq=self.last_seq) from exc
        finally:
            mv.release()
