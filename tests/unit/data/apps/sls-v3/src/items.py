import json
import os


def list_items(event, context):
    return {"statusCode": 200, "body": json.dumps({"table": os.environ["TABLE"], "items": []})}


def refresh(event, context):
    return {"refreshed": True}
