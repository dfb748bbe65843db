"""The AWS foundations as each env stack registers them: EFS, the ECR mirror, IAM, image sources."""

import json
from typing import Any

import pytest
from conftest import ENVS, Stack, raw_stack_yaml, run_config, stack_config
from flow_platform_stacks.tooling.harness import FlowMocks, RecordingMonitor

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
        ("uat", "arn:aws:kms:us-west-2:222222222222:key/5e2f9a1c-7b3d-4c8e-a6f1-2d9b8c7e6a5f"),
        ("prd", "arn:aws:kms:us-west-2:333333333333:key/0b7c2a1e-4d5f-4a6b-9c8d-7e6f5a4b3c2d"),
    ],
)
def test_file_system_is_encrypted_with_the_configured_key(stack: Any, env: str, kms: str | None) -> None:
    [fs] = _aws(stack(env), "efs/fileSystem:FileSystem", HOME)
    assert fs.inputs["encrypted"] is True
    assert fs.inputs.get("kmsKeyId") == kms
    namespace = {"dev": "partek-dev", "tst": "partek-tst", "uat": "partek-flow-uat", "prd": "partek-flow-prd"}
    assert fs.inputs["creationToken"] == f"flow-platform-{env}-{namespace[env]}-partek-flow-home"
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


def test_file_system_policy_lets_the_access_point_mount(env_stack: Stack) -> None:
    """#15.1: the rendered policy allows ClientMount/ClientWrite via a mount target and this
    stack's access point only; renamed from "-tls-only" with an alias, so it updates in place."""
    [policy] = _aws(env_stack, "efs/fileSystemPolicy:FileSystemPolicy", HOME)
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    allow = statements["MountThroughTheAccessPoint"]
    assert allow["Condition"]["StringEquals"] == {
        "elasticfilesystem:AccessPointArn": "<computed:partek-home-ap.arn>"
    }
    assert allow["Condition"]["Bool"] == {"elasticfilesystem:AccessedViaMountTarget": "true"}
    assert "elasticfilesystem:ClientRootAccess" not in allow["Action"]
    assert any("partek-home-tls-only" in alias for alias in policy.options["aliases"])


def test_efs_names_carry_the_namespace_and_create_only_names_are_never_diffed(stack: Any) -> None:
    """#10: unique per use (namespace in the token and group name); the create-only inputs are
    ignored after creation so existing file systems and groups are never replaced by the rename."""
    prd = stack("prd")
    [fs] = _aws(prd, "efs/fileSystem:FileSystem", HOME)
    [group] = _aws(prd, "ec2/securityGroup:SecurityGroup", HOME)
    assert fs.inputs["creationToken"] == "flow-platform-prd-partek-flow-prd-partek-flow-home"
    assert group.inputs["name"] == "flow-platform-prd-partek-flow-prd-partek-flow-home-efs"
    assert fs.options["ignore_changes"] == ["creationToken"]
    assert group.options["ignore_changes"] == ["description", "name"]


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


def test_one_mount_target_per_private_subnet_when_each_is_in_its_own_zone(env_stack: Stack) -> None:
    subnets = raw_stack_yaml(env_stack.name)["config"]["flow-platform:aws"]["cluster"]["privateSubnetIds"]
    targets = _aws(env_stack, "efs/mountTarget:MountTarget", HOME)
    assert sorted(t.inputs["subnetId"] for t in targets) == sorted(subnets)
    group = _aws(env_stack, "ec2/securityGroup:SecurityGroup", HOME)[0]
    assert all(t.inputs["securityGroups"] == [f"<computed:{group.name}.id>"] for t in targets)


def test_two_subnets_in_one_zone_get_one_mount_target() -> None:
    """#15.14: zones are looked up (aws.ec2.getSubnet); EFS allows one mount target per AZ."""
    config = raw_stack_yaml("prd")["config"]
    zones = {
        "subnet-0d1e2f3a4b5c60742": "us-west-2a",
        "subnet-0d1e2f3a4b5c60743": "us-west-2a",
        "subnet-0d1e2f3a4b5c60744": "us-west-2b",
    }
    monitor = RecordingMonitor(FlowMocks(subnet_zones=zones))
    registrations = run_config("prd", config, monitor=monitor)
    targets = [r for r in registrations if r.type.endswith("MountTarget") and r.name.startswith(HOME)]
    assert sorted(t.inputs["subnetId"] for t in targets) == [
        "subnet-0d1e2f3a4b5c60742",
        "subnet-0d1e2f3a4b5c60744",
    ]
    assert isinstance(monitor.mocks, FlowMocks)
    assert not [n for n in monitor.mocks.stand_ins if "getSubnet" in n], "every zone was given"


