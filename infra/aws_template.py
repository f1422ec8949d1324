"""``template.yaml`` as data, for the local stack and the tests: the contact
table is created from its definition there, so code and template cannot drift."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
TABLE_RESOURCE = "ContactTable"


@functools.cache
def load_template() -> dict[str, Any]:
    template: dict[str, Any] = cfn_yaml.load(str(TEMPLATE))
    return template


def create_contact_table(dynamodb: Any, table_name: str) -> None:
    """Create the table as ``template.yaml`` defines it, TTL included."""
    properties = load_template()["Resources"][TABLE_RESOURCE]["Properties"]
    dynamodb.create_table(
        TableName=table_name,
        BillingMode=properties["BillingMode"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        KeySchema=properties["KeySchema"],
        GlobalSecondaryIndexes=properties["GlobalSecondaryIndexes"],
        SSESpecification={"Enabled": properties["SSESpecification"]["SSEEnabled"]},
    )
    ttl = properties["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]},
    )
