"""Synthetic market participants (see :mod:`exchange.flow.synthetic`)."""
from exchange.flow.agents.base import Agent, MarketView, StepContext, poisson, position_qty
from exchange.flow.agents.maker import DEFAULT_MAKERS, MakerProfile, MarketMaker
from exchange.flow.agents.takers import (DEFAULT_HOLDERS, DEFAULT_MOMENTUM, DEFAULT_TAKERS, HOLDER_LEVERAGES, HolderProfile,
                     MomentumProfile, MomentumTrader, NoiseTaker, PositionHolder, TakerProfile)

__all__ = ["Agent", "MarketView", "StepContext", "poisson", "position_qty",
           "DEFAULT_MAKERS", "MakerProfile", "MarketMaker",
           "DEFAULT_HOLDERS", "DEFAULT_MOMENTUM", "DEFAULT_TAKERS", "HOLDER_LEVERAGES", "HolderProfile",
           "MomentumProfile", "MomentumTrader", "NoiseTaker", "PositionHolder", "TakerProfile"]
