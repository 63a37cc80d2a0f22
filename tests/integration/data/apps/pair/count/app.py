import json

CALLS = 0  # module state: it survives only while the environment stays warm


def handler(event, context):
    global CALLS
    CALLS += 1
    return {"statusCode": 200, "body": json.dumps({"calls": CALLS})}
