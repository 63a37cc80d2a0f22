"""The domain: function registry, code store, invocation records and the invoker. Knows nothing of HTTP."""
