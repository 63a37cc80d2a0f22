"""Billing: AWS's price models (`prices.py`, data in `price_models.json`).

Every billed duration and every price, in REPORT lines, invocation records, `ember pricing`,
`ember cost` and the metrics, comes from `prices.PriceModel`: one place, one file.
"""
