"""ember.core.policy: IAM's evaluation logic for the actions Ember serves."""

from __future__ import annotations

import logging

import pytest

from ember.core.policy import AccessRequest, Decision, evaluate

ROLE = "arn:aws:iam::000000000000:role/worker"
PRINCIPAL = "arn:aws:sts::000000000000:assumed-role/worker/fn"
TARGET = "arn:aws:lambda:us-east-1:000000000000:function:target"


def ask(action: str = "lambda:InvokeFunction", resource: str = TARGET, **context: str) -> AccessRequest:
    return AccessRequest(PRINCIPAL, action, resource, ROLE, {k.replace("_", ":"): v for k, v in context.items()})


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(**members) -> dict:
    return {"Effect": "Allow", **members}


def deny(**members) -> dict:
    return {"Effect": "Deny", **members}


def test_no_policy_is_a_default_deny():
    assert evaluate(ask(), []).decision is Decision.IMPLICIT_DENY


def test_an_exact_allow_allows():
    assert evaluate(ask(), [policy(allow(Action="lambda:InvokeFunction", Resource=TARGET))]).allowed


@pytest.mark.parametrize("action", ["lambda:*", "lambda:Invoke*", "*", "lambda:InvokeFunctio?",
                                    "LAMBDA:invokefunction"])
def test_action_wildcards_and_case_match(action):
    assert evaluate(ask(), [policy(allow(Action=[action], Resource="*"))]).allowed


@pytest.mark.parametrize("action", ["lambda:Get*", "logs:*", "lambda:InvokeFunction?", "lambda:Invoke"])
def test_actions_that_do_not_match(action):
    assert not evaluate(ask(), [policy(allow(Action=action, Resource="*"))]).allowed


@pytest.mark.parametrize("resource", ["*", "arn:aws:lambda:*:*:function:*",
                                      "arn:aws:lambda:us-east-1:000000000000:function:tar*"])
def test_resource_wildcards_match(resource):
    assert evaluate(ask(), [policy(allow(Action="lambda:*", Resource=resource))]).allowed


def test_resources_match_case_sensitively():
    assert not evaluate(ask(), [policy(allow(Action="lambda:*", Resource=TARGET.upper()))]).allowed


def test_a_qualified_arn_needs_a_pattern_that_covers_the_qualifier():
    qualified = f"{TARGET}:prod"
    assert not evaluate(ask(resource=qualified), [policy(allow(Action="lambda:*", Resource=TARGET))]).allowed
    assert evaluate(ask(resource=qualified), [policy(allow(Action="lambda:*", Resource=f"{TARGET}:*"))]).allowed


def test_not_action_allows_everything_else():
    everything_but_delete = policy(allow(NotAction="lambda:Delete*", Resource="*"))
    assert evaluate(ask(), [everything_but_delete]).allowed
    assert not evaluate(ask("lambda:DeleteFunction"), [everything_but_delete]).allowed


def test_not_resource_allows_every_other_resource():
    not_target = policy(allow(Action="lambda:InvokeFunction", NotResource=TARGET))
    assert not evaluate(ask(), [not_target]).allowed
    assert evaluate(ask(resource=TARGET + "-other"), [not_target]).allowed


def test_an_explicit_deny_wins_over_any_allow():
    policies = [policy(allow(Action="*", Resource="*")), policy(deny(Action="lambda:InvokeFunction", Resource=TARGET))]
    outcome = evaluate(ask(), policies)
    assert outcome.decision is Decision.EXPLICIT_DENY and outcome.denied_by == "identity-based"


def test_a_deny_with_not_action_denies_the_rest():
    policies = [policy(allow(Action="*", Resource="*"), deny(NotAction="logs:*", Resource="*"))]
    assert not evaluate(ask(), policies).allowed
    assert evaluate(ask("logs:PutLogEvents", "*"), policies).allowed


def test_a_single_statement_object_is_accepted():
    assert evaluate(ask(), [{"Statement": allow(Action="lambda:*", Resource="*")}]).allowed


def test_an_unknown_condition_makes_its_allow_not_apply_and_is_logged_once(caplog):
    unknown = policy(allow(Action="*", Resource="*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    with caplog.at_level(logging.WARNING, logger="ember.iam"):
        assert not evaluate(ask(), [unknown]).allowed
        assert not evaluate(ask(), [unknown]).allowed
    assert len([r for r in caplog.records if "IpAddress" in r.getMessage()]) <= 1


def test_an_unknown_condition_key_fails_closed_too():
    unknown = policy(allow(Action="*", Resource="*", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}}))
    assert not evaluate(ask(), [unknown]).allowed


def test_an_unknown_condition_on_a_deny_still_denies():
    policies = [policy(allow(Action="*", Resource="*"),
                       deny(Action="*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "false"}}))]
    assert evaluate(ask(), policies).decision is Decision.EXPLICIT_DENY


def test_a_known_condition_is_evaluated():
    on_region = policy(allow(Action="*", Resource="*",
                             Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}}))
    assert evaluate(ask(aws_requestedregion="us-east-1"), [on_region]).allowed
    assert not evaluate(ask(aws_requestedregion="eu-west-1"), [on_region]).allowed


def test_a_resource_policy_naming_the_role_allows_without_an_identity_policy():
    resource_policy = policy(allow(Principal={"AWS": ROLE}, Action="lambda:InvokeFunction", Resource=TARGET))
    assert evaluate(ask(), [], resource_policy).allowed


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": "000000000000"},
                                       {"AWS": ["arn:aws:iam::000000000000:root"]}, {"AWS": PRINCIPAL}])
def test_resource_policy_principals_that_name_the_caller(principal):
    assert evaluate(ask(), [], policy(allow(Principal=principal, Action="lambda:*"))).allowed


@pytest.mark.parametrize("principal", [{"AWS": "111111111111"}, {"AWS": "arn:aws:iam::000000000000:role/other"},
                                       {"Service": "events.amazonaws.com"}])
def test_resource_policy_principals_that_do_not(principal):
    assert not evaluate(ask(), [], policy(allow(Principal=principal, Action="lambda:*"))).allowed


def test_a_resource_policy_deny_wins_over_an_identity_allow():
    resource_policy = policy(deny(Principal="*", Action="lambda:InvokeFunction"))
    outcome = evaluate(ask(), [policy(allow(Action="*", Resource="*"))], resource_policy)
    assert outcome.decision is Decision.EXPLICIT_DENY and outcome.denied_by == "resource-based"


def test_a_resource_policy_for_another_action_adds_nothing():
    resource_policy = policy(allow(Principal="*", Action="lambda:GetFunction"))
    assert not evaluate(ask(), [], resource_policy).allowed


def test_managed_policies_documents_behave_as_their_names_say():
    from ember.core.managed_policies import managed_policies

    known = managed_policies()
    basic = known["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"].document
    invoker = known["arn:aws:iam::aws:policy/service-role/AWSLambdaRole"].document
    assert evaluate(ask("logs:PutLogEvents", "*"), [basic]).allowed
    assert not evaluate(ask(), [basic]).allowed
    assert evaluate(ask(), [invoker]).allowed
    assert not evaluate(ask("lambda:DeleteFunction"), [invoker]).allowed
