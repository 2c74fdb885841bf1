"""Load tests for paperex (or any Binance USD-M endpoint) on Locust.

Run ``locust -f clients/load/locustfile.py`` (see README, "Load tests"). The modules:

* ``locustfile``  - the four users (market maker, taker, market-data subscriber, user-stream
  listener), the command-line options, and the wiring of the stop-time invariants;
* ``wire``        - signed REST over Locust's HTTP client (the signing is ``clients.signing``),
  Binance's IP-weight and per-account order budgets, symbol filters and mid prices;
* ``sockets``     - websockets for gevent (Locust's concurrency) and message lag;
* ``ledger``      - acknowledged orders: collected per process, reported to the master with
  Locust messages, checked against the exchange at test stop;
* ``localserver`` - ``paperex serve`` started by the run itself, stopped cleanly and its journal
  replayed with ``paperex replay --verify``;
* ``ramp_shape`` / ``step_shape`` - load shapes (pass one with ``-f locustfile.py,ramp_shape.py``).
"""
