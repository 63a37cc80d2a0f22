def handler(event, context):
    return {"kind": event.get("kind")}
