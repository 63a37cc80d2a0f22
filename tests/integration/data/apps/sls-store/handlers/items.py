import json
import os
import time


def handler(event, context):
    custom = (context.client_context.custom or {}) if context.client_context else {}
    if event.get("source") == "serverless-plugin-warmup":
        print(f"warm-up call, client context {json.dumps(custom)}")
        time.sleep(0.2)  # held a moment, so the warmer's parallel calls overlap and each keeps an environment
        return {"warm": True, "custom": custom}
    item = (event.get("pathParameters") or {}).get("id", "all")
    return {"statusCode": 200, "body": json.dumps({"item": item, "stage": os.environ["STAGE"]})}
