"""Rules on the AWS resources: EFS encryption, ECR hygiene, IAM scope."""

import json
from collections.abc import Mapping
from typing import Any

from .core import UNKNOWN, Resource, message

Config = Mapping[str, Any]


def _document(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, Mapping) else None


def _statements(document: Any) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    statements = document.get("Statement") or []
    statements = statements if isinstance(statements, list) else [statements]
    return [s for s in statements if isinstance(s, Mapping)]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def efs_encryption(resource: Resource, config: Config) -> list[str]:
    if resource.type != "aws:efs/fileSystem:FileSystem":
        return []
    out = []
    if resource.props.get("encrypted") is not True and resource.props.get("encrypted") is not UNKNOWN:
        out.append(message(resource, "encrypted", "the file system is not encrypted", "set encrypted: true"))
    if config.get("requireKms") and resource.props.get("kmsKeyId") is None:
        out.append(
            message(resource, "kmsKeyId", "encrypted with the AWS-managed key", "use a customer KMS key")
        )
    return out


def ecr_repository(resource: Resource, config: Config) -> list[str]:
    out = []
    if resource.type == "aws:ecr/repository:Repository":
        scan = resource.props.get("imageScanningConfiguration")
        if isinstance(scan, Mapping) and scan.get("scanOnPush") is UNKNOWN:
            pass
        elif not (isinstance(scan, Mapping) and scan.get("scanOnPush") is True):
            out.append(
                message(
                    resource,
                    "imageScanningConfiguration.scanOnPush",
                    "images are not scanned on push",
                    "set scanOnPush: true",
                )
            )
        mutability = resource.props.get("imageTagMutability")
        if mutability not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", UNKNOWN):
            out.append(
                message(
                    resource,
                    "imageTagMutability",
                    f"tags are {mutability or 'MUTABLE'}",
                    "set IMMUTABLE (IMMUTABLE_WITH_EXCLUSION for named moving tags)",
                )
            )
    if resource.type == "aws:ecr/repositoryPolicy:RepositoryPolicy":
        for i, statement in enumerate(_statements(_document(resource.props.get("policy")))):
            principal = statement.get("Principal")
            if statement.get("Effect") == "Allow" and (
                principal == "*"
                or _as_list(principal.get("AWS") if isinstance(principal, Mapping) else None) == ["*"]
            ):
                out.append(
                    message(
                        resource,
                        f"policy.Statement[{i}].Principal",
                        "the repository is public",
                        "allow named accounts or roles only",
                    )
                )
    return out


def iam_roles(resource: Resource, config: Config) -> list[str]:
    """No ``*`` principal, no ``*`` action on ``*``, IRSA trust pinned on ``sub`` and ``aud``."""
    out = []
    if resource.type == "aws:iam/role:Role":
        trust = resource.props.get("assumeRolePolicy")
        for i, statement in enumerate(_statements(_document(trust))):
            principal = statement.get("Principal")
            values = principal.values() if isinstance(principal, Mapping) else [principal]
            if any(v == "*" or v == ["*"] for v in values):
                out.append(
                    message(
                        resource,
                        f"assumeRolePolicy.Statement[{i}].Principal",
                        "anyone may assume it",
                        "name the principal",
                    )
                )
            if "sts:AssumeRoleWithWebIdentity" in _as_list(statement.get("Action")):
                conditions = statement.get("Condition") or {}
                equals = conditions.get("StringEquals") if isinstance(conditions, Mapping) else None
                keys = set(equals) if isinstance(equals, Mapping) else set()
                for claim in ("sub", "aud"):
                    if not any(k.endswith(f":{claim}") for k in keys):
                        out.append(
                            message(
                                resource,
                                f"assumeRolePolicy.Statement[{i}].Condition",
                                f"the IRSA trust does not pin '{claim}'",
                                f"add StringEquals on <issuer>:{claim}",
                            )
                        )
    if resource.type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"):
        for i, statement in enumerate(_statements(_document(resource.props.get("policy")))):
            if statement.get("Effect") != "Allow":
                continue
            actions, resources = _as_list(statement.get("Action")), _as_list(statement.get("Resource"))
            if "*" in actions and "*" in resources:
                out.append(
                    message(
                        resource,
                        f"policy.Statement[{i}]",
                        "allows every action on every resource",
                        "list the actions and resources",
                    )
                )
            push = [a for a in actions if isinstance(a, str) and a in ("ecr:PutImage", "ecr:*")]
            if push and "*" in resources:
                out.append(
                    message(
                        resource,
                        f"policy.Statement[{i}].Resource",
                        "may push to every repository",
                        "name the repositories",
                    )
                )
    return out
