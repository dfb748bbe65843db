"""The AWS pure decisions: where images are pulled from, lifecycle and IAM documents."""

import json

import pytest
from flow_platform.aws import ImageRef, mirror_repository, mirror_uri, needs_copy
from flow_platform.aws.documents import (
    ecr_push_policy,
    efs_tls_only_policy,
    irsa_trust_policy,
    lifecycle_policy,
)

ECR = "123456789012.dkr.ecr.us-west-2.amazonaws.com"


@pytest.mark.parametrize(
    ("ref", "registry", "path", "tag"),
    [
        ("registry.partek.com/rtw:23.0809.22", "registry.partek.com", "rtw", "23.0809.22"),
        (
            "public.ecr.aws/partek-flow/kube-flexlm-server:11.19.1",
            "public.ecr.aws",
            "partek-flow/kube-flexlm-server",
            "11.19.1",
        ),
        ("flink:1.20", "docker.io", "library/flink", "1.20"),
        ("hyperflowwms/hyperflow:v1.6.0", "docker.io", "hyperflowwms/hyperflow", "v1.6.0"),
        ("localhost:5000/team/app:1", "localhost:5000", "team/app", "1"),
    ],
)
def test_image_references_parse(ref: str, registry: str, path: str, tag: str) -> None:
    assert ImageRef.parse(ref) == ImageRef(registry, path, tag, None)


@pytest.mark.parametrize(
    ("ref", "uri"),
    [
        # ECR can cache these: pulled through the cache rule's prefix
        (
            "public.ecr.aws/partek-flow/kube-flexlm-server:11.19.1",
            f"{ECR}/flow-platform-ecr-public/partek-flow/kube-flexlm-server:11.19.1",
        ),
        ("flink:1.20", f"{ECR}/flow-platform-docker-hub/library/flink:1.20"),
        ("quay.io/skopeo/stable:v1.16.1", f"{ECR}/flow-platform-quay/skopeo/stable:v1.16.1"),
        # Partek's registry cannot be cached: the copy job pushes it under the logical name
        ("registry.partek.com/rtw:23.0809.22", f"{ECR}/flow-platform/partek-flow:23.0809.22"),
    ],
)
def test_mirror_uri_per_upstream(ref: str, uri: str) -> None:
    assert mirror_uri("123456789012", "us-west-2", "flow-platform", "partek-flow", ref) == uri


def test_only_uncacheable_registries_need_the_copy_job() -> None:
    assert needs_copy("registry.partek.com/rtw:1")
    assert not needs_copy("public.ecr.aws/a/b:1")
    assert not needs_copy("ghcr.io/a/b:1")
    assert mirror_repository("p", "x", "ghcr.io/org/img:1") == "p-ghcr/org/img"


def test_lifecycle_policy_expires_untagged_and_keeps_the_last_n_tagged() -> None:
    policy = json.loads(lifecycle_policy(keep_tagged=20, untagged_days=7))
    untagged, tagged = policy["rules"]
    assert untagged["selection"] == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 7,
    }
    assert tagged["selection"]["tagStatus"] == "tagged"
    assert tagged["selection"]["countType"] == "imageCountMoreThan"
    assert tagged["selection"]["countNumber"] == 20
    assert tagged["selection"]["tagPatternList"] == ["*"], "tagged rules need a tag pattern"
    assert [r["rulePriority"] for r in policy["rules"]] == [1, 2]
    with pytest.raises(ValueError):
        lifecycle_policy(0, 7)


def test_irsa_trust_is_pinned_to_one_service_account() -> None:
    trust = json.loads(
        irsa_trust_policy(
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC",
            "https://oidc.eks.us-west-2.amazonaws.com/id/ABC",
            "image-mirror-prd",
            "image-copy",
        )
    )
    [statement] = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {
        "Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"
    }
    assert statement["Condition"]["StringEquals"] == {
        "oidc.eks.us-west-2.amazonaws.com/id/ABC:sub": "system:serviceaccount:image-mirror-prd:image-copy",
        "oidc.eks.us-west-2.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
    }


def test_push_policy_names_the_repositories_and_only_login_is_on_star() -> None:
    arns = ["arn:aws:ecr:us-west-2:123456789012:repository/flow-platform/partek-flow"]
    statements = json.loads(ecr_push_policy(arns))["Statement"]
    star = [s for s in statements if s["Resource"] == "*"]
    assert [s["Action"] for s in star] == ["ecr:GetAuthorizationToken"]
    [push] = [s for s in statements if s["Resource"] != "*"]
    assert push["Resource"] == arns
    assert "ecr:PutImage" in push["Action"]
    assert not any(a.endswith("*") for a in push["Action"])
    with pytest.raises(ValueError):
        ecr_push_policy([])


def test_efs_policy_denies_clients_without_tls() -> None:
    [statement] = json.loads(efs_tls_only_policy("arn:aws:elasticfilesystem:us-west-2:1:file-system/fs-1"))[
        "Statement"
    ]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