def test_the_offline_render_says_which_lookup_answers_are_stand_ins(env_stack: Stack) -> None:
    """#15.14: without given zones the mocks answer with the provider's region and say so."""
    # the session's one evaluation of this env (conftest's Stack keeps the default mocks' stand-ins)
    subnets = raw_stack_yaml(env_stack.name)["config"]["flow-platform:aws"]["cluster"]["privateSubnetIds"]
    notes = [n for n in env_stack.stand_ins if n.startswith("aws:ec2/getSubnet")]
    assert len(notes) == len(subnets)
    for subnet, note in zip(sorted(subnets), notes, strict=True):
        assert note.startswith(f"aws:ec2/getSubnet {subnet}: availabilityZone us-west-2")
        assert "stand-in" in note


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
    pods += [s["spec"]["template"]["spec"] for s in rendered.objects("StatefulSet")]
    pods += [c["spec"]["jobTemplate"]["spec"]["template"]["spec"] for c in rendered.objects("CronJob")]
    images = [c["image"] for pod in pods for c in [*pod.get("initContainers", []), *pod["containers"]]]
    assert images
    assert all(image.startswith(registry) for image in images), images


def test_repositories_are_immutable_scanned_encrypted_and_private(stack: Any) -> None:
    prd = stack("prd")
    repos = {r.inputs["name"]: r.inputs for r in _aws(prd, "ecr/repository:Repository")}
    assert sorted(repos) == [
        "flow-platform-docker-hub/apache/flink-kubernetes-operator",
        "flow-platform-docker-hub/apache/spark",
        "flow-platform-docker-hub/hyperflowwms/hyperflow",
        "flow-platform-docker-hub/hyperflowwms/montage-worker",
        "flow-platform-docker-hub/library/flink",
        "flow-platform-docker-hub/library/redis",
        "flow-platform-ecr-public/aws-cli/aws-cli",
        "flow-platform-ecr-public/partek-flow/kube-flexlm-server",
        "flow-platform-ghcr/kubeflow/spark-operator/controller",
        "flow-platform-quay/skopeo/stable",
        "flow-platform/eventflow-monitor",
        "flow-platform/eventflow-node",
        "flow-platform/partek-flow",
    ]
    for inputs in repos.values():
        assert inputs["imageTagMutability"] == "IMMUTABLE"
        assert inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"
        assert inputs["forceDelete"] is False
    policies = _aws(prd, "ecr/repositoryPolicy:RepositoryPolicy")
    assert sorted(p.name for p in policies) == sorted(
        f"mirror-{logical}-import"
        for logical in (
            "aws-cli",
            "flexlm",
            "flink",
            "flink-operator",
            "hyperflow",
            "hyperflow-worker",
            "openflow-spark",
            "redis",
            "skopeo",
            "spark-operator",
        )
    ), "a policy on each pull-through repository, none on the copied one"
    for policy in policies:
        [statement] = json.loads(policy.inputs["policy"])["Statement"]
        assert statement["Action"] == ["ecr:BatchImportUpstreamImage"]
        assert statement["Principal"] == {"AWS": ["arn:aws:iam::333333333333:role/flow-prd-eks-nodes"]}
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
        # the spark-operator 2.5.2 controller is published on ghcr.io only, which needs a credential
        "flow-platform-ghcr": {
            "ecrRepositoryPrefix": "flow-platform-ghcr",
            "upstreamRegistryUrl": "ghcr.io",
            "credentialArn": "arn:aws:secretsmanager:us-west-2:333333333333:secret:ecr-pullthroughcache/ghcr",
        },
    }


