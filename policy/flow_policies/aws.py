"""Rules on the AWS resources: EFS encryption, ECR hygiene, IAM scope."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .core import UNKNOWN, Resource, allowed, items, message

Config = Mapping[str, Any]


def _document(value: Any) -> Any:
    if value is UNKNOWN:
        return None
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
    return value if isinstance(value, list) else [] if value is None else [value]


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
        if scan is UNKNOWN or (isinstance(scan, Mapping) and scan.get("scanOnPush") is UNKNOWN):
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


READ_PREFIXES = (
    "Get", "List", "Describe", "BatchGet", "BatchCheck", "View", "Search", "Lookup", "Query", "Scan", "Head",
    "Select",
)  # fmt: skip
POLICY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)


def _writes(action: Any) -> bool:
    """Whether an action (or action pattern) can write: anything not clearly a read."""
    if not isinstance(action, str):
        return False
    operation = action.split(":", 1)[-1]
    return "*" in operation or not operation.startswith(READ_PREFIXES)


def _admin_like(action: Any) -> bool:
    return action in ("*", "iam:*", "sts:*", "*:*") or (isinstance(action, str) and action.lower() == "iam:*")


def _policy_documents(resource: Resource) -> list[tuple[str, Any]]:
    if resource.type in POLICY_TYPES:
        return [("policy", resource.props.get("policy"))]
    if resource.type == "aws:iam/role:Role":
        return [
            (f"inlinePolicies[{i}].policy", p.get("policy"))
            for i, p in enumerate(items(resource.props.get("inlinePolicies")))
            if isinstance(p, Mapping)
        ]
    return []


def iam_roles(resource: Resource, config: Config) -> list[str]:
    """Trust: no ``*`` principal, no federated or cross-account trust without conditions (IRSA pinned
    on ``sub`` and ``aud``). Permissions: no admin-like actions (``*``, ``iam:*``, Allow with
    NotAction), no ``*`` resource for an action that writes."""
    out = []
    if resource.type == "aws:iam/role:Role":
        trust = resource.props.get("assumeRolePolicy")
        for i, statement in enumerate(_statements(_document(trust))):
            if statement.get("Effect") != "Allow":
                continue
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
            conditions = statement.get("Condition")
            kinds = set(principal) if isinstance(principal, Mapping) else set()
            if kinds & {"Federated", "AWS"} and not (isinstance(conditions, Mapping) and conditions):
                out.append(
                    message(
                        resource,
                        f"assumeRolePolicy.Statement[{i}].Condition",
                        f"a {'/'.join(sorted(kinds & {'Federated', 'AWS'}))} principal may assume it"
                        " without conditions",
                        "add conditions (IRSA: StringEquals on <issuer>:sub and :aud; other accounts:"
                        " sts:ExternalId or aws:PrincipalArn)",
                    )
                )
            elif "sts:AssumeRoleWithWebIdentity" in _as_list(statement.get("Action")):
                equals = conditions.get("StringEquals") if isinstance(conditions, Mapping) else None
                keys = {k for k in equals if isinstance(k, str)} if isinstance(equals, Mapping) else set()
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
    for where, document in _policy_documents(resource):
        for i, statement in enumerate(_statements(_document(document))):
            if statement.get("Effect") != "Allow":
                continue
            actions, resources = _as_list(statement.get("Action")), _as_list(statement.get("Resource"))
            here = f"{where}.Statement[{i}]"
            if statement.get("NotAction") is not None:
                out.append(
                    message(
                        resource,
                        f"{here}.NotAction",
                        "allows everything but a list (admin-like)",
                        "list the actions allowed",
                    )
                )
            admin = [a for a in actions if _admin_like(a)]
            if admin:
                out.append(
                    message(
                        resource,
                        f"{here}.Action",
                        f"grants {', '.join(map(str, admin))} (admin-like)",
                        "list the actions and resources",
                    )
                )
            writes = [a for a in actions if _writes(a) and not _admin_like(a)]
            if writes and ("*" in resources or statement.get("NotResource") is not None):
                out.append(
                    message(
                        resource,
                        f"{here}.Resource",
                        f"{', '.join(map(str, writes))} on every resource",
                        "name the resources (ARNs) the actions may change",
                    )
                )
    return out


S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_PARTS = {
    "encryption": (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    ),
    "public-access-block": ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",),
    "policy": ("aws:s3/bucketPolicy:BucketPolicy",),
    "versioning": (
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketVersioningV2:BucketVersioningV2",
    ),
}
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _refers_to(part: Resource, bucket: Resource) -> bool:
    """A bucket's configuration resource names it in ``bucket`` (by output dependency or by name)."""
    if bucket.urn and bucket.urn in part.dependencies.get("bucket", ()):
        return True
    name = bucket.props.get("bucket")
    return isinstance(name, str) and part.props.get("bucket") == name


