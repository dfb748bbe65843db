"""AWS policy documents as plain data: ECR lifecycle, IAM trust and permissions, EFS policy."""

import json

ECR_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)


def lifecycle_policy(keep_tagged: int, untagged_days: int) -> str:
    """Expire untagged images after ``untagged_days``; keep the newest ``keep_tagged`` tagged ones."""
    if keep_tagged < 1 or untagged_days < 1:
        raise ValueError("keep at least one tagged image and expire untagged images after at least a day")
    rules = [
        {
            "rulePriority": 1,
            "description": f"expire untagged images after {untagged_days} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": untagged_days,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"keep the last {keep_tagged} tagged images",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["*"],
                "countType": "imageCountMoreThan",
                "countNumber": keep_tagged,
            },
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules}, sort_keys=True)


def irsa_trust_policy(oidc_provider_arn: str, oidc_issuer: str, namespace: str, service_account: str) -> str:
    """A role only one Kubernetes service account can assume (``sub`` and ``aud`` pinned)."""
    issuer = oidc_issuer.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc_provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def ecr_push_policy(repository_arns: list[str]) -> str:
    """Push to exactly these repositories; the login token action is the only one on ``*``
    (``ecr:GetAuthorizationToken`` has no resource-level permissions)."""
    if not repository_arns:
        raise ValueError("a push policy needs at least one repository")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {
                    "Sid": "PushMirroredImages",
                    "Effect": "Allow",
                    "Action": list(ECR_PUSH_ACTIONS),
                    "Resource": sorted(repository_arns),
                },
            ],
        },
        sort_keys=True,
    )


def efs_tls_only_policy(file_system_arn: str) -> str:
    """Refuse any EFS client that does not use TLS in transit."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyUnencryptedTransport",
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": "*",
                    "Resource": file_system_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )
