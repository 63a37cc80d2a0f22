"""The seed's memory/CPU lesson (Ran Ribenzaft's Fibonacci benchmark): memory buys CPU.

A CPU-bound recursive Fibonacci. Deploy it at 128, 256, 512, 1024, 1769 and 3008 MB and compare
the REPORT lines: up to 1,769 MB (one vCPU) the duration falls in proportion to memory, and past
it a single-threaded function gains nothing while the price per ms keeps rising.
"""


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def handler(event, context):
    n = int(event.get("n", 25)) if isinstance(event, dict) else 25
    return {"n": n, "fib": fib(n), "memory_mb": int(context.memory_limit_in_mb)}