def _tls_only(policy: Any) -> bool | None:
    document = _document(policy)
    if document is None:
        return None if policy is UNKNOWN else False
    for statement in _statements(document):
        condition = statement.get("Condition")
        bool_ = condition.get("Bool") if isinstance(condition, Mapping) else None
        secure = bool_.get("aws:SecureTransport") if isinstance(bool_, Mapping) else None
        if statement.get("Effect") == "Deny" and str(secure).lower() == "false":
            return True
    return False


def s3_buckets(resources: Sequence[Resource], config: Config) -> list[tuple[str, str]]:
    """Every bucket: encryption at rest (a customer KMS key where required), all four public access
    blocks, a bucket policy denying requests without TLS, and versioning unless excepted."""
    out: list[tuple[str, str]] = []
    parts = {key: [r for r in resources if r.type in types] for key, types in S3_PARTS.items()}
    for bucket in (r for r in resources if r.type in S3_BUCKETS):
        mine = {key: [p for p in found if _refers_to(p, bucket)] for key, found in parts.items()}
        # an unknown bucket reference (preview) may be this bucket: never fail on what cannot be seen
        unsure = {
            key: any(p.props.get("bucket") is UNKNOWN and not p.dependencies for p in found)
            for key, found in parts.items()
        }
        name = bucket.props.get("bucket")
        label = f"S3 bucket {name if isinstance(name, str) else bucket.name}"

        def report(path: str, problem: str, fix: str, urn: str = bucket.urn, label: str = label) -> None:
            out.append((urn, f"{label}: {path}: {problem}; fix: {fix}"))

        inline_sse = bucket.props.get("serverSideEncryptionConfiguration")
        rules = [r for p in mine["encryption"] for r in items(p.props.get("rules"))]
        algorithms = [
            (r.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
            for r in rules
            if isinstance(r, Mapping)
        ]
        if isinstance(inline_sse, Mapping):
            rule = inline_sse.get("rule")
            algorithms.append(
                ((rule or {}).get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
                if isinstance(rule, Mapping)
                else None
            )
        if not algorithms and not unsure["encryption"] and inline_sse is not UNKNOWN:
            report(
                "encryption",
                "no server-side encryption configuration",
                "add a BucketServerSideEncryptionConfiguration (aws:kms)",
            )
        elif (
            config.get("requireKms") is True
            and algorithms
            and not any(a in ("aws:kms", "aws:kms:dsse", UNKNOWN) for a in algorithms)
        ):
            report(
                "encryption",
                f"encrypted with {algorithms[0]!r}",
                "use sseAlgorithm aws:kms with a customer key",
            )
        blocks = mine["public-access-block"]
        if not blocks and not unsure["public-access-block"]:
            report(
                "public access block",
                "no BucketPublicAccessBlock",
                f"add one with {', '.join(PUBLIC_ACCESS_FLAGS)} true",
            )
        for block in blocks:
            off = [
                f
                for f in PUBLIC_ACCESS_FLAGS
                if block.props.get(f) is not True and block.props.get(f) is not UNKNOWN
            ]
            if off:
                report("public access block", f"{', '.join(off)} not true", "set all four flags to true")
        policies = [_tls_only(p.props.get("policy")) for p in mine["policy"]]
        if bucket.props.get("policy") is not None:
            policies.append(_tls_only(bucket.props.get("policy")))
        if not any(p is not False for p in policies) and not unsure["policy"]:
            report(
                "bucket policy",
                "requests without TLS are not denied",
                "add a Deny statement on aws:SecureTransport false",
            )
        versioning = [dig_status(p.props.get("versioningConfiguration")) for p in mine["versioning"]]
        inline = bucket.props.get("versioning")
        if isinstance(inline, Mapping):
            versioning.append(
                "Enabled"
                if inline.get("enabled") is True
                else UNKNOWN
                if inline.get("enabled") is UNKNOWN
                else "Disabled"
            )
        unversioned = not any(v in ("Enabled", UNKNOWN) for v in versioning) and not unsure["versioning"]
        if unversioned and not allowed(bucket, config, "unversioned"):
            report(
                "versioning",
                "versioning is not enabled",
                "add a BucketVersioning with status Enabled, or an 'unversioned' exception",
            )
    return out


def dig_status(value: Any) -> Any:
    return value.get("status") if isinstance(value, Mapping) else value
