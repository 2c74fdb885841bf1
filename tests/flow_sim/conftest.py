from pathlib import Path

import pytest

from exchange.engine.runtime import Runtime
from shared_data import find

T0 = 1_717_200_000_000          # 2024-06-01 00:00:00 UTC


@pytest.fixture
def make_runtime(tmp_path):
    """make_runtime(name) -> a Runtime on a virtual clock journaling to tmp_path/name."""
    made = []

    def make(name: str = "run", start_ms: int = T0, **kw):
        rt = Runtime.virtual(start_ms, data_dir=tmp_path / name, fsync="never", **kw)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()


@pytest.fixture(scope="session")
def shared_sample():
    """shared_sample('binance-usdm/btcusdt_20240808.gz') -> Path; a missing file skips (fails in CI)."""
    return find
