"""Ramp: from 0 to ``--shape-users`` users in ``--shape-ramp-s`` seconds, held for
``--shape-hold-s`` seconds, then the test stops.

``locust -f clients/load/locustfile.py,clients/load/ramp_shape.py --headless --host ...
--shape-users 200 --shape-ramp-s 60 --shape-hold-s 30`` (a shape replaces ``-u/-r/-t``)."""
from __future__ import annotations

import math
from typing import Optional

from locust import LoadTestShape


class RampShape(LoadTestShape):
    def tick(self) -> Optional[tuple[int, float]]:
        o = self.runner.environment.parsed_options
        t = self.get_run_time()
        ramp, hold, top = max(o.shape_ramp_s, 1e-9), o.shape_hold_s, o.shape_users
        if t > ramp + hold:
            return None
        users = top if t >= ramp else max(1, math.ceil(top * t / ramp))
        return users, max(o.shape_spawn_rate, top / ramp)
