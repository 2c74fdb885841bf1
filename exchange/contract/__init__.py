"""Layer 1 — the contract: the vocabulary every layer shares.

Commands and events (``commands``, ``events``) and the record machinery that stores
them (``records``; its one constructor ``new_record`` has a compiled kernel in
``_records.pyx``, chosen by the accelerator switch); enums and result codes
(``codes``); the one catalog of Binance error codes (``errors``); instruments and the
venue configuration a journal header carries (``instruments``, ``venue_config``); the
timers the sequencer fires for the venue (``timers``).  Imports nothing of ours above
layer 0 (``matching``, ``exchange.units``).
"""
