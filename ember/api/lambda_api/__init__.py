"""The Lambda API, one module per resource: functions (control plane) and invoke (data plane)."""
