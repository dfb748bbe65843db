"""The AWS pure decisions: where images are pulled from, lifecycle and IAM documents."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from flow_platform.aws import CACHEABLE, ImageRef, mirror_repository, mirror_uri, needs_copy
from flow_platform.aws.documents import (
    ecr_push_policy,
    efs_access_point_policy,
    irsa_trust_policy,
    lifecycle_policy,
    pull_through_import_policy,
)
from flow_platform.aws.ecr_mirror import enhanced_scanning_rules
from flow_platform.aws.efs_shared_volume import (
    CREATION_TOKEN_MAX,
    creation_token,
    mount_target_subnets,
    volume_base_name,
)
from flow_platform.aws.image_copy_job import (
    COPY_SCRIPT,
    PRIVATE_RANGES,
    images_file,
    one_shot_job_name,
    registry_egress_peers,
)
from flow_platform.aws.images import cache_prefix, max_prefix_length, scoped_prefix
from flow_platform_stacks.config.aws import check_kms_key_arn, oidc_mismatch

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


def test_copy_job_checks_with_a_manifest_read_and_never_reads_blobs() -> None:
    """#15.4: `skopeo inspect --raw` fetches the manifest only (containers/skopeo
    cmd/skopeo/inspect.go returns on `opts.raw && !opts.config` before reading the config blob):
    ecr:BatchGetImage. A plain inspect reads the config blob (ecr:GetDownloadUrlForLayer)."""
    [push] = [
        s for s in json.loads(ecr_push_policy(["arn:r"]))["Statement"] if s["Sid"] == "PushMirroredImages"
    ]
    assert "ecr:BatchGetImage" in push["Action"]
    assert "ecr:GetDownloadUrlForLayer" not in push["Action"]
    assert "skopeo inspect --raw " in COPY_SCRIPT
    assert "set -e" not in COPY_SCRIPT, "one failed image must not stop the others"


FAKE_SKOPEO = """#!/bin/sh
# records its calls; images named *present* exist, *broken* fail to copy, *denied* fail the check
echo "$*" >> "$CALLS"
case "$1" in
  inspect)
    case "$*" in
      *present*) echo '{"schemaVersion":2}'; exit 0 ;;
      *denied*) echo "unauthorized: not authorized to perform ecr:BatchGetImage" >&2; exit 1 ;;
      *) echo "manifest unknown: Requested image not found" >&2; exit 1 ;;
    esac ;;
  copy)
    case "$*" in *broken*) echo "copy failed" >&2; exit 1 ;; esac
    exit 0 ;;
esac
"""


def _run_copy_script(
    tmp_path: Path, images: list[tuple[str, str]]
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """COPY_SCRIPT under a real POSIX sh, with a stand-in skopeo that records its calls."""
    sh = shutil.which("dash") or shutil.which("sh")
    assert sh is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    skopeo = bin_dir / "skopeo"
    skopeo.write_text(FAKE_SKOPEO)
    skopeo.chmod(0o755)
    (tmp_path / "images").write_text(images_file(images))
    (tmp_path / "password").write_text("token")
    (tmp_path / "script.sh").write_text(COPY_SCRIPT)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(tmp_path / "calls"),
        "IMAGES_FILE": str(tmp_path / "images"),
        "ECR_PASSWORD_FILE": str(tmp_path / "password"),
        "SOURCE_AUTH_FILE": str(tmp_path / "auth.json"),
    }
    result = subprocess.run(
        [sh, str(tmp_path / "script.sh")], env=env, capture_output=True, text=True, timeout=30
    )
    calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
    return result, calls


def test_copy_script_copies_what_is_missing_and_skips_what_is_there(tmp_path: Path) -> None:
    result, calls = _run_copy_script(tmp_path, [("src/a:1", "ecr/a-present:1"), ("src/b:1", "ecr/b:1")])
    assert result.returncode == 0, result.stderr
    copies = [c for c in calls if c.startswith("copy")]
    assert len(copies) == 1 and copies[0].endswith("docker://src/b:1 docker://ecr/b:1")
    assert all(c.startswith("inspect --raw ") for c in calls if c.startswith("inspect"))
    assert "summary: 1 copied, 1 already mirrored, failed: none" in result.stdout


def test_copy_script_goes_on_after_a_failure_and_fails_at_the_end_with_a_summary(tmp_path: Path) -> None:
    """#15.4: a failing image (or one whose check is refused) no longer stops the loop."""
    result, calls = _run_copy_script(
        tmp_path,
        [("src/a:1", "ecr/a-broken:1"), ("src/b:1", "ecr/b-denied:1"), ("src/c:1", "ecr/c:1")],
    )
    assert result.returncode != 0
    copied = [c.split()[-1] for c in calls if c.startswith("copy")]
    # the refused check is not followed by a push onto a possibly existing IMMUTABLE tag
    assert copied == ["docker://ecr/a-broken:1", "docker://ecr/c:1"]
    assert "summary: 1 copied, 0 already mirrored, failed: ecr/a-broken:1 ecr/b-denied:1" in result.stdout


def test_one_shot_job_is_named_after_the_image_list() -> None:
    """#15.3: a tag bump is a new Job (which runs before the workloads); the same list is the same Job."""
    before = [("registry.partek.com/rtw:1", "ecr/partek-flow:1")]
    after = [("registry.partek.com/rtw:2", "ecr/partek-flow:2")]
    name = one_shot_job_name(before, "skopeo:1")
    assert name == one_shot_job_name(list(before), "skopeo:1")
    assert name != one_shot_job_name(after, "skopeo:1")
    assert name != one_shot_job_name(before, "skopeo:2")
    assert name.startswith("image-copy-") and len(name) <= 63


