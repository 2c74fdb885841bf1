"""The REST face of the Binance USD-M API: market data, trading (orders, algo orders) and
account endpoints; each module registers its routes on the gateway."""
