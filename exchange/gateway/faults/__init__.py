"""Injected faults and latency: rules and the latency model, the injector that applies them to
requests, and the websocket tap that applies them to deliveries."""
from exchange.gateway.faults.injector import FaultInjector, advance_clock, injector, install, validate_config
from exchange.gateway.faults.rules import (KINDS, REST_KINDS, WS_KINDS, FaultConfigError, LatencyModel, Rule,
                                           load_config)
from exchange.gateway.faults.ws_tap import WsTap

__all__ = ["FaultInjector", "FaultConfigError", "LatencyModel", "Rule", "WsTap", "advance_clock",
           "install", "injector", "load_config", "validate_config", "KINDS", "REST_KINDS", "WS_KINDS"]
