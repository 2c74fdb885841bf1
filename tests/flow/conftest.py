from pathlib import Path

import pytest

from shared_data import find

#: the shared recorded samples (never copied into the repo; see tests/shared_data.py)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return find(".")


@pytest.fixture(scope="session")
def sample(data_dir):
    """sample('binance-usdm/btcusdt_20240808.gz') -> Path; a missing file skips (fails in CI)."""
    return find