def test_copy_job_role_may_push_only_to_the_copied_repository(stack: Any) -> None:
    prd = stack("prd")
    [role] = _aws(prd, "iam/role:Role", "mirror")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert sorted(trust.values()) == [
        "sts.amazonaws.com",
        "system:serviceaccount:image-mirror-prd:image-copy",
    ]
    [policy] = _aws(prd, "iam/rolePolicy:RolePolicy")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert "ecr:GetDownloadUrlForLayer" not in json.dumps(statements), "#15.4: no blob reads"
    push = next(s for s in statements if s["Sid"] == "PushMirroredImages")
    # the images from registries ECR cannot cache: Partek's, and the customer's EventFlow images
    assert push["Resource"] == [
        "<computed:mirror-eventflow-monitor.arn>",
        "<computed:mirror-eventflow-node.arn>",
        "<computed:mirror-partek-flow.arn>",
    ]
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
        "artifacts.acme.example.com/streaming/ef-orders-app:1.0.0 "
        "333333333333.dkr.ecr.us-west-2.amazonaws.com/flow-platform/eventflow-node:1.0.0\n"
        "artifacts.acme.example.com/streaming/sbrt-base:11.1.0 "
        "333333333333.dkr.ecr.us-west-2.amazonaws.com/flow-platform/eventflow-monitor:11.1.0\n"
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
        "flow-platform-prd-flink-prd-flink-data",
        "flow-platform-prd-hyperflow-prd-work-dir",
        "flow-platform-prd-partek-flow-prd-partek-flow-home",
    ]


# --- #15 items 3, 5, 13, 17 and the platform team's expectations ------------------------------


def test_a_one_shot_copy_job_runs_before_the_workloads_that_use_copied_images(stack: Any) -> None:
    """#15.3: the Job is named after the image list and the Partek workloads depend on it; the
    FlexLM server (pulled through a cache) does not wait for it; the CronJob stays for drift."""
    prd = stack("prd")
    ns = "image-mirror-prd"
    [job] = prd.objects("Job", ns)
    assert job["metadata"]["name"].startswith("image-copy-")
    spec = job["spec"]
    assert "ttlSecondsAfterFinished" not in spec, "a self-deleting Job would be re-run after a refresh"
    assert spec["template"]["spec"]["containers"][0]["command"] == ["sh", "/config/copy.sh"]
    prd.one("CronJob", "image-copy", ns)
    [job_reg] = [r for r in prd.registrations if r.type == "kubernetes:batch/v1:Job"]
    headnode = prd.by_name("flow-headnode")
    workers = prd.by_name("flow-workers")
    assert job_reg.urn in headnode.options["depends_on"]
    assert job_reg.urn in workers.options["depends_on"]
    assert job_reg.urn not in prd.by_name("flexlm").options["depends_on"]
    service_account = prd.by_name("mirror-copy-service-account")
    assert service_account.urn in job_reg.options["depends_on"]


def test_dev_without_a_mirror_has_no_copy_job(stack: Any) -> None:
    assert not [j for j in stack("dev").objects("Job") if j["metadata"]["name"].startswith("image-copy")]


def test_copy_job_egress_reaches_the_configured_endpoints(stack: Any) -> None:
    """#15.13: prd reaches ECR and STS through interface endpoints in 10.40.200.0/24."""
    policy = stack("prd").one("NetworkPolicy", "image-copy-allow-registries", "image-mirror-prd")
    peers = policy["spec"]["egress"][0]["to"]
    assert {"ipBlock": {"cidr": "10.40.200.0/24"}} in peers
    assert policy["spec"]["egress"][0]["ports"] == [{"port": 443, "protocol": "TCP"}]


@pytest.mark.parametrize("env", ["tst", "uat", "prd"])
def test_enhanced_scanning_is_set_on_the_registry(stack: Any, env: str) -> None:
    [scanning] = _aws(stack(env), "ecr/registryScanningConfiguration:RegistryScanningConfiguration")
    assert scanning.inputs["scanType"] == "ENHANCED"
    [rule] = scanning.inputs["rules"]
    assert rule["scanFrequency"] == "CONTINUOUS_SCAN"
    assert rule["repositoryFilters"] == [{"filter": "flow-platform*", "filterType": "WILDCARD"}]


