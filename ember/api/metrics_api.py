"""GET /metrics: the server's Prometheus metrics, unsigned, on the Lambda API's port."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from ember.observe.metrics import Metrics


class MetricsApi:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def scrape(self, request: Request) -> Response:
        return Response(self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
