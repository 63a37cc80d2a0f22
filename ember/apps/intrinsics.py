"""Resolve a CloudFormation template's intrinsic functions the way CloudFormation would at deploy.

Parameters (defaults, overrides, AllowedValues), pseudo parameters, Conditions, Mappings, `Ref`, `Fn::GetAtt`,
`Fn::Sub`, `Fn::Join`, `Fn::If`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::Base64`, `Fn::GetAZs`,
`Fn::Length`, `Fn::ToJsonString`, `AWS::NoValue`; resources in dependency order (Ref, GetAtt, Sub, DependsOn).

`AWS::URLSuffix` is `amazonaws.com`, as in CloudFormation (service principals such as `lambda.${AWS::URLSuffix}`
must stay AWS's). Outputs therefore resolve to AWS-shaped URLs; `ember.apps.local_urls` then rewrites the
execute-api and lambda-url hosts to the ones Ember answers on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ember.apps import physical
from ember.apps.intrinsic_functions import FUNCTIONS, text_of
from ember.apps.model import Output
from ember.errors import TemplateError

NO_VALUE = object()  # Ref AWS::NoValue: the property or list element disappears
SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:[^}]*\}\}")


class Resolver:
    """One template's intrinsics, resolved against its parameters and Ember's account and region."""

    def __init__(self, template: dict[str, Any], where: physical.Where, overrides: Mapping[str, str] | None = None,
                 file: str | None = None) -> None:
        self.template, self.where, self.file = template, where, file
        self.resources: dict[str, dict[str, Any]] = template.get("Resources") or {}
        self.parameters = self._parameters(template.get("Parameters") or {}, dict(overrides or {}))
        self._conditions: dict[str, bool] = {}
        self._names: dict[str, str] = {}
        self._naming: set[str] = set()

    def error(self, message: str) -> TemplateError:
        return TemplateError(message, self.file)

    # -- parameters and pseudo parameters --------------------------------------------------------
    def _parameters(self, declared: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise self.error(f"Parameters: {unknown} do not exist in the template")
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            spec = spec or {}
            if name not in overrides and "Default" not in spec:
                raise self.error(f"Parameters: [{name}] must have values")
            value = overrides.get(name, spec.get("Default"))
            kind = str(spec.get("Type", "String"))
            if kind.startswith("AWS::SSM::Parameter"):
                raise self.error(f"Parameter {name}: SSM parameter types ({kind}) cannot be read on Ember; "
                                 f"pass its value with --parameter-overrides and make its Type String")
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            allowed = spec.get("AllowedValues")
            if allowed and text not in [str(v) for v in allowed]:
                raise self.error(f"Parameter '{name}' must be one of AllowedValues")
            values[name] = text.split(",") if kind.startswith("List<") or kind == "CommaDelimitedList" else text
        return values

    def pseudo(self, name: str) -> Any:
        w = self.where
        table = {"AWS::Region": w.region, "AWS::AccountId": w.account, "AWS::StackName": w.stack,
                 "AWS::Partition": w.partition, "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": NO_VALUE,
                 "AWS::StackId": w.arn("cloudformation", f"stack/{w.stack}/00000000-0000-0000-0000-000000000000"),
                 "AWS::NotificationARNs": []}
        if name not in table:
            raise self.error(f"Template format error: Unresolved resource dependencies [{name}] in the Resources "
                             f"block of the template")
        return table[name]

    # -- conditions ------------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            declared = self.template.get("Conditions") or {}
            if name not in declared:
                raise self.error(f"Template format error: Unresolved condition dependency {name}")
            self._conditions[name] = bool(self.resolve(declared[name]))
        return self._conditions[name]

    def included(self, logical_id: str) -> bool:
        """A resource whose `Condition` is false is not created, as in CloudFormation."""
        name = self.resources[logical_id].get("Condition")
        return name is None or self.condition(name)

    # -- resources -------------------------------------------------------------------------------
    def type_of(self, logical_id: str) -> str:
        return str(self.resources[logical_id].get("Type", ""))

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties") or {}

    def name(self, logical_id: str) -> str:
        """The resource's physical name (its name property resolved, or the generated one)."""
        if logical_id not in self._names:
            if logical_id in self._naming:
                raise self.error(f"Circular dependency between resources: [{logical_id}]")
            self._naming.add(logical_id)
            type_ = self.type_of(logical_id)
            prop = physical.NAMING.get(type_, (None, 64, False))[0]
            given = self.resolve(self.properties(logical_id).get(prop)) if prop else None
            self._names[logical_id] = physical.name_of(self.where, logical_id, type_, given)
            self._naming.discard(logical_id)
        return self._names[logical_id]

    def _identity_props(self, logical_id: str) -> dict[str, Any]:
        """The few properties Ref/GetAtt values are built from, resolved."""
        props = self.properties(logical_id)
        keys = ("FunctionName", "TargetFunctionArn", "Name", "StageName", "Path", "GroupName")
        return {key: self.resolve(props[key]) for key in keys if key in props}

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name not in self.resources:
            raise self.error(f"Template format error: Unresolved resource dependencies [{name}] in the "
                             f"Resources block of the template")
        type_ = self.type_of(name)
        return physical.ref(self.where, name, type_, self.name(name), self._identity_props(name))

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.resources:
            raise self.error(f"Template error: instance of Fn::GetAtt references undefined resource {logical_id}")
        try:
            return physical.get_att(self.where, logical_id, self.type_of(logical_id), self.name(logical_id),
                                    self._identity_props(logical_id), attribute)
        except TemplateError as exc:
            raise self.error(str(exc)) from exc

    # -- values ----------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """A value with every intrinsic function replaced by what it evaluates to."""
        if isinstance(value, dict):
            if len(value) == 1:
                key, argument = next(iter(value.items()))
                handler = FUNCTIONS.get(key)
                if handler is not None and (key not in ("Ref", "Condition") or isinstance(argument, str)):
                    return handler(self, argument)
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if isinstance(value, str) and DYNAMIC_REFERENCE.search(value):
            raise self.error(f"dynamic references ({DYNAMIC_REFERENCE.search(value).group(0)}) "  # type: ignore[union-attr]
                             f"read SSM or Secrets Manager, which Ember does not serve; use a Parameter instead")
        return value

    def sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            template, variables = argument[0], self.resolve(argument[1] if len(argument) > 1 else {})
        else:
            template, variables = argument, {}
        if not isinstance(template, str):
            raise self.error("Template error: Fn::Sub takes a string, or a list of a string and a mapping")

        def replace(match: re.Match[str]) -> str:
            body = match.group(1)
            if body.startswith("!"):
                return "${" + body[1:] + "}"
            if body in variables:
                return str(variables[body])
            if "." in body and not body.startswith("AWS::"):
                resource, _, attribute = body.partition(".")
                return text_of(self.get_att(resource, attribute))
            return text_of(self.ref(body))
        return SUB_VARIABLE.sub(replace, template)

    def outputs(self) -> dict[str, Output]:
        declared = self.template.get("Outputs") or {}
        result = {}
        for name, spec in declared.items():
            if spec.get("Condition") and not self.condition(spec["Condition"]):
                continue
            export = (spec.get("Export") or {}).get("Name")
            result[name] = Output(self.resolve(spec.get("Value")), str(spec.get("Description", "")),
                                  None if export is None else str(self.resolve(export)))
        return result

    # -- order -----------------------------------------------------------------------------------
    def order(self) -> list[str]:
        """Included resources, each after everything it references or DependsOn (template order otherwise)."""
        done: list[str] = []
        visiting: list[str] = []

        def visit(logical_id: str) -> None:
            if logical_id in done:
                return
            if logical_id in visiting:
                cycle = visiting[visiting.index(logical_id):]
                raise self.error(f"Circular dependency between resources: {cycle}")
            visiting.append(logical_id)
            for needed in sorted(self.dependencies(logical_id)):
                visit(needed)
            visiting.pop()
            done.append(logical_id)

        for logical_id in self.resources:
            if self.included(logical_id):
                visit(logical_id)
        return done

    def dependencies(self, logical_id: str) -> set[str]:
        resource = self.resources[logical_id]
        depends = resource.get("DependsOn") or []
        found = set([depends] if isinstance(depends, str) else depends)
        missing = sorted(found - set(self.resources))
        if missing:
            raise self.error(f"Template format error: Unresolved resource dependencies {missing} in the "
                             f"Resources block of the template")
        found |= {name for name in _references(resource.get("Properties") or {}) if name in self.resources}
        return {name for name in found if name != logical_id and self.included(name)}


def _references(value: Any) -> Iterator[str]:
    """Logical ids a value names through Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                yield item
            elif key == "Fn::GetAtt":
                yield item[0] if isinstance(item, list) else str(item).partition(".")[0]
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) else item
                for body in SUB_VARIABLE.findall(text if isinstance(text, str) else ""):
                    yield body.partition(".")[0]
                yield from _references(item)
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)
