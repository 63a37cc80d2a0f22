"""`ember stacks` and `ember rm --stack`: the stacks a server holds, found by what marks their resources
(ember.apps.deployed), and removing one whole."""

from __future__ import annotations

import json
from typing import Any

from ember.apps.clients import Clients
from ember.apps.deployed import LAYER_MARK, all_functions, read_stack
from ember.apps.model import STACK_TAG
from ember.apps.plan import KIND_ORDER, Deployed
from ember.apps.server_answers import absent, pages
from ember.cli.client import aws_client


def clients_for(endpoint: str) -> Clients:
    return Clients.make(lambda service: aws_client(service, endpoint))


def stack_names(clients: Clients) -> list[str]:
    """Every stack that owns something on the server."""
    names = set()
    for config in all_functions(clients.lambda_):
        names.add(clients.lambda_.list_tags(Resource=config["FunctionArn"]).get("Tags", {}).get(STACK_TAG))
    for page in pages(clients.iam, "list_roles"):
        for role in page["Roles"]:
            tags = clients.iam.get_role(RoleName=role["RoleName"])["Role"].get("Tags") or []
            names |= {tag["Value"] for tag in tags if tag["Key"] == STACK_TAG}
    names |= {(api.get("Tags") or {}).get(STACK_TAG) for api in
              (absent(clients.apigatewayv2.get_apis) or {}).get("Items", [])}
    names |= {(api.get("tags") or {}).get(STACK_TAG) for page in pages(clients.apigateway, "get_rest_apis")
              for api in page.get("items", [])}
    names |= _layer_stacks(clients.lambda_)
    return sorted(name for name in names if name)


def _layer_stacks(client: Any) -> set[str]:
    found = set()
    for page in pages(client, "list_layers"):
        for layer in page.get("Layers", []):
            policy = absent(client.get_layer_version_policy, LayerName=layer["LayerName"],
                            VersionNumber=layer["LatestMatchingVersion"]["Version"])
            for statement in json.loads(policy["Policy"])["Statement"] if policy else []:
                sid = str(statement.get("Sid", ""))
                if sid.startswith(LAYER_MARK):
                    found.add(sid.removeprefix(LAYER_MARK).partition("--")[0])
    return found


def stack_rows(clients: Clients) -> list[tuple[str, str, str]]:
    """(stack, what it owns counted by kind, every resource by its logical id or name)."""
    rows = []
    for name in stack_names(clients):
        deployed = read_stack(clients, name)
        rows.append((name, owned_summary(deployed), ", ".join(_owned_names(deployed))))
    return rows


def owned_summary(deployed: Deployed) -> str:
    counts: dict[str, int] = {}
    for kind, _ in deployed.resources:
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{counts[kind]} {kind}{'s' * (counts[kind] != 1)}" for kind in KIND_ORDER if kind in counts)


def _owned_names(deployed: Deployed) -> list[str]:
    ordered = sorted(deployed.resources.items(), key=lambda item: (KIND_ORDER.index(item[0][0]), item[0][1]))
    return [resource.logical_id or key for (kind, key), resource in ordered if kind != "permission"]
