cdef class OrderAgg:
    cdef public object buy_lots, buy_notional, buy_loss, sell_lots, sell_notional, sell_loss, ro_buy, ro_sell

cdef class Account:
    cdef public object account_id, cross_wallet, dual, update_time
    cdef public dict settings, positions, orders, client_ids, closed_client, order_count, aggs, algo_count, liq
