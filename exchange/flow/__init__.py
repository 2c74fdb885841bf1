"""Layer 5 — order flow: recorded-data readers, the synthetic market and the replay driver; each
submits ordinary commands through the sequencer, like any other client.  ``exchange.flow.readers`` normalizes recorded market
data into the typed records of ``exchange.flow.records``."""
from exchange.flow.records import *  # noqa: F401,F403
from exchange.flow.records import __all__ as _records_all
from exchange.flow.readers import open_recording, open_recordings, sniff_format, RecordingError

__all__ = list(_records_all) + ["open_recording", "open_recordings", "sniff_format", "RecordingError"]