def test_prd_file_systems_have_an_explicit_backup_plan(stack: Any) -> None:
    prd = stack("prd")
    [vault] = _aws(prd, "backup/vault:Vault")
    assert vault.options["protect"] is True and vault.inputs["forceDestroy"] is False
    [plan] = _aws(prd, "backup/plan:Plan")
    [rule] = plan.inputs["rules"]
    assert rule["schedule"] == "cron(0 5 * * ? *)"
    assert rule["lifecycle"] == {"deleteAfter": 35}
    [selection] = _aws(prd, "backup/selection:Selection")
    assert selection.inputs["selectionTags"] == [
        {"type": "STRINGEQUALS", "key": "flow-platform-backup-plan", "value": "prd"}
    ]
    for fs in _aws(prd, "efs/fileSystem:FileSystem"):
        assert fs.inputs["tags"]["flow-platform-backup-plan"] == "prd"
    [role] = _aws(prd, "iam/role:Role", "efs-backup")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "backup.amazonaws.com"
    }
    assert not _aws(stack("tst"), "backup/plan:Plan")


@pytest.mark.parametrize("env", ENVS)
def test_default_providers_are_disabled_and_every_resource_names_its_provider(stack: Any, env: str) -> None:
    """Pulumi's `pulumi:disable-default-providers` (pulumi/pulumi#8829): a resource or lookup
    without an explicit provider fails instead of using ambient credentials or kube context."""
    assert raw_stack_yaml(env)["config"]["pulumi:disable-default-providers"] == ["*"]
    for reg in stack(env).registrations:
        if reg.custom and not reg.type.startswith("pulumi:providers:"):
            assert reg.provider, reg.urn


def _set(config: dict[str, Any], path: str, value: Any) -> None:
    top, *rest = path.split(".")
    node = config[f"flow-platform:{top}"]
    for part in rest[:-1]:
        node = node[part]
    node[rest[-1]] = value


@pytest.mark.parametrize(
    ("env", "path", "value", "fragments"),
    [
        (
            "uat",
            "aws.efs.kmsKeyArn",
            "arn:aws:kms:us-west-2:222222222222:alias/flow-platform-uat",
            ["flow-platform:aws.efs.kmsKeyArn", "aws kms describe-key"],
        ),
        (
            "prd",
            "aws.ecr.kmsKeyArn",
            "arn:aws:kms:eu-west-1:333333333333:key/0b7c2a1e-4d5f-4a6b-9c8d-7e6f5a4b3c2d",
            ["flow-platform:aws.ecr.kmsKeyArn", "the key is in eu-west-1"],
        ),
        ("tst", "aws.ecr.prefix", "flow-platform-research", ["flow-platform:aws.ecr.prefix", "at most 19"]),
        ("prd", "aws.efs.backup", None, ["flow-platform:aws.efs.backup", "required where protect is true"]),
        (
            "tst",
            "aws.ecr.nodeRoleArns",
            [],
            ["flow-platform:aws.ecr.nodeRoleArns", "BatchImportUpstreamImage"],
        ),
        (
            "tst",
            "aws.cluster.oidcProviderUrl",
            "https://oidc.eks.us-west-2.amazonaws.com/id/OTHER0123456789ABCDEF0123456789",
            ["flow-platform:aws.cluster.oidcProviderUrl", "both must name one cluster"],
        ),
    ],
)
def test_bad_aws_config_is_a_clear_error(
    bad_config: Any, env: str, path: str, value: Any, fragments: list[str]
) -> None:
    result = bad_config(env, lambda config: _set(config, path, value))
    for fragment in fragments:
        assert fragment in result.message, result.message
    assert result.registered == []


