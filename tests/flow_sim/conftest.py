from pathlib import Path

import pytest

from exchange.engine.runtime import Runtime

T0 = 1_717_200_000_000          # 2024-06-01 00:00:00 UTC

#: the shared recorded samples (never copied into the repo; see shared/data/README.md)
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


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
    """shared_sample('binance-usdm/btcusdt_20240808.gz') -> Path, or skip if it is missing."""
    def get(rel: str) -> Path:
        for base in (SHARED_DATA, Path("/work/shared/data")):
            p = base / rel
            if p.is_file():
                return p
        pytest.skip(f"recorded sample {rel} not found under {SHARED_DATA}")
    return get
