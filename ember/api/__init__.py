"""HTTP surfaces: the Lambda API (control plane and Invoke), the Runtime API, CloudWatch Logs reads."""
