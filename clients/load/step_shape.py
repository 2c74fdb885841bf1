"""Step: ``--shape-step-users`` more users every ``--shape-step-s`` seconds up to
``--shape-users``, each step held for its whole period, then the test stops.

``locust -f clients/load/locustfile.py,clients/load/step_shape.py --headless --host ...
--shape-users 200 --shape-step-users 25 --shape-step-s 30 --csv step --csv-full-history``:
Locust's history CSV then has each step's figures (its "current" percentiles cover the last
10 s, so read each step's last rows)."""
from __future__ import annotations

from typing import Optional

from locust import LoadTestShape


class StepShape(LoadTestShape):
    def tick(self) -> Optional[tuple[int, float]]:
        o = self.runner.environment.parsed_options
        step = max(1, o.shape_step_users)
        steps = -(-o.shape_users // step)           # ceil: the last step reaches --shape-users
        k = int(self.get_run_time() // o.shape_step_s)
        if k >= steps:
            return None
        return min(o.shape_users, (k + 1) * step), o.shape_spawn_rate
