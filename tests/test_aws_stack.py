"""The AWS foundations as each env stack registers them: EFS, the ECR mirror, IAM, image sources."""

import json
from typing import Any

import pytest
from conftest import ENVS, Stack, raw_stack_yaml, run_config
from flow_platform_stacks.harness import FlowMocks, RecordingMonitor

ACCOUNTS = {"dev": "111111111111", "tst": "111111111111", "uat": "222222222222", "prd": "333333333333"}


def _aws(stack: Stack, type_suffix: str, owner: str = "") -> list[Any]:
    """Registrations of a type; ``owner`` keeps those of one component (e.g. ``partek-home``)."""
    return [r for r in stack.registrations if r.type.endswith(type_suffix) and r.name.startswith(owner)]


HOME = "partek-home"


# --- EFS ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "kms"),
    [
        ("dev", None),
        ("tst", None),
        ("uat", "arn:aws:kms:us-west-2:222222222222:alias/flow-platform-uat"),
        ("prd", "arn:aws:kms:us-west-2:333333333333:key/0b7c2a1e-4d5f-4a6b-9c8d-7e6f5a4b3c2d"),
    ],
)
def test_file_system_is_encrypted_with_the_configured_key(stack: Any, env: str, kms: str | None) -> None:
    [fs] = _aws(stack(env), "efs/fileSystem:FileSystem", HOME)
    assert fs.inputs["encrypted"] is True
    assert fs.inputs.get("kmsKeyId") == kms
    assert fs.inputs["creationToken"] == f"flow-platform-{env}-partek-partek-flow-home"
    assert fs.inputs["tags"]["env"] == env and fs.inputs["tags"]["system"] == "partek"


def test_throughput_lifecycle_and_backups_come_from_config(stack: Any) -> None:
    prd = stack("prd")
    [fs] = _aws(prd, "efs/fileSystem:FileSystem", HOME)
    assert fs.inputs["throughputMode"] == "provisioned"
    assert fs.inputs["provisionedThroughputInMibps"] == 256
    assert fs.inputs["lifecyclePolicies"][0] == {"transitionToIa": "AFTER_60_DAYS"}
    [backup] = _aws(prd, "efs/backupPolicy:BackupPolicy", HOME)
    assert backup.inputs["backupPolicy"] == {"status": "ENABLED"}
    [policy] = _aws(prd, "efs/fileSystemPolicy:FileSystemPolicy", HOME)
    assert json.loads(policy.inputs["policy"])["Statement"][0]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }


def test_security_group_admits_exactly_nfs_from_the_node_group(env_stack: Stack) -> None:
    facts = raw_stack_yaml(env_stack.name)["config"]["flow-platform:aws"]["cluster"]
    [group] = _aws(env_stack, "ec2/securityGroup:SecurityGroup", HOME)
    assert "ingress" not in group.inputs and "egress" not in group.inputs, "no inline rules"
    assert group.inputs["vpcId"] == facts["vpcId"]
    rules = _aws(env_stack, "SecurityGroupIngressRule", HOME)
    assert len(rules) == 1
    [rule] = rules
    assert rule.inputs["referencedSecurityGroupId"] == facts["nodeSecurityGroupId"]
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 2049, 2049)
    assert "cidrIpv4" not in rule.inputs
    assert not _aws(env_stack, "SecurityGroupEgressRule")


def test_one_mount_target_per_private_subnet(env_stack: Stack) -> None:
    subnets = raw_stack_yaml(env_stack.name)["config"]["flow-platform:aws"]["cluster"]["privateSubnetIds"]
    targets = _aws(env_stack, "efs/mountTarget:MountTarget", HOME)
    assert sorted(t.inputs["subnetId"] for t in targets) == sorted(subnets)
    group = _aws(env_stack, "ec2/securityGroup:SecurityGroup", HOME)[0]
    assert all(t.inputs["securityGroups"] == [f"<computed:{group.name}.id>"] for t in targets)


def test_access_point_maps_everyone_to_1000_and_owns_its_root(env_stack: Stack) -> None:
    [ap] = _aws(env_stack, "efs/accessPoint:AccessPoint", HOME)
    assert ap.inputs["posixUser"] == {"uid": 1000, "gid": 1000}
    root = ap.inputs["rootDirectory"]
    assert root["path"] == "/partek/partek-flow-home"
    assert root["creationInfo"] == {"ownerUid": 1000, "ownerGid": 1000, "permissions": "0770"}


