"""Example bots for paperex (and Binance USD-M Futures): run one with

    python -m clients.bots.market_maker --url http://127.0.0.1:8800 --key K --secret S --duration 60
    python -m clients.bots.trend_follower  --url http://127.0.0.1:8800 --key K --secret S --duration 60
    python -m clients.bots.high_leverage   --url http://127.0.0.1:8800 --duration 120

Without ``--key``/``--secret`` a bot asks paperex's control API for a fresh funded account.
"""
from clients.bots.base import Bot

__all__ = ["Bot"]
