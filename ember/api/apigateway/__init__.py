"""API Gateway's control plane (apigatewayv2's HTTP APIs) on Ember's one endpoint."""
