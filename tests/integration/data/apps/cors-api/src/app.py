import json


def handler(event, context):
    return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "https://app.example.com"},
            "body": json.dumps({"message": "hello", "method": event["httpMethod"]})}