def test_copy_job_egress_admits_the_configured_endpoint_cidrs() -> None:
    """#15.13: interface endpoints live in RFC 1918 space, which the public rule excludes."""
    public, endpoint = registry_egress_peers(["10.40.200.0/24"])
    assert public == {"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}
    assert endpoint == {"ipBlock": {"cidr": "10.40.200.0/24"}}
    assert registry_egress_peers([]) == [public]
    with pytest.raises(ValueError):
        registry_egress_peers(["0.0.0.0/0"])


def test_efs_policy_allows_mounts_only_through_the_access_point_and_requires_tls() -> None:
    """#15.1: with any policy attached EFS's default allow is gone
    (https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html): a deny-only
    policy refuses every mount."""
    fs = "arn:aws:elasticfilesystem:us-west-2:1:file-system/fs-1"
    ap = "arn:aws:elasticfilesystem:us-west-2:1:access-point/fsap-1"
    deny, allow = json.loads(efs_access_point_policy(fs, ap))["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert allow["Effect"] == "Allow"
    assert allow["Resource"] == fs
    assert sorted(allow["Action"]) == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    assert allow["Condition"] == {
        "Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"},
        "StringEquals": {"elasticfilesystem:AccessPointArn": ap},
    }


def test_node_roles_are_granted_the_pull_through_first_pull_and_nothing_else() -> None:
    """#15.5: https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html"""
    roles = ["arn:aws:iam::1:role/b", "arn:aws:iam::1:role/a"]
    [statement] = json.loads(pull_through_import_policy(roles))["Statement"]
    assert statement["Action"] == ["ecr:BatchImportUpstreamImage"]
    assert statement["Principal"] == {"AWS": sorted(roles)}
    assert "Condition" not in statement
    with pytest.raises(ValueError):
        pull_through_import_policy([])


@pytest.mark.parametrize(
    ("arn", "ok"),
    [
        ("arn:aws:kms:us-west-2:222222222222:key/5e2f9a1c-7b3d-4c8e-a6f1-2d9b8c7e6a5f", True),
        ("arn:aws:kms:us-west-2:222222222222:key/mrk-0123456789abcdef0123456789abcdef", True),
        ("arn:aws:kms:us-west-2:222222222222:alias/flow-platform-uat", False),
        ("alias/flow", False),
    ],
)
def test_kms_keys_are_key_arns_never_aliases(arn: str, ok: bool) -> None:
    """#15.6: EFS kmsKeyId and ECR kmsKey are create-only and AWS reads back the key ARN."""
    if ok:
        assert check_kms_key_arn(arn) == arn
        return
    with pytest.raises(ValueError) as info:
        check_kms_key_arn(arn)
    if ":alias/" in arn:
        assert "aws kms describe-key --key-id" in str(info.value)


def test_one_mount_target_per_availability_zone() -> None:
    """#15.14: two subnets in one AZ get one mount target (the lowest id: a stable choice)."""
    zones = {"subnet-3": "us-west-2a", "subnet-1": "us-west-2a", "subnet-2": "us-west-2b"}
    assert mount_target_subnets(zones) == ["subnet-1", "subnet-2"]
    assert mount_target_subnets({}) == []


def test_pull_through_prefixes_stay_within_what_aws_accepts() -> None:
    """#15.17: ecrRepositoryPrefix is 2-30 characters (terraform-provider-aws
    pull_through_cache_rule.go, StringLenBetween(2, 30))."""
    longest = max(CACHEABLE.values(), key=lambda u: len(u.key))
    ok = "a" * max_prefix_length()
    assert len(cache_prefix(ok, longest)) == 30
    with pytest.raises(ValueError, match="2-30"):
        cache_prefix(ok + "b", longest)
    with pytest.raises(ValueError):
        cache_prefix("Flow", longest)


def test_mirror_prefix_is_scoped_per_env_unless_given() -> None:
    """#15.17: dev and tst in one account never share repository names by default."""
    assert scoped_prefix(None, "dev") != scoped_prefix(None, "tst")
    assert scoped_prefix(None, "tst") == "flow-platform-tst"
    assert scoped_prefix("flow-platform", "tst") == "flow-platform"


def test_efs_names_are_unique_per_namespace_and_fit_the_token_limit() -> None:
    """#10: two volumes with one claim name in two namespaces must not share a creation token
    (unique per account and region: API_CreateFileSystem) or a security group name."""
    a = volume_base_name("prd", "partek-a", "home")
    b = volume_base_name("prd", "partek-b", "home")
    assert a != b and creation_token(a) != creation_token(b)
    long_a = volume_base_name("prd", "n" * 63, "claim-a")
    long_b = volume_base_name("prd", "n" * 63, "claim-b")
    assert len(creation_token(long_a)) <= CREATION_TOKEN_MAX
    assert creation_token(long_a) != creation_token(long_b)
    assert creation_token(a) == a


def test_oidc_provider_arn_and_issuer_must_name_one_cluster() -> None:
    arn = "arn:aws:iam::1:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"
    assert oidc_mismatch(arn, "https://oidc.eks.us-west-2.amazonaws.com/id/ABC") is None
    assert oidc_mismatch(arn, "https://oidc.eks.us-west-2.amazonaws.com/id/XYZ") is not None


def test_enhanced_scanning_covers_every_prefix_continuously() -> None:
    [rule] = enhanced_scanning_rules(["flow-platform-tst", "flow-platform"], "CONTINUOUS_SCAN")
    assert rule["scan_frequency"] == "CONTINUOUS_SCAN"
    assert rule["repository_filters"] == [
        {"filter": "flow-platform*", "filter_type": "WILDCARD"},
        {"filter": "flow-platform-tst*", "filter_type": "WILDCARD"},
    ]
    with pytest.raises(ValueError):
        enhanced_scanning_rules(["x"], "DAILY")
