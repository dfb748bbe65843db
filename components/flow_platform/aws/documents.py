"""AWS policy documents as plain data: ECR lifecycle, IAM trust and permissions, EFS policy."""

import json

ECR_PUSH_ACTIONS = (
    # docker/skopeo push: https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html
    "ecr:BatchCheckLayerAvailability",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
ECR_MANIFEST_READ_ACTIONS = (
    # GET /v2/<repo>/manifests/<tag>: what `skopeo inspect --raw` does, and nothing more (it returns
    # before reading the config blob: containers/skopeo cmd/skopeo/inspect.go, `opts.raw && !opts.config`).
    # Reading blobs would need ecr:GetDownloadUrlForLayer, deliberately not granted.
    "ecr:BatchGetImage",
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
                    "Action": sorted([*ECR_PUSH_ACTIONS, *ECR_MANIFEST_READ_ACTIONS]),
                    "Resource": sorted(repository_arns),
                },
            ],
        },
        sort_keys=True,
    )


def efs_access_point_policy(file_system_arn: str, access_point_arn: str) -> str:
    """TLS only, and mounts only through a mount target and this access point.

    Once a file system has a policy, EFS's default (allow every client that can reach a mount
    target) no longer applies, so a deny-only policy refuses every mount. The allow names
    ``ClientMount`` and ``ClientWrite`` and not ``ClientRootAccess``: the access point maps every
    client to one POSIX user anyway, and root on a node must not bypass it. Clients mounting
    without IAM authorization are anonymous, hence the ``*`` principal, confined by the conditions.
    https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html (default policy),
    https://docs.aws.amazon.com/efs/latest/ug/access-points-iam-policy.html (AccessPointArn).
    """
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
                },
                {
                    "Sid": "MountThroughTheAccessPoint",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                    "Resource": file_system_arn,
                    "Condition": {
                        "Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"},
                        "StringEquals": {"elasticfilesystem:AccessPointArn": access_point_arn},
                    },
                },
            ],
        },
        sort_keys=True,
    )


def pull_through_import_policy(principal_arns: list[str]) -> str:
    """Let the node roles fill a pull-through cache repository on first pull.

    The first pull of a cached image calls ``ecr:BatchImportUpstreamImage``, which the standard
    node policy (AmazonEC2ContainerRegistryReadOnly) lacks. It can be granted in a repository
    policy (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html);
    a repository policy belongs to one stack, where the registry policy is one document per
    account and region that two stacks would overwrite. The roles are named: a same-account
    role named in a resource policy needs nothing more, while the account root (or ``*``)
    would delegate to the roles' own policies, or open the repository.
    """
    if not principal_arns:
        raise ValueError("name the roles that pull (the node roles)")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ImportUpstreamImageOnFirstPull",
                    "Effect": "Allow",
                    "Principal": {"AWS": sorted(principal_arns)},
                    "Action": ["ecr:BatchImportUpstreamImage"],
                }
            ],
        },
        sort_keys=True,
    )


def service_trust_policy(service: str) -> str:
    """A role only ``service`` (e.g. ``backup.amazonaws.com``) can assume."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        },
        sort_keys=True,
    )
