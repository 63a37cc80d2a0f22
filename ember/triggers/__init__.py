"""Triggers that reach a function over HTTP: function URLs and API Gateway's front door and payloads."""
