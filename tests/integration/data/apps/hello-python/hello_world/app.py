import json


def lambda_handler(event, context):
    """Answers API Gateway's REST proxy event with a greeting."""
    return {
        "statusCode": 200,
        "body": json.dumps({"message": "hello from python", "path": event["path"]}),
    }
