"""The behaviour-test handler for Ember's own Python runtime and for awslambdaric."""

import os
import time

if os.environ.get("FAIL_INIT"):
    raise RuntimeError("init failed")

COUNT = 0


def handler(event, context):
    global COUNT
    op = event.get("op")
    print(f"handling {op}")
    if op == "count":
        COUNT += 1
        return {"count": COUNT}
    if op == "fail":
        raise ValueError("bad input")
    if op == "sleep":
        time.sleep(event["s"])
        return "slept"
    if op == "exit":
        os._exit(3)
    if op == "whoami":
        return {"uid": os.getuid(), "task_root": os.environ["LAMBDA_TASK_ROOT"]}
    if op == "context":
        return {"request_id": context.aws_request_id, "function_arn": context.invoked_function_arn,
                "remaining_ms": context.get_remaining_time_in_millis()}
    return {"echo": op}
