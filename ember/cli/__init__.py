"""The human interface: `ember serve` and the client commands (deploy, invoke, ls, rm, logs)."""
