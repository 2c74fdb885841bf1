from pathlib import Path

import pytest

#: the shared recorded samples (never copied into the repo; see shared/data/README.md)
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"recorded market-data samples not found at {DATA.resolve()}")
    return DATA.resolve()


@pytest.fixture(scope="session")
def sample(data_dir):
    """sample('binance-usdm/btcusdt_20240808.gz') -> Path, skipping if that file is missing."""
    def get(rel: str) -> Path:
        p = data_dir / rel
        if not p.is_file():
            pytest.skip(f"sample {rel} not found under {data_dir}")
        return p
    return get
