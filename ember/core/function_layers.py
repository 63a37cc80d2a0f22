"""A function's `Layers`: checked as AWS checks them, the 250 MB code and layers share, and its /opt tree.

CreateFunction and UpdateFunctionConfiguration take up to five layer version ARNs, in order. Each
must be a version this server holds (a deleted one can't be added, though functions that named it
before keep it); a layer of another account can't be fetched from AWS, so the error says how to
publish it here instead. The configuration keeps AWS's `[{Arn, CodeSize}]`; environments get the
layers merged into one tree (`ember.core.layer_trees`) mounted at /opt.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ember.arns import LayerRef, parse_layer_ref
from ember.config import ACCOUNT_ID
from ember.core.code_store import CodeStore
from ember.core.layers import LayerStore, LayerVersion
from ember.core.zip_extract import UNZIPPED_LIMIT
from ember.errors import InvalidParameterValueException

MAX_LAYERS = 5
EXTENSIONS_DIR = "extensions"


class FunctionLayers:
    def __init__(self, store: LayerStore, endpoint: str = "http://127.0.0.1:9000") -> None:
        self.store = store
        self.endpoint = endpoint  # this server's URL, for the error that says how to publish a layer here

    @property
    def code(self) -> CodeStore:
        return self.store.code

    def attach(self, arns: Sequence[str]) -> list[dict[str, Any]]:
        """Layers as the configuration keeps them, after AWS's checks, in AWS's order of checks."""
        if len(arns) > MAX_LAYERS:
            raise InvalidParameterValueException(f"Cannot reference more than {MAX_LAYERS} layers.")
        seen: dict[str, str] = {}
        attached = []
        for arn in arns:
            version = self._version_of(arn)
            earlier = seen.setdefault(version.info["LayerArn"], arn)
            if earlier != arn or arns.count(arn) > 1:
                raise InvalidParameterValueException(
                    "Two different versions of the same layer are not allowed to be referenced in the same function. "
                    f"{earlier} and {arn} are versions of the same layer.")
            attached.append({"Arn": version.arn, "CodeSize": version.code_size})
        return attached

    def _version_of(self, arn: str) -> LayerVersion:
        ref = parse_layer_ref(arn)
        if ref is None or ref.version is None:  # the model's pattern refused these already
            raise InvalidParameterValueException(f"Layer version {arn} does not exist.")
        if ref.account != ACCOUNT_ID:
            raise InvalidParameterValueException(self._foreign(arn, ref))
        if ref.region != self.store.region:
            raise InvalidParameterValueException("Layers are not in the same region as the function. "
                                                 f"Layers are expected to be in region {self.store.region}.")
        version = self.store.find(ref.name, ref.version)
        if version is None or version.deleted:
            raise InvalidParameterValueException(f"Layer version {arn} does not exist.")
        return version

    def _foreign(self, arn: str, ref: LayerRef) -> str:
        return (f"Layer {arn} belongs to AWS account {ref.account}: Ember cannot fetch layers from AWS, so publish "
                f"its content here and use the LayerVersionArn that prints. Download it from AWS (aws lambda "
                f"get-layer-version-by-arn --arn {arn}, then the zip at Content.Location) and run: aws lambda "
                f"publish-layer-version --endpoint-url {self.endpoint} --layer-name {ref.name} "
                f"--zip-file fileb://{ref.name}.zip")

    def check_size(self, config: dict[str, Any], code_unzipped: int) -> None:
        """AWS's limit on the function's code and its layers together, unzipped."""
        versions = self.store.of_function(config)
        if not versions:
            return
        total = code_unzipped + sum(v.unzipped for v in versions)
        if total > UNZIPPED_LIMIT:
            raise InvalidParameterValueException(
                f"Function code combined with layers exceeds the maximum allowed size of {UNZIPPED_LIMIT} bytes. "
                f"The actual size is {total} bytes.")

    def digests(self, config: dict[str, Any]) -> tuple[str, ...]:
        """The function's layers' code, in order."""
        return tuple(v.digest for v in self.store.of_function(config))

    def opt_dir(self, config: dict[str, Any]) -> Path | None:
        """The tree environments show at /opt (built now if missing: `prepare` builds it ahead)."""
        return self.store.trees.ensure([v.digest for v in self.store.of_function(config)])

    def prepare(self, config: dict[str, Any]) -> str | None:
        """Build the /opt tree ahead of the first cold start (blocking); a warning for layers carrying
        extensions, which Ember does not run."""
        self.opt_dir(config)
        carrying = [v.arn for v in self.store.of_function(config)
                    if (self.code.tree(v.digest) / EXTENSIONS_DIR).is_dir()]
        if not carrying:
            return None
        return (f"{', '.join(carrying)} carr{'ies' if len(carrying) == 1 else 'y'} /opt/{EXTENSIONS_DIR}: Ember does "
                "not run Lambda extensions yet (no Extensions API), so they will not start")
