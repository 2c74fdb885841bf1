"""The error catalog: exact codes, messages and HTTP statuses (spec §2.4, §3)."""
import pytest

from exchange.gateway import errors
from exchange.gateway.errors import (
    BinanceError, CATALOG, Execution, Filters, General, Orders41, Processing, Request,
)

# (error, http, code, msg) copied from shared/spec/binance-usdm.md
EXACT = [
    (errors.api_key_format_invalid(), 401, -2014, "API-key format invalid."),
    (errors.invalid_api_key(), 401, -2015, "Invalid API-key, IP, or permissions for action."),
    (errors.invalid_signature(), 400, -1022, "Signature for this request is not valid."),
    (errors.mandatory_param("signature"), 400, -1102,
     "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."),
    (errors.mandatory_param("timestamp"), 400, -1102,
     "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."),
    (errors.timestamp_outside_recv_window(), 400, -1021, "Timestamp for this request is outside of the recvWindow."),
    (errors.timestamp_ahead(), 400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."),
    (errors.invalid_parameter("recvWindow"), 400, -1130, "Data sent for parameter 'recvWindow' is not valid."),
    (errors.unknown_error(), 400, -1000, "An unknown error occured while processing the request."),
    (errors.internal_error(), 503, -1001, "Internal error; unable to process your request. Please try again."),
    (errors.too_many_requests(2400), 429, -1003,
     "Too many requests; current limit is 2400 requests per minute. Please use the websocket for live "
     "updates to avoid polling the API."),
    (errors.ip_banned(1789478400000), 418, -1003,
     "Way too many requests; IP banned until 1789478400000. Please use the websocket for live updates to "
     "avoid bans."),
    (General.TIMEOUT(), 408, -1007,
     "Timeout waiting for response from backend server. Send status unknown; execution status unknown."),
    (General.THROTTLED(), 503, -1008,
     "Request throttled by system-level protection. Reduce-only/close-position orders are exempt. Please try again."),
    (errors.too_many_orders(300, "TEN_SECONDS"), 429, -1015,
     "Too many new orders; current limit is 300 orders per TEN_SECONDS."),
    (General.START_TIME_GREATER_THAN_END_TIME(), 400, -1023, "Start time is greater than end time."),
    (errors.illegal_decimal("quantity"), 400, -1100,
     "Illegal characters found in parameter 'quantity'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'."),
    (errors.too_many_parameters(3, 4), 400, -1101, "Too many parameters; expected '3' and received '4'."),
    (errors.duplicate_values(), 400, -1101, "Duplicate values for a parameter detected."),
    (errors.either_param("orderId", "origClientOrderId"), 400, -1102,
     "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!"),
    (errors.unread_parameters(2, 3), 400, -1104,
     "Not all sent parameters were read; read '2' parameter(s) but was sent '3'."),
    (errors.param_not_required("reduceOnly"), 400, -1106, "Parameter 'reduceonly' sent when not required."),
    (Request.BAD_PRECISION(), 400, -1111, "Precision is over the maximum defined for this asset."),
    (Request.INVALID_TIF(), 400, -1115, "Invalid timeInForce."),
    (Request.INVALID_ORDER_TYPE(), 400, -1116, "Invalid orderType."),
    (Request.INVALID_SIDE(), 400, -1117, "Invalid side."),
    (Request.BAD_INTERVAL(), 400, -1120, "Invalid interval."),
    (errors.invalid_symbol(), 400, -1121, "Invalid symbol."),
    (Request.INVALID_LISTEN_KEY(), 400, -1125, "This listenKey does not exist."),
    (Processing.NEW_ORDER_REJECTED(), 400, -2010, "NEW_ORDER_REJECTED"),
    (Processing.UNKNOWN_ORDER(), 400, -2011, "Unknown order sent."),
    (Processing.NO_SUCH_ORDER(), 400, -2013, "Order does not exist."),
    (Processing.MARGIN_NOT_SUFFICIENT(), 400, -2019, "Margin is insufficient."),
    (Processing.ORDER_WOULD_IMMEDIATELY_TRIGGER(), 400, -2021, "Order would immediately trigger."),
    (Processing.REDUCE_ONLY_REJECT(), 400, -2022, "ReduceOnly Order is rejected."),
    (Processing.POSITION_NOT_SUFFICIENT(), 400, -2024, "Position is not sufficient."),
    (Processing.MAX_OPEN_ORDER_EXCEEDED(), 400, -2025, "Reach max open order limit."),
    (Processing.MAX_LEVERAGE_RATIO(), 400, -2027, "Exceeded the maximum allowable position at current leverage."),
    (Processing.MIN_LEVERAGE_RATIO(), 400, -2028, "Leverage is smaller than permitted: insufficient margin balance."),
    (Filters.QTY_LESS_THAN_ZERO(), 400, -4003, "Quantity less than or equal to zero."),
    (Filters.QTY_LESS_THAN_MIN_QTY(), 400, -4004, "Quantity less than min quantity."),
    (Filters.QTY_GREATER_THAN_MAX_QTY(), 400, -4005, "Quantity greater than max quantity."),
    (Filters.PRICE_LESS_THAN_MIN_PRICE(), 400, -4013, "Price less than min price."),
    (Filters.PRICE_GREATER_THAN_MAX_PRICE(), 400, -4002, "Price greater than max price."),
    (Filters.PRICE_NOT_INCREASED_BY_TICK_SIZE(), 400, -4014, "Price not increased by tick size."),
    (Filters.QTY_NOT_INCREASED_BY_STEP_SIZE(), 400, -4023, "Qty not increased by step size."),
    (Filters.INVALID_CL_ORD_ID(), 400, -4015, "Client order id is not valid."),
    (errors.limit_price_too_high("80761.30"), 400, -4016, "Limit price can't be higher than 80761.30."),
    (errors.limit_price_too_low("73069.20"), 400, -4024, "Limit price can't be lower than 73069.20."),
    (errors.invalid_depth_limit(3), 400, -4021, "3 is not valid depth limit"),
    (errors.invalid_leverage(200), 400, -4028, "Leverage 200 is not valid"),
    (Filters.MAX_STOP_ORDER_EXCEEDED(), 400, -4045, "Reach max stop order limit."),
    (Filters.NO_NEED_TO_CHANGE_MARGIN_TYPE(), 400, -4046, "No need to change margin type."),
    (Filters.MARGIN_TYPE_OPEN_ORDERS(), 400, -4047, "Margin type cannot be changed if there exists open orders."),
    (Filters.MARGIN_TYPE_POSITION(), 400, -4048, "Margin type cannot be changed if there exists position."),
    (Filters.INVALID_API_KEY_TYPE(), 400, -4056, "Invalid api key type."),
    (Filters.NO_NEED_TO_CHANGE_POSITION_SIDE(), 400, -4059, "No need to change position side."),
    (Filters.INVALID_POSITION_SIDE(), 400, -4060, "Invalid position side."),
    (Filters.POSITION_SIDE_NOT_MATCH(), 400, -4061, "Order's position side does not match user's setting."),
    (Filters.REDUCE_ONLY_CONFLICT(), 400, -4062, "Invalid or improper reduceOnly value."),
    (Filters.POSITION_SIDE_CHANGE_OPEN_ORDERS(), 400, -4067,
     "Position side cannot be changed if there exists open orders."),
    (Filters.POSITION_SIDE_CHANGE_POSITION(), 400, -4068, "Position side cannot be changed if there exists position."),
    (Orders41.DUPLICATED_CLIENT_ORDER_ID(), 400, -4116, "clientOrderId is duplicated"),
    (Orders41.REDUCE_ONLY_MARGIN_CHECK_FAILED(), 400, -4118,
     "ReduceOnly Order Failed. Please check your existing position and open orders"),
    (Orders41.STOP_ORDER_SWITCH_ALGO(), 400, -4120,
     "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."),
    (Orders41.MARKET_ORDER_REJECT(), 400, -4131,
     "The counterparty's best price does not meet the PERCENT_PRICE filter limit"),
    (Orders41.INVALID_ACTIVATION_PRICE(), 400, -4135, "Invalid activation price"),
    (Orders41.QUANTITY_EXISTS_WITH_CLOSE_POSITION(), 400, -4137, "Quantity must be zero with closePosition equals true"),
    (Orders41.REDUCE_ONLY_MUST_BE_TRUE(), 400, -4138, "Reduce only must be true with closePosition equals true"),
    (Orders41.STRATEGY_INVALID_TRIGGER_PRICE(), 400, -4142,
     "REJECT: take profit or stop order will be triggered immediately"),
    (errors.min_notional(50), 400, -4164, "Order's notional must be no smaller than 50 (unless you choose reduce only)."),
    (errors.unknown_path("/fapi/v1/positionRisk", "get"), 404, -5000, "Path /fapi/v1/positionRisk, Method GET is invalid"),
    (Execution.FOK_ORDER_REJECT(), 400, -5021,
     "Due to the order could not be filled immediately, the FOK order has been rejected."),
    (Execution.GTX_ORDER_REJECT(), 400, -5022,
     "Due to the order could not be executed as maker, the Post Only order will be rejected."),
    (Execution.SAME_ORDER(), 400, -5027, "No need to modify the order."),
    (Execution.ME_RECVWINDOW_REJECT(), 400, -5028, "Timestamp for this request is outside of the ME recvWindow."),
]


@pytest.mark.parametrize("err,http,code,msg", EXACT, ids=[f"{c}-{i}" for i, (_, _, c, _) in enumerate(EXACT)])
def test_exact(err, http, code, msg):
    assert isinstance(err, BinanceError)
    assert (err.http_status, err.code, err.msg) == (http, code, msg)
    assert err.to_body() == {"code": code, "msg": msg}
    assert list(err.to_body()) == ["code", "msg"]


def test_catalog_shape():
    families = {"General": (-1099, -1000), "Request": (-1199, -1100), "Processing": (-2099, -2000),
                "Filters": (-4099, -4000), "Orders41": (-4199, -4100), "Execution": (-5099, -5000)}
    for key, spec in CATALOG.items():
        fam = key.split(".")[0]
        lo, hi = families[fam]
        assert lo <= spec.code <= hi, key
        assert spec.code < 0
        assert spec.http_status in (400, 401, 404, 408, 418, 429, 503)
        assert spec.template and spec.template == spec.template.strip()
    assert len({s.code for s in CATALOG.values()}) > 90


def test_every_error_is_json_safe():
    import json
    for spec in CATALOG.values():
        err = spec(*(["X"] * spec.arity))
        assert json.loads(json.dumps(err.to_body())) == err.to_body()


def test_arity_checked():
    with pytest.raises(TypeError):
        Request.MANDATORY_PARAM()
    with pytest.raises(TypeError):
        Request.INVALID_SIDE("x")


def test_retry_after_and_headers():
    e = errors.too_many_requests(2400, 17)
    assert e.headers == {"Retry-After": "17"}
    e.with_headers({"X-MBX-USED-WEIGHT-1M": "2401"})
    assert e.headers["X-MBX-USED-WEIGHT-1M"] == "2401"
    assert "429" in str(e) and "-1003" in str(e)


def test_by_code():
    assert {s.template for s in errors.by_code(-1021)} == {
        "Timestamp for this request is outside of the recvWindow.",
        "Timestamp for this request was 1000ms ahead of the server's time."}
    assert errors.by_code(-9999) == []


def test_raise_and_catch():
    with pytest.raises(BinanceError) as ei:
        raise Processing.NO_SUCH_ORDER()
    assert ei.value.code == -2013
    assert Processing.NO_SUCH_ORDER.matches(ei.value)
