"""`ember layers publish` and `ember layers ls`: a folder or zip published as a layer version, and the
layers a server holds (each one's versions, newest first)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from ember.cli.packaging import code_bytes

COLUMNS = ("LAYER", "VERSION", "RUNTIMES", "ARCHITECTURES", "SIZE", "CREATED", "ARN")


def publish_layer(client: Any, name: str, path: Path, runtimes: list[str], architectures: list[str],
                  description: str | None) -> dict[str, Any]:
    """PublishLayerVersion of a folder (zipped as `ember deploy` zips one, modes kept) or a zip as it is."""
    params: dict[str, Any] = {"LayerName": name, "Content": {"ZipFile": code_bytes(path)}}
    if runtimes:
        params["CompatibleRuntimes"] = runtimes
    if architectures:
        params["CompatibleArchitectures"] = architectures
    if description:
        params["Description"] = description
    response: dict[str, Any] = client.publish_layer_version(**params)
    return response


def layers_table(client: Any) -> Table:
    """Every version of every layer: ListLayers, then ListLayerVersions for each (CodeSize from GetLayerVersion)."""
    table = Table(box=None, pad_edge=False)
    for column in COLUMNS:
        table.add_column(column, no_wrap=True)
    for page in client.get_paginator("list_layers").paginate():
        for layer in page["Layers"]:
            for versions in client.get_paginator("list_layer_versions").paginate(LayerName=layer["LayerName"]):
                for version in versions["LayerVersions"]:
                    table.add_row(*_row(client, layer["LayerName"], version))
    return table


def _row(client: Any, name: str, version: dict[str, Any]) -> list[str]:
    size = client.get_layer_version(LayerName=name, VersionNumber=version["Version"])["Content"]["CodeSize"]
    return [name, str(version["Version"]), ",".join(version.get("CompatibleRuntimes", [])) or "-",
            ",".join(version.get("CompatibleArchitectures", [])) or "-", _size(size), version["CreatedDate"],
            version["LayerVersionArn"]]


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.1f} KB"
