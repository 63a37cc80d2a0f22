"""The seed's lesson: what is set up at module level is paid once, at Init, and reused while warm.

`make_client` stands for a client that is slow to create (the seed's Kafka producer, which first
asks a configuration service where the brokers are: ~400 ms). Created at import time, it shows up
as `Init Duration` on the cold start; warm calls reuse it and only pay for their own work.
"""

import os
import time

CONFIG_LOOKUP_SECONDS = float(os.environ.get("CONFIG_LOOKUP_SECONDS", "0.4"))


def make_client():
    time.sleep(CONFIG_LOOKUP_SECONDS)  # the configuration-service round trip
    return {"brokers": ["broker-1:9092", "broker-2:9092"], "created_at": time.time()}


CLIENT = make_client()
CALLS = 0


def handler(event, context):
    global CALLS
    CALLS += 1
    return {"calls_in_this_environment": CALLS, "client_created_at": CLIENT["created_at"],
            "brokers": CLIENT["brokers"]}
