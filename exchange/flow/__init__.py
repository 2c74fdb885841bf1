"""Order flow sources.  ``exchange.flow.readers`` normalizes recorded market
data into the typed records of ``exchange.flow.records``."""
from .records import *  # noqa: F401,F403
from .records import __all__ as _records_all
from .readers import open_recording, open_recordings, sniff_format, RecordingError

__all__ = list(_records_all) + ["open_recording", "open_recordings", "sniff_format", "RecordingError"]
