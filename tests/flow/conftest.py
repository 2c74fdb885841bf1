from pathlib import Path

import pytest

from exchange.flow import open_recording, sniff_format
from shared_data import find

#: the shared recorded samples (never copied into the repo; see tests/shared_data.py)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return find(".")


@pytest.fixture(scope="session")
def sample(data_dir):
    """sample('binance-usdm/btcusdt_20240808.gz') -> Path; a missing file skips (fails in CI)."""
    return find


@pytest.fixture(scope="session")
def recording(sample):
    """recording('tardis/x.csv', 'tardis_csv', TardisCsvReader) -> the opened reader of a sample,
    once its format is sniffed as ``fmt`` and open_recording has picked ``reader_cls`` for it."""
    def open_sample(name: str, fmt: str, reader_cls: type):
        path = sample(name)
        assert sniff_format(path) == fmt
        reader = open_recording(path)
        assert isinstance(reader, reader_cls)
        return reader
    return open_sample
