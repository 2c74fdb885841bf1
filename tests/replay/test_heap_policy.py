"""The serve process's collector policy: freeze after start-up and after snapshots."""
import gc

from exchange.engine import heap
from exchange.engine.runtime import Runtime
from exchange.contract.commands import CreateAccount


def test_snapshot_calls_the_after_snapshot_hook_and_settle_freezes(tmp_path):
    rt = Runtime.virtual(1_700_000_000_000, data_dir=tmp_path, fsync="never", timers=False)
    calls = []
    rt.after_snapshot = lambda: calls.append(rt.sequencer.seq)
    rt.sequencer.execute([CreateAccount(1)])
    assert rt.write_snapshot() is not None
    assert calls == [1]
    old = gc.get_threshold()
    try:
        heap.configure()
        assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
        heap.settle()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*old)
        rt.close(snapshot=False)
