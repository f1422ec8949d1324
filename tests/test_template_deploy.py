"""``template.yaml`` as CloudFormation gets it from ``sam deploy``: transformed by SAM (offline,
with aws-sam-translator), then its conditions decided by the parameters' values. It deploys on a
new account with default parameters, a second stack fits beside it, its alarms can reach their
topic, no secret is in an environment, and each grant is the least that works."""

from __future__ import annotations

import graphlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
IP_HASH_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:practice/ip-hash-secret-AbCdEf"
TURNSTILE_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:practice/turnstile-GhIjKl"
# What an operator must give: the parameters without a default.
REQUIRED_PARAMETERS = {
    "SiteUrl": "https://www.example-practice.com",
    "AllowedOrigins": "https://www.example-practice.com,https://example-practice.com",
    "SenderEmail": "alerts@example-practice.com",
    "NotifyEmail": "therapist@example-practice.com",
    "IpHashSecretArn": IP_HASH_SECRET_ARN,
    "AlarmEmail": "developer@example-practice.com",
}
# A valid value of each parameter whose default is empty: the probe of which characters a pattern allows.
EXAMPLES = {
    **REQUIRED_PARAMETERS,
    "ThankYouUrl": "https://www.example-practice.com/thank-you?from=contact#top",
    "CrisisNotice": "In a crisis, call 999 or Samaritans on 116 123.",
    "ConsentText": "I understand that email is not a secure channel.",
    "IpHashSecretVersionId": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    "TurnstileSecretArn": TURNSTILE_SECRET_ARN,
    "InboxEmails": "therapist@example-practice.com,partner@example-practice.com",
    "InboxUrl": "https://inbox.example-practice.com",
    "IntakeQuestions": "client_type!,state!,availability",
    "LicensedStates": "NY,NJ",
    "MessageHint": "Please don't include clinical details here.",
}
ENVIRONMENT_LIMIT_BYTES = 4 * 1024
TABLE_NAME_MAX = 255  # DynamoDB's limit, whatever name CloudFormation generates
# A stack's id, its name at CloudFormation's longest (128 characters): what a name made from it can be.
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{'s' * 128}/e3a5b0c0-1c2d-11ef-9f0e-0a1b2c3d4e5f"
# Characters a parameter's value might hold, beyond ASCII: two, three and four bytes in UTF-8.
WIDE_CHARACTERS = ("é", "€", "😀")
NO_VALUE = object()

# Each resource type of the stack, and the property that names it account-wide (None: named
# inside its parent, or not named at all).
PHYSICAL_NAMES = {
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::ApiGatewayV2::Stage": None,
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::KMS::Key": None,
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Alias": None,
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::Permission": None,
    "AWS::Lambda::Version": None,
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Logs::MetricFilter": "FilterName",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::SES::ConfigurationSet": "Name",
    "AWS::SES::ConfigurationSetEventDestination": None,
    "AWS::SNS::Subscription": None,
    "AWS::SNS::Topic": "TopicName",
    "AWS::SNS::TopicPolicy": None,
}


