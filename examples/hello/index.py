"""The smallest Ember function: greets whoever the event names."""


def handler(event, context):
    name = event.get("name") if isinstance(event, dict) else None
    return {"message": f"Hello, {name or 'world'}!"}
