"""Run inside a separate virtual environment that has python-binance (it installs a
top-level ``binance`` package, as binance-futures-connector does, so the two cannot
share one environment).  argv: base_url maker_key maker_secret taker_key taker_secret.
argv[6] is the README's python-binance snippet.  Prints one JSON line with what it saw."""
import json
import sys

from binance.client import Client
from binance.exceptions import BinanceAPIException

base, mk, ms, tk, ts, readme_snippet = sys.argv[1:7]
# the README's set-up, exactly as a user copies it (address swapped for the test server)
ns = {"KEY": mk, "SECRET": ms}
exec(readme_snippet.replace("http://127.0.0.1:8800", base), ns)
maker = ns["client"]
taker = Client(tk, ts, ping=False)
out = {}
out["symbols"] = sorted(s["symbol"] for s in maker.futures_exchange_info()["symbols"])
out["leverage"] = taker.futures_change_leverage(symbol="BTCUSDT", leverage=20)["leverage"]
resting = maker.futures_create_order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                                     quantity="0.010", price="50000")
out["resting_status"] = resting["status"]
filled = taker.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010")
out["market_status"] = taker.futures_get_order(symbol="BTCUSDT", orderId=filled["orderId"])["status"]
out["position"] = [p["positionAmt"] for p in taker.futures_position_information(symbol="BTCUSDT")]
out["balance_assets"] = [b["asset"] for b in taker.futures_account_balance()]
out["account_v2_wallet"] = taker.futures_account()["totalWalletBalance"]
out["trades"] = len(taker.futures_account_trades(symbol="BTCUSDT"))
out["ticker"] = maker.futures_symbol_ticker(symbol="BTCUSDT")["price"]
limit = maker.futures_create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                   quantity="0.010", price="40000")
out["depth_bids"] = [[float(p), float(q)] for p, q in maker.futures_order_book(symbol="BTCUSDT")["bids"]]
# DELETE with a form body (python-binance sends cancels that way)
out["cancel_status"] = maker.futures_cancel_order(symbol="BTCUSDT", orderId=limit["orderId"])["status"]
try:
    maker.futures_cancel_order(symbol="BTCUSDT", orderId=limit["orderId"])
except BinanceAPIException as exc:
    out["cancel_again"] = exc.code
try:
    taker.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.00001)
except BinanceAPIException as exc:
    out["float_qty"] = exc.code
print(json.dumps(out))