def transform(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as ``sam deploy`` hands it to CloudFormation, made offline."""
    from samtranslator.public.translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform as sam_transform

    class NoPolicies(ManagedPolicyLoader):
        def __init__(self) -> None:
            pass

        def load(self) -> dict[str, str]:
            return {}

    packaged = cfn_yaml.load(str(path))
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # What `sam deploy` puts there once it has uploaded the built code.
            resource["Properties"]["CodeUri"] = "s3://deployment-bucket/function.zip"
    return sam_transform(packaged, {}, NoPolicies())


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the region the transform writes into ARNs
        return transform()


class Stack:
    """The transformed template with every condition decided: what CloudFormation creates."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self.template = template
        self.parameters = {
            **{name: str(p["Default"]) for name, p in template["Parameters"].items() if "Default" in p},
            **REQUIRED_PARAMETERS,
            **parameters,
        }
        self.resources = {
            name: self.resolve(resource)
            for name, resource in template["Resources"].items()
            if "Condition" not in resource or self.holds(resource["Condition"])
        }

    def holds(self, condition: str) -> bool:
        return bool(self.evaluate(self.template["Conditions"][condition]))

    def evaluate(self, expression: Any) -> Any:
        (function, arguments), *_ = expression.items()
        if function == "Fn::Equals":
            return str(self.resolve(arguments[0])) == str(self.resolve(arguments[1]))
        if function == "Fn::Not":
            return not self.evaluate(arguments[0])
        if function == "Fn::And":
            return all(self.evaluate(argument) for argument in arguments)
        if function == "Fn::Or":
            return any(self.evaluate(argument) for argument in arguments)
        if function == "Condition":
            return self.holds(arguments)
        raise AssertionError(f"unknown condition function {function}")

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in map(self.resolve, node) if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if list(node) == ["Ref"]:
            if node["Ref"] == "AWS::NoValue":
                return NO_VALUE
            return self.parameters.get(node["Ref"], node)
        if list(node) == ["Fn::If"]:
            condition, when_true, when_false = node["Fn::If"]
            return self.resolve(when_true if self.holds(condition) else when_false)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r["Properties"] for name, r in self.resources.items() if r["Type"] == kind}

    def statements(self, role: str) -> list[dict[str, Any]]:
        """Every statement a role grants: its own policies' and its managed policies' (those of this stack)."""
        properties = self.resources[role]["Properties"]
        documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        for managed in properties.get("ManagedPolicyArns", []):
            assert isinstance(managed, dict) and list(managed) == ["Ref"], (role, managed)
            documents.append(self.resources[managed["Ref"]]["Properties"]["PolicyDocument"])
        return [statement for document in documents for statement in document["Statement"]]

    def role_of(self, function: str) -> str:
        role = self.resources[function]["Properties"]["Role"]
        assert list(role) == ["Fn::GetAtt"] and role["Fn::GetAtt"][1] == "Arn", role
        return str(role["Fn::GetAtt"][0])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_template_transforms_offline(transformed: dict[str, Any]) -> None:
    kinds = {resource["Type"] for resource in transformed["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::ApiGatewayV2::Api", "AWS::IAM::Role"} <= kinds
    assert not [kind for kind in kinds if kind.startswith("AWS::Serverless::")]


def references(value: Any) -> set[str]:
    """The names a template value refers to: by Ref, Fn::GetAtt or a ${...} in Fn::Sub."""
    if isinstance(value, list):
        return set().union(*map(references, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for function, argument in value.items():
        if function == "Ref" and isinstance(argument, str):
            found.add(argument)
        elif function == "Fn::GetAtt":
            found.add(argument[0] if isinstance(argument, list) else argument.split(".")[0])
        elif function == "Fn::Sub":
            text, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
            found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)} - set(variables)
            found |= references(variables)
        else:
            found |= references(argument)
    return found


def test_no_resources_depend_on_each_other_in_a_cycle(transformed: dict[str, Any]) -> None:
    # CloudFormation refuses such a template at deploy time ("Circular dependency between
    # resources"); cfn-lint does not see one made through SAM's generated resources.
    resources = transformed["Resources"]
    graph = {
        name: {ref for ref in references(resource) if ref in resources and ref != name}
        | set(as_list(resource.get("DependsOn", [])))
        for name, resource in resources.items()
    }
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as cycle:
        pytest.fail(f"a dependency cycle: {' -> '.join(cycle.args[1])}")


# Deploys on a new account, with default parameters.


def test_with_default_parameters_no_function_reserves_concurrency(transformed: dict[str, Any]) -> None:
    # A new account's concurrency quota may be 10, and Lambda keeps an unreserved minimum of 100:
    # any reservation would fail the deploy there.
    for name, function in Stack(transformed, {}).of_type("AWS::Lambda::Function").items():
        assert "ReservedConcurrentExecutions" not in function, name
    reserving = Stack(transformed, {"ReservedConcurrency": "20"}).of_type("AWS::Lambda::Function")
    assert reserving["ApiFunction"]["ReservedConcurrentExecutions"] == "20"
    assert "ReservedConcurrentExecutions" not in reserving["RetryFunction"]


def test_every_alarm_can_publish_to_its_topic(transformed: dict[str, Any]) -> None:
    # CloudWatch cannot use the AWS managed key of SNS (alias/aws/sns): a topic encrypted with it
    # confirms its subscription, then drops every alarm. Only a key whose policy lets CloudWatch use it works.
    stack = Stack(transformed, {})
    alarms = stack.of_type("AWS::CloudWatch::Alarm")
    assert alarms
    for name, alarm in alarms.items():
        actions = [
            *alarm.get("AlarmActions", []),
            *alarm.get("OKActions", []),
            *alarm.get("InsufficientDataActions", []),
        ]
        assert actions, name
        for action in actions:
            topic = stack.resources[action["Ref"]]
            assert topic["Type"] == "AWS::SNS::Topic", name
            key = topic["Properties"].get("KmsMasterKeyId")
            if key is None:
                continue
            assert isinstance(key, dict), f"{name}: {key} is not a key of this stack that CloudWatch may use"
            key_name = next(iter(key.values()))
            key_name = key_name[0] if isinstance(key_name, list) else key_name
            policy = stack.resources[key_name]["Properties"]["KeyPolicy"]
            granted = {
                action
                for statement in policy["Statement"]
                if statement["Effect"] == "Allow"
                and "cloudwatch.amazonaws.com" in as_list(statement["Principal"].get("Service", []))
                for action in as_list(statement["Action"])
            }
            assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= granted, name


# Secrets: where they are, in the environment; what they are, only in Secrets Manager.


def test_no_secret_value_is_put_in_an_environment(transformed: dict[str, Any]) -> None:
    for name, function in (
        Stack(transformed, {"TurnstileSecretArn": TURNSTILE_SECRET_ARN}).of_type("AWS::Lambda::Function").items()
    ):
        variables = function["Environment"]["Variables"]
        assert "resolve:secretsmanager" not in json.dumps(variables), name
        secretive = {variable for variable in variables if "SECRET" in variable}
        assert all(variable.endswith(("_SECRET_ARN", "_SECRET_VERSION_ID")) for variable in secretive), secretive


def test_the_api_function_may_read_its_secrets_and_the_retry_function_none(transformed: dict[str, Any]) -> None:
    both = [IP_HASH_SECRET_ARN, TURNSTILE_SECRET_ARN]
    for turnstile, readable in (("", [IP_HASH_SECRET_ARN]), (TURNSTILE_SECRET_ARN, both)):
        stack = Stack(transformed, {"TurnstileSecretArn": turnstile})
        api = stack.resources["ApiFunction"]["Properties"]["Environment"]["Variables"]
        assert api["IP_HASH_SECRET_ARN"] == IP_HASH_SECRET_ARN and api["TURNSTILE_SECRET_ARN"] == turnstile
        grants = [s for s in stack.statements(stack.role_of("ApiFunction")) if "secretsmanager" in json.dumps(s)]
        assert [(as_list(s["Action"]), as_list(s["Resource"])) for s in grants] == [
            (["secretsmanager:GetSecretValue"], readable)
        ]

        for other in ("RetryFunction", "DeliveryEventsFunction"):
            variables = stack.resources[other]["Properties"]["Environment"]["Variables"]
            assert not [variable for variable in variables if "SECRET" in variable], other
            assert "secretsmanager" not in json.dumps(stack.statements(stack.role_of(other))), other


# The 4 KB limit on a function's environment.


SUB_NAMES = {"HttpApi", "AWS::Region", "AWS::URLSuffix"}


def json_bytes(text: str) -> int:
    """Bytes of ``text`` inside a JSON string: Lambda measures the variables as JSON (its error
    message quotes the "String measured"), and this counts UTF-8, not escapes, for non-ASCII."""
    return len(json.dumps(text, ensure_ascii=False)[1:-1].encode("utf-8"))


def widest_character(name: str, parameter: dict[str, Any]) -> int:
    """The most bytes one character of this parameter's value can take, as far as its pattern lets it."""
    candidates = [chr(code) for code in range(128)] + list(WIDE_CHARACTERS)
    pattern = parameter.get("AllowedPattern")
    if pattern is None:
        return max(map(json_bytes, candidates))
    example = EXAMPLES.get(name) or parameter["Default"]
    assert re.fullmatch(pattern, example), (name, example)
    allowed = [
        character
        for character in candidates
        if any(re.fullmatch(pattern, example[:i] + character + example[i:]) for i in range(len(example) + 1))
    ]
    assert allowed, name
    return max(map(json_bytes, allowed))


def worst_bytes(template: dict[str, Any], value: Any) -> int:
    """The most bytes ``value`` can take in a function's environment, whatever the parameters allowed."""
    if isinstance(value, str):
        return json_bytes(value)
    (function, argument), *_ = value.items()
    if function == "Fn::If":
        return max(worst_bytes(template, branch) for branch in argument[1:])
    if function == "Fn::Sub":
        # Each ${...} here is an API id, a region or a domain suffix: under 20 ASCII bytes.
        assert all(name in SUB_NAMES for name in re.findall(r"\$\{([^}]+)\}", argument)), argument
        return json_bytes(re.sub(r"\$\{[^}]+\}", "x" * 20, argument))
    assert function == "Ref", value
    resource = template["Resources"].get(argument, {})
    if resource.get("Type") == "AWS::DynamoDB::Table":
        return TABLE_NAME_MAX
    if resource.get("Type") == "AWS::SES::ConfigurationSet":
        return json_bytes(made_from_stack_id(resource["Properties"]["Name"]))
    parameter = template["Parameters"][argument]
    if "AllowedValues" in parameter:
        return max(json_bytes(str(allowed)) for allowed in parameter["AllowedValues"])
    if parameter["Type"] == "Number":
        assert "MaxValue" in parameter, f"{argument} flows into an environment: it needs a MaxValue"
        return max(len(str(parameter.get("MinValue", ""))), len(str(parameter["MaxValue"])))
    assert "MaxLength" in parameter, f"{argument} flows into an environment: it needs a MaxLength"
    return int(parameter["MaxLength"]) * widest_character(argument, parameter)


def made_from_stack_id(value: Any) -> str:
    """A name the template makes from the stack's id (Fn::Join, Fn::Select, Fn::Split), as CloudFormation makes it."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [made_from_stack_id(item) for item in value]  # type: ignore[return-value]
    (function, argument), *_ = value.items()
    if function == "Ref":
        assert argument == "AWS::StackId", value
        return STACK_ID
    if function == "Fn::Join":
        return str(argument[0]).join(made_from_stack_id(argument[1]))
    if function == "Fn::Split":
        return made_from_stack_id(argument[1]).split(argument[0])  # type: ignore[return-value]
    assert function == "Fn::Select", value
    return made_from_stack_id(argument[1])[int(argument[0])]


def test_no_allowed_parameter_values_can_overflow_an_environment(transformed: dict[str, Any]) -> None:
    for name, resource in transformed["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        variables = resource["Properties"]["Environment"]["Variables"]
        # {"NAME":"value",...}: the keys, the values at their longest, and the JSON around them.
        worst = 2 + len(variables) - 1
        for variable, value in variables.items():
            worst += json_bytes(variable) + 2 + 1 + worst_bytes(transformed, value) + 2
        assert worst <= ENVIRONMENT_LIMIT_BYTES, (name, worst)


# One stack per name.


def test_a_second_stack_fits_beside_the_first_in_the_same_account_and_region(transformed: dict[str, Any]) -> None:
    stack = Stack(transformed, {})
    for name, resource in stack.resources.items():
        assert resource["Type"] in PHYSICAL_NAMES, f"{resource['Type']}: does it have an account-wide name?"
        named = PHYSICAL_NAMES[resource["Type"]]
        if named and named in resource["Properties"]:
            given = json.dumps(resource["Properties"][named])
            assert "AWS::StackName" in given or "AWS::StackId" in given, (name, given)
    # The alarms watch metrics of this stack only: a staging stack's failures must not wake production's.
    namespaces = [
        f["MetricNamespace"]
        for m in stack.of_type("AWS::Logs::MetricFilter").values()
        for f in m["MetricTransformations"]
    ] + [a["Namespace"] for a in stack.of_type("AWS::CloudWatch::Alarm").values()]
    for namespace in namespaces:
        assert namespace == "AWS/Lambda" or "AWS::StackName" in json.dumps(namespace), namespace


# Tighter grants.


def test_each_function_writes_to_its_own_log_group_only(transformed: dict[str, Any]) -> None:
    stack = Stack(transformed, {"TurnstileSecretArn": TURNSTILE_SECRET_ARN})
    functions = stack.of_type("AWS::Lambda::Function")
    assert functions
    for name, function in functions.items():
        role = stack.resources[stack.role_of(name)]["Properties"]
        # AWS managed policies (AWSLambdaBasicExecutionRole: logs on every log group) are not in
        # the template, so no grant of theirs can be checked here: none may be attached.
        assert all(isinstance(arn, dict) for arn in role.get("ManagedPolicyArns", [])), (name, role)
        own_group = {"Fn::GetAtt": [function["LoggingConfig"]["LogGroup"]["Ref"], "Arn"]}
        logs = [s for s in stack.statements(stack.role_of(name)) if "logs:" in json.dumps(s["Action"])]
        assert logs, name
        for statement in logs:
            assert set(as_list(statement["Action"])) == {"logs:CreateLogStream", "logs:PutLogEvents"}, name
            assert as_list(statement["Resource"]) == [own_group], name


def test_no_grant_is_a_wildcard_action_or_resource(transformed: dict[str, Any]) -> None:
    stack = Stack(transformed, {"TurnstileSecretArn": TURNSTILE_SECRET_ARN})
    roles = stack.of_type("AWS::IAM::Role")
    assert roles
    for role in roles:
        for statement in stack.statements(role):
            assert all("*" not in action for action in as_list(statement["Action"])), (role, statement)
            assert "*" not in as_list(statement.get("Resource")), (role, statement)


def test_the_functions_get_only_the_table_actions_they_make(transformed: dict[str, Any]) -> None:
    stack = Stack(transformed, {})
    granted = {}
    for function in ("ApiFunction", "RetryFunction", "DeliveryEventsFunction"):
        statements = [s for s in stack.statements(stack.role_of(function)) if "dynamodb:" in json.dumps(s)]
        for statement in statements:
            assert "ContactTable" in json.dumps(statement["Resource"]), (function, statement)
        granted[function] = {action for s in statements for action in as_list(s["Action"])}
    # The API's transaction is Put, Put and Update (no ConditionCheck); it reads a claim with GetItem.
    # The inbox deletes a used sign-in link, an ended session and an erased message, and lists
    # messages by querying the recent index (only that index: never the table, never a scan).
    assert granted["ApiFunction"] == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    }
    (query,) = [s for s in stack.statements(stack.role_of("ApiFunction")) if "dynamodb:Query" in as_list(s["Action"])]
    assert as_list(query["Action"]) == ["dynamodb:Query"] and "/index/recent" in json.dumps(query["Resource"])
    # The retry function also reads when the held digest was sent, and counts held messages (recent index).
    assert granted["RetryFunction"] == {"dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query"}
    assert granted["DeliveryEventsFunction"] == {"dynamodb:UpdateItem"}


def test_sending_email_is_conditioned_on_the_sender_address(transformed: dict[str, Any]) -> None:
    stack = Stack(transformed, {})
    for function in ("ApiFunction", "RetryFunction"):
        (statement,) = [s for s in stack.statements(stack.role_of(function)) if "ses:" in json.dumps(s["Action"])]
        assert set(as_list(statement["Action"])) == {"ses:SendEmail", "ses:SendRawEmail"}
        assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": REQUIRED_PARAMETERS["SenderEmail"]}}
        # A send through a configuration set is authorised against the set as well.
        assert {
            "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${AlertConfigurationSet}"
        } in as_list(statement["Resource"])
    assert not [s for s in stack.statements(stack.role_of("DeliveryEventsFunction")) if "ses:" in json.dumps(s)]


# Every alert's fate is known.


def test_every_function_sends_through_the_configuration_set_whose_events_reach_the_events_function(
    transformed: dict[str, Any],
) -> None:
    stack = Stack(transformed, {})
    for name, function in stack.of_type("AWS::Lambda::Function").items():
        assert function["Environment"]["Variables"]["SES_CONFIGURATION_SET"] == {"Ref": "AlertConfigurationSet"}, name
    (destination,) = stack.of_type("AWS::SES::ConfigurationSetEventDestination").values()
    assert destination["ConfigurationSetName"] == {"Ref": "AlertConfigurationSet"}
    published = destination["EventDestination"]
    assert published["Enabled"] is True
    assert set(published["MatchingEventTypes"]) == {
        "delivery",
        "bounce",
        "complaint",
        "reject",
        "renderingFailure",
        "deliveryDelay",
    }
    topic = published["SnsDestination"]["TopicARN"]
    (subscription,) = [s for s in stack.of_type("AWS::SNS::Subscription").values() if s["TopicArn"] == topic]
    assert subscription["Protocol"] == "lambda"
    function = subscription["Endpoint"]["Fn::GetAtt"][0]
    assert stack.resources[function]["Properties"]["Handler"] == "handler.delivery_events.lambda_handler"
    (permission,) = [
        p for p in stack.of_type("AWS::Lambda::Permission").values() if p["FunctionName"] == {"Ref": function}
    ]
    assert (permission["Principal"], permission["SourceArn"]) == ("sns.amazonaws.com", topic)


def test_only_this_stack_s_configuration_set_may_publish_to_the_encrypted_events_topic(
    transformed: dict[str, Any],
) -> None:
    stack = Stack(transformed, {})
    (destination,) = stack.of_type("AWS::SES::ConfigurationSetEventDestination").values()
    topic = destination["EventDestination"]["SnsDestination"]["TopicARN"]
    (policy,) = [p for p in stack.of_type("AWS::SNS::TopicPolicy").values() if p["Topics"] == [topic]]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
        "Allow",
        {"Service": "ses.amazonaws.com"},
        "sns:Publish",
    )
    assert statement["Condition"] == {
        "StringEquals": {
            "AWS:SourceAccount": {"Ref": "AWS::AccountId"},
            "AWS:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${AlertConfigurationSet}"
            },
        }
    }
    # The events carry the alert's headers (the visitor's name and address): the topic is encrypted,
    # with a key SES may use (the AWS managed key of SNS cannot be opened to it).
    key = stack.resources[topic["Ref"]]["Properties"]["KmsMasterKeyId"]
    key_policy = stack.resources[key["Ref"]]["Properties"]["KeyPolicy"]
    granted = {
        action
        for s in key_policy["Statement"]
        if s["Principal"] == {"Service": "ses.amazonaws.com"}
        for action in as_list(s["Action"])
    }
    assert granted == {"kms:GenerateDataKey", "kms:Decrypt"}


def test_an_alert_not_delivered_raises_the_alarm_in_this_stack_s_namespace(
    transformed: dict[str, Any], function_environment
) -> None:
    from handler.delivery_events import ALERT_NOT_DELIVERED

    stack = Stack(transformed, {})
    log_group = stack.resources["DeliveryEventsFunction"]["Properties"]["LoggingConfig"]["LogGroup"]
    (metric_filter,) = [
        f for f in stack.of_type("AWS::Logs::MetricFilter").values() if f["FilterPattern"] == ALERT_NOT_DELIVERED
    ]
    assert metric_filter["LogGroupName"] == log_group
    (metric,) = metric_filter["MetricTransformations"]
    (alarm,) = [
        a
        for a in stack.of_type("AWS::CloudWatch::Alarm").values()
        if (a["Namespace"], a["MetricName"]) == (metric["MetricNamespace"], metric["MetricName"])
    ]
    assert metric["MetricNamespace"] == {"Fn::Sub": "PracticeBackend/${AWS::StackName}"}
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
    )
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # The function's own failures (an event dropped after Lambda's retries) alarm too.
    errors = [
        a
        for a in stack.of_type("AWS::CloudWatch::Alarm").values()
        if a["MetricName"] == "Errors"
        and a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "DeliveryEventsFunction"}}]
    ]
    assert len(errors) == 1 and errors[0]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
