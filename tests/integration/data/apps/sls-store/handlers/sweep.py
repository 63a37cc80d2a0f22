def handler(event, context):
    return {"swept": True}