def _project(tmp_path: Any, stacks: dict[str, dict[str, Any]]) -> Any:
    import yaml

    for name, ecr in stacks.items():
        config = {
            "flow-platform:environment": name,
            "flow-platform:aws": {"accountId": "111111111111", "region": "us-west-2", "ecr": ecr},
        }
        (tmp_path / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def _tst_config() -> Any:
    from flow_platform_stacks.loader import validate

    text, secrets = stack_config("tst")
    raw = {
        key.split(":", 1)[1]: json.loads(value) if value.startswith(("{", "[")) else value
        for key, value in text.items()
        if key.startswith("flow-platform:")
    }
    return validate("tst", raw, {key.split(":", 1)[1] for key in secrets})


def test_two_stacks_in_one_registry_may_not_share_a_prefix_or_the_scanning_configuration(
    tmp_path: Any,
) -> None:
    """#15.17: dev and tst in one account; the registry's scanning document has one owner."""
    from flow_platform_stacks.aws_foundation import registry_plan
    from flow_platform_stacks.errors import ConfigError

    cfg = _tst_config()
    clean = _project(tmp_path, {"dev": {"nodeRoleArns": ["arn:aws:iam::111111111111:role/n"]}})
    assert registry_plan(clean, "tst", cfg).scan_prefixes == ["flow-platform", "flow-platform-dev"]
    (tmp_path / "Pulumi.broken.yaml").write_text("config: {flow-platform:aws: [\n")
    assert registry_plan(clean, "tst", cfg).scan_prefixes == ["flow-platform", "flow-platform-dev"], (
        "an unreadable sibling file is ignored (with a warning), not a crash"
    )
    clash = _project(tmp_path, {"dev": {"prefix": "flow-platform", "registryScanning": {}}})
    with pytest.raises(ConfigError) as info:
        registry_plan(clash, "tst", cfg)
    message = str(info.value)
    assert "flow-platform:aws.ecr.prefix" in message and "stack dev" in message
    assert "flow-platform:aws.ecr.registryScanning" in message and "dev, tst" in message


def test_the_render_lists_the_stand_in_values_in_aws_md(rendered: Any) -> None:
    """#15.14: the offline render says which values came from a stand-in."""
    code, out, err, directory = rendered("tst")  # `flow-platform render tst`, once per session
    assert code == 0, err
    assert "lookup answers are offline stand-ins" in out
    text = (directory / "aws.md").read_text()
    assert "## Stand-in values" in text
    assert "aws:ec2/getSubnet subnet-0b1c2d3e4f5a60722: availabilityZone us-west-2" in text


PRD_ISSUER = "https://oidc.eks.us-west-2.amazonaws.com/id/PRD0123456789ABCDEF0123456789AB"


def _kubeconfig(tmp_path: Any, server: str) -> str:
    import yaml

    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "contexts": [{"name": "flow-prd", "context": {"cluster": "prd", "user": "u"}}],
                "clusters": [{"name": "prd", "cluster": {"server": server}}],
            }
        )
    )
    return str(path)


@pytest.mark.parametrize(
    ("issuer", "server", "fragment"),
    [
        ("https://oidc.eks.us-west-2.amazonaws.com/id/OTHER", "https://PRD.gr7.eks", "not oidcProviderUrl"),
        (PRD_ISSUER, "https://OTHER.gr7.eks", "the kube context's server is 'https://OTHER.gr7.eks'"),
    ],
)
def test_the_named_cluster_must_be_the_configured_one_and_the_kube_contexts(
    tmp_path: Any, monkeypatch: Any, issuer: str, server: str, fragment: str
) -> None:
    """Platform team: the cluster's OIDC issuer (eks:DescribeCluster) must be oidcProviderUrl and its
    endpoint the server of kubernetes.context."""
    from flow_platform_stacks.errors import ConfigError

    monkeypatch.setenv("KUBECONFIG", _kubeconfig(tmp_path, server))
    clusters = {"flow-prd": {"issuer": issuer, "endpoint": "https://PRD.gr7.eks"}}
    monitor = RecordingMonitor(FlowMocks(eks_clusters=clusters))
    with pytest.raises(ConfigError) as info:
        run_config("prd", raw_stack_yaml("prd")["config"], monitor=monitor)
    assert "flow-platform:aws.cluster.name" in str(info.value) and fragment in str(info.value)
    assert all(r.type.startswith("pulumi:providers:") for r in monitor.registrations), "only the providers"


def test_a_matching_cluster_passes_and_offline_nothing_is_compared(tmp_path: Any, monkeypatch: Any) -> None:
    from flow_platform_stacks.aws_foundation import cluster_mismatches, kube_context_server

    monkeypatch.setenv("KUBECONFIG", _kubeconfig(tmp_path, "https://PRD.gr7.eks/"))
    assert kube_context_server("flow-prd") == "https://PRD.gr7.eks/"
    assert kube_context_server("other") is None
    assert (
        cluster_mismatches(
            PRD_ISSUER, PRD_ISSUER.removeprefix("https://"), "https://prd.gr7.eks", "https://PRD.gr7.eks/"
        )
        == []
    )
    assert cluster_mismatches(PRD_ISSUER, None, None, None) == []
    clusters = {"flow-prd": {"issuer": PRD_ISSUER, "endpoint": "https://PRD.gr7.eks"}}
    assert run_config(
        "prd", raw_stack_yaml("prd")["config"], monitor=RecordingMonitor(FlowMocks(eks_clusters=clusters))
    )