def test_persistent_volume_is_efs_csi_with_tls_and_retained(env_stack: Stack) -> None:
    ns = {"dev": "partek-dev", "tst": "partek-tst", "uat": "partek-flow-uat", "prd": "partek-flow-prd"}[
        env_stack.name
    ]
    pv = env_stack.one("PersistentVolume", f"{ns}-partek-flow-home")["spec"]
    assert pv["csi"] == {
        "driver": "efs.csi.aws.com",
        "volumeHandle": "<computed:partek-home-fs.id>::<computed:partek-home-ap.id>",
    }
    assert pv["mountOptions"] == ["tls"]
    assert pv["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["accessModes"] == ["ReadWriteMany"]
    assert pv["claimRef"] == {"namespace": ns, "name": "partek-flow-home"}


@pytest.mark.parametrize("env", ENVS)
def test_stateful_aws_resources_are_protected_in_prd_and_uat_only(stack: Any, env: str) -> None:
    protect = env in ("uat", "prd")
    rendered = stack(env)
    stateful = [
        *_aws(rendered, "efs/fileSystem:FileSystem"),
        *_aws(rendered, "efs/accessPoint:AccessPoint"),
        *_aws(rendered, "ecr/repository:Repository"),
    ]
    assert stateful
    for reg in stateful:
        assert reg.options["protect"] is protect, reg.urn
        assert reg.options["retain_on_delete"] is True, reg.urn


# --- ECR ----------------------------------------------------------------------------------------


def test_dev_has_no_mirror_and_pulls_upstream(stack: Any) -> None:
    dev = stack("dev")
    assert not _aws(dev, "ecr/repository:Repository")
    for deployment in dev.objects("Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert ".dkr.ecr." not in container["image"]


@pytest.mark.parametrize("env", ["tst", "uat", "prd"])
def test_every_workload_image_points_at_the_mirror(stack: Any, env: str) -> None:
    registry = f"{ACCOUNTS[env]}.dkr.ecr.us-west-2.amazonaws.com/"
    rendered = stack(env)
    pods = [d["spec"]["template"]["spec"] for d in rendered.objects("Deployment")]
    pods += [c["spec"]["jobTemplate"]["spec"]["template"]["spec"] for c in rendered.objects("CronJob")]
    images = [c["image"] for pod in pods for c in [*pod.get("initContainers", []), *pod["containers"]]]
    assert images
    assert all(image.startswith(registry) for image in images), images


def test_repositories_are_immutable_scanned_encrypted_and_private(stack: Any) -> None:
    prd = stack("prd")
    repos = {r.inputs["name"]: r.inputs for r in _aws(prd, "ecr/repository:Repository")}
    assert sorted(repos) == [
        "flow-platform-docker-hub/apache/flink-kubernetes-operator",
        "flow-platform-docker-hub/hyperflowwms/hyperflow",
        "flow-platform-docker-hub/hyperflowwms/montage-worker",
        "flow-platform-docker-hub/library/flink",
        "flow-platform-docker-hub/library/redis",
        "flow-platform-ecr-public/aws-cli/aws-cli",
        "flow-platform-ecr-public/partek-flow/kube-flexlm-server",
        "flow-platform-quay/skopeo/stable",
        "flow-platform/partek-flow",
    ]
    for inputs in repos.values():
        assert inputs["imageTagMutability"] == "IMMUTABLE"
        assert inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"
        assert inputs["forceDelete"] is False
    assert not _aws(prd, "ecr/repositoryPolicy:RepositoryPolicy"), "no repository policy: nothing public"
    tst = {r.inputs["name"]: r.inputs for r in _aws(stack("tst"), "ecr/repository:Repository")}
    assert tst["flow-platform/partek-flow"]["encryptionConfigurations"] == [{"encryptionType": "AES256"}]


def test_lifecycle_policies_follow_the_env_retention(stack: Any) -> None:
    for env, keep, days in (("tst", 10, 3), ("prd", 50, 14)):
        for reg in _aws(stack(env), "ecr/lifecyclePolicy:LifecyclePolicy"):
            rules = json.loads(reg.inputs["policy"])["rules"]
            assert rules[0]["selection"]["countNumber"] == days
            assert rules[1]["selection"]["countNumber"] == keep


def test_pull_through_cache_rules_only_for_the_upstreams_in_use(stack: Any) -> None:
    rules = {r.inputs["ecrRepositoryPrefix"]: r.inputs for r in _aws(stack("prd"), "PullThroughCacheRule")}
    assert rules.pop("flow-platform-docker-hub") == {
        "ecrRepositoryPrefix": "flow-platform-docker-hub",
        "upstreamRegistryUrl": "registry-1.docker.io",
        "credentialArn": "arn:aws:secretsmanager:us-west-2:333333333333"
        ":secret:ecr-pullthroughcache/docker-hub",
    }
    assert rules == {
        "flow-platform-ecr-public": {
            "ecrRepositoryPrefix": "flow-platform-ecr-public",
            "upstreamRegistryUrl": "public.ecr.aws",
        },
        "flow-platform-quay": {"ecrRepositoryPrefix": "flow-platform-quay", "upstreamRegistryUrl": "quay.io"},
    }


def test_copy_job_role_may_push_only_to_the_copied_repository(stack: Any) -> None:
    prd = stack("prd")
    [role] = _aws(prd, "iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert sorted(trust.values()) == [
        "sts.amazonaws.com",
        "system:serviceaccount:image-mirror-prd:image-copy",
    ]
    [policy] = _aws(prd, "iam/rolePolicy:RolePolicy")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    push = next(s for s in statements if s["Sid"] == "PushMirroredImages")
    assert push["Resource"] == ["<computed:mirror-partek-flow.arn>"]
    assert [s["Action"] for s in statements if s["Resource"] == "*"] == ["ecr:GetAuthorizationToken"]


def test_copy_cronjob_runs_non_root_with_its_irsa_service_account(stack: Any) -> None:
    prd = stack("prd")
    ns = "image-mirror-prd"
    account = prd.one("ServiceAccount", "image-copy", ns)
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "<computed:mirror-copy-role.arn>"
    }
    cron = prd.one("CronJob", "image-copy", ns)["spec"]
    assert cron["schedule"] == "17 2 * * *"
    assert cron["concurrencyPolicy"] == "Forbid"
    pod = cron["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "image-copy"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 65532
    for container in [*pod["initContainers"], *pod["containers"]]:
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert cron["jobTemplate"]["spec"]["ttlSecondsAfterFinished"] > 0
    config = prd.one("ConfigMap", "image-copy", ns)["data"]["images"]
    assert config == (
        "registry.partek.com/rtw:23.0809.22 "
        "333333333333.dkr.ecr.us-west-2.amazonaws.com/flow-platform/partek-flow:23.0809.22\n"
    )
    secret = prd.one("Secret", "source-registry-auth", ns)
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    # the secret's value is hidden; its placeholder is a valid, empty docker config (issue #12)
    assert secret["stringData"] == {".dockerconfigjson": '{"auths":{}}'}


def test_aws_provider_is_pinned_to_the_account(env_stack: Stack) -> None:
    [provider] = env_stack.of_type("pulumi:providers:aws")
    assert provider.inputs["region"] == "us-west-2"
    assert json.loads(provider.inputs["allowedAccountIds"]) == [ACCOUNTS[env_stack.name]]
    for reg in env_stack.registrations:
        if reg.custom and reg.type.startswith("aws:"):
            assert reg.provider == provider.urn


# --- cluster stack reference --------------------------------------------------------------------


def _with_cluster_stack(outputs: dict[str, Any]) -> tuple[dict[str, Any], RecordingMonitor]:
    config = raw_stack_yaml("tst")["config"]
    aws = config["flow-platform:aws"]
    facts = aws.pop("cluster")
    aws["clusterStack"] = {"name": "acme/eks/tst", "outputs": {"privateSubnetIds": "privateSubnets"}}
    all_outputs = {
        "vpcId": facts["vpcId"],
        "privateSubnets": facts["privateSubnetIds"],
        "nodeSecurityGroupId": facts["nodeSecurityGroupId"],
        "oidcProviderArn": facts["oidcProviderArn"],
        "oidcProviderUrl": facts["oidcProviderUrl"],
    }
    all_outputs.update(outputs)
    all_outputs = {k: v for k, v in all_outputs.items() if v is not None}
    return config, RecordingMonitor(FlowMocks({"acme/eks/tst": all_outputs}))


def test_cluster_facts_can_come_from_the_cluster_stack() -> None:
    config, monitor = _with_cluster_stack({})
    registrations = run_config("tst", config, monitor=monitor)
    targets = [r for r in registrations if r.type.endswith("MountTarget") and r.name.startswith(HOME)]
    assert sorted(t.inputs["subnetId"] for t in targets) == [
        "subnet-0b1c2d3e4f5a60722",
        "subnet-0b1c2d3e4f5a60723",
    ]


def test_a_cluster_stack_without_a_needed_output_is_a_config_error() -> None:
    from flow_platform_stacks.errors import ConfigError

    config, monitor = _with_cluster_stack({"privateSubnets": None, "vpcId": None})
    with pytest.raises(ConfigError) as info:
        run_config("tst", config, monitor=monitor)
    message = str(info.value)
    assert "flow-platform:aws.clusterStack.outputs.privateSubnetIds" in message
    assert "stack 'acme/eks/tst' has no output 'privateSubnets'" in message
    assert "flow-platform:aws.clusterStack.outputs.vpcId" in message
    assert [r.type for r in monitor.registrations] == [], "nothing is registered"


def test_each_system_gets_its_own_file_system(stack: Any) -> None:
    tokens = sorted(r.inputs["creationToken"] for r in _aws(stack("prd"), "efs/fileSystem:FileSystem"))
    assert tokens == [
        "flow-platform-prd-flink-flink-data",
        "flow-platform-prd-hyperflow-work-dir",
        "flow-platform-prd-partek-partek-flow-home",
    ]
