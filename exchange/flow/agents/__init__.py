"""Synthetic market participants (see :mod:`exchange.flow.synthetic`)."""
from .base import Agent, MarketView, StepContext, poisson, position_qty
from .maker import DEFAULT_MAKERS, MakerProfile, MarketMaker
from .takers import (DEFAULT_HOLDERS, DEFAULT_MOMENTUM, DEFAULT_TAKERS, HOLDER_LEVERAGES, HolderProfile,
                     MomentumProfile, MomentumTrader, NoiseTaker, PositionHolder, TakerProfile)

__all__ = ["Agent", "MarketView", "StepContext", "poisson", "position_qty",
           "DEFAULT_MAKERS", "MakerProfile", "MarketMaker",
           "DEFAULT_HOLDERS", "DEFAULT_MOMENTUM", "DEFAULT_TAKERS", "HOLDER_LEVERAGES", "HolderProfile",
           "MomentumProfile", "MomentumTrader", "NoiseTaker", "PositionHolder", "TakerProfile"]
