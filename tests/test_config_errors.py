"""Bad config stops the run with a message naming the stack, key, value and what is allowed.

Every case starts from a committed env file, breaks one thing, and checks both the message and
that the program registered nothing at all (not even the provider).
"""

from collections.abc import Callable
from typing import Any

import pytest

Config = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Config], None]:
    """Set ``flow-platform:a.b.c`` in a stack file's config mapping."""

    def mutate(config: Config) -> None:
        top, *rest = path.split(".")
        key = f"flow-platform:{top}"
        if not rest:
            config[key] = value
            return
        node = config[key]
        for part in rest[:-1]:
            node = node[part]
        node[rest[-1]] = value

    return mutate


def _delete(path: str) -> Callable[[Config], None]:
    def mutate(config: Config) -> None:
        top, *rest = path.split(".")
        if not rest:
            del config[f"flow-platform:{top}"]
            return
        node = config[f"flow-platform:{top}"]
        for part in rest[:-1]:
            node = node[part]
        del node[rest[-1]]

    return mutate


def _rename(path: str, new: str) -> Callable[[Config], None]:
    def mutate(config: Config) -> None:
        top, *rest = path.split(".")
        if not rest:
            config[f"flow-platform:{new}"] = config.pop(f"flow-platform:{top}")
            return
        node = config[f"flow-platform:{top}"]
        for part in rest[:-1]:
            node = node[part]
        node[new] = node.pop(rest[-1])

    return mutate


CASES: list[tuple[str, str, Callable[[Config], None], list[str]]] = [
    (
        "unknown top-level key",
        "dev",
        _rename("partek", "partk"),
        ["flow-platform:partk", "unknown key", "did you mean 'partek'?"],
    ),
    (
        "typo in a nested key",
        "dev",
        _rename("kubernetes.context", "contxt"),
        ["flow-platform:kubernetes.contxt", "did you mean 'context'?", "allowed keys: apiServer, context"],
    ),
    (
        "snake_case key instead of camelCase",
        "tst",
        _rename("partek.limits.defaultRequest", "default_request"),
        ["flow-platform:partek.limits.default_request", "did you mean 'defaultRequest'?"],
    ),
    (
        "environment outside the four",
        "dev",
        _set("environment", "prod"),
        ["flow-platform:environment = 'prod'", "'dev', 'tst', 'uat' or 'prd'"],
    ),
    (
        "quantity that is not one",
        "dev",
        _set("partek.limits.max.memory", "64Gx"),
        ["flow-platform:partek.limits.max.memory = '64Gx'", "Kubernetes quantity", "16Gi"],
    ),
    (
        "memory without a unit",
        "uat",
        _set("flink.limits.defaultRequest.memory", "512"),
        ["flow-platform:flink.limits.defaultRequest.memory = '512'", "add a unit"],
    ),
    (
        "memory in millibytes",
        "dev",
        _set("hyperflow.quota.requestsMemory", "500m"),
        ["flow-platform:hyperflow.quota.requestsMemory = '500m'", "use Mi or Gi"],
    ),
    (
        "default limit above the maximum (compared as numbers, 40Gi > 32Gi)",
        "dev",
        _set("partek.limits.defaultLimit.memory", "40Gi"),
        ["flow-platform:partek.limits.defaultLimit.memory", "40Gi is above max.memory (32Gi)"],
    ),
    (
        "container maximum that the quota can never admit",
        "prd",
        _set("flink.limits.max.memory", "400Gi"),
        ["flow-platform:flink.limits.max.memory", "above quota.limitsMemory (384Gi)"],
    ),
    (
        "pod quota of zero",
        "tst",
        _set("hyperflow.quota.pods", 0),
        ["flow-platform:hyperflow.quota.pods = 0", "greater than or equal to 1"],
    ),
    (
        "prd without protection",
        "prd",
        _set("protect", False),
        ["flow-platform:protect", "must be true in prd"],
    ),
    (
        "neither a context nor a kubeconfig",
        "dev",
        _delete("kubernetes.context"),
        ["flow-platform:kubernetes.context", "exactly one of kubernetes.context"],
    ),
    (
        "API server CIDR that does not parse",
        "dev",
        _set("kubernetes.apiServer.cidrs", ["10.10.0/16"]),
        ["flow-platform:kubernetes.apiServer.cidrs[0]", "'10.10.0/16' is not a CIDR block"],
    ),
    (
        "API server CIDR that opens everything",
        "uat",
        _set("kubernetes.apiServer.cidrs", ["0.0.0.0/0"]),
        ["flow-platform:kubernetes.apiServer.cidrs[0]", "opens egress to everything"],
    ),
    (
        "API server port out of range",
        "dev",
        _set("kubernetes.apiServer.port", 70000),
        ["flow-platform:kubernetes.apiServer.port = 70000", "less than or equal to 65535"],
    ),
    (
        "namespace that is not a DNS label",
        "dev",
        _set("partek.namespace", "Partek_Dev"),
        ["flow-platform:partek.namespace = 'Partek_Dev'", "DNS label"],
    ),
    (
        "the default namespace",
        "dev",
        _set("flink.namespace", "default"),
        ["flow-platform:flink.namespace = 'default'", "system namespace"],
    ),
    (
        "two systems in one namespace",
        "prd",
        _set("flink.namespace", "partek-flow-prd"),
        ["flow-platform:flink.namespace", "already the namespace of partek"],
    ),
    (
        "missing environment",
        "tst",
        _delete("environment"),
        ["flow-platform:environment", "required key is missing"],
    ),
    (
        "pod security version that is not v1.N or latest",
        "dev",
        _set("kubernetes.podSecurityVersion", "1.32"),
        ["flow-platform:kubernetes.podSecurityVersion = '1.32'", "String should match pattern"],
    ),
    (
        "kubeconfig stored in plain text",
        "dev",
        lambda c: (
            c["flow-platform:kubernetes"].pop("context"),
            c["flow-platform:kubernetes"].update(kubeconfig="apiVersion: v1\nkind: Config\n"),
        ),
        ["flow-platform:kubernetes.kubeconfig", "stored in plain text", "pulumi config set --secret"],
    ),
]


PARTEK_CASES: list[tuple[str, str, Callable[[Config], None], list[str]]] = [
    (
        "single-node headnode too small for a 4g heap",
        "dev",
        _set("partek.headnode.memory", "4Gi"),
        ["flow-platform:partek.headnode.memory", "too small (use at least 6Gi)"],
    ),
    (
        "distributed headnode that cannot hold heap and internal worker",
        "tst",
        _set("partek.headnode.memory", "1Gi"),
        ["flow-platform:partek.headnode.memory", "do not fit in the memory request 1Gi"],
    ),
    (
        "extra JVM option that overrides the heap",
        "prd",
        _set("partek.headnode.extraJvmOptions", ["-Xmx60g"]),
        ["flow-platform:partek.headnode.extraJvmOptions", "change headnode.memory"],
    ),
    (
        "headnode larger than the namespace's container maximum",
        "dev",
        _set("partek.headnode.memory", "40Gi"),
        ["flow-platform:partek.headnode.memory", "40Gi is above limits.max.memory (32Gi)"],
    ),
    (
        "workers that the quota cannot hold",
        "prd",
        _set("partek.workers.replicas", 8),
        ["flow-platform:partek.quota.requestsCpu", "more than the quota's 128"],
    ),
    (
        "workers in single-node mode",
        "dev",
        _set("partek.workers", {"replicas": 2, "cpu": "2", "memory": "8Gi"}),
        ["flow-platform:partek.workers.replicas", "single-node runs every job on the headnode"],
    ),
    (
        "memory limit below the request",
        "prd",
        _set("partek.headnode.memoryLimit", "16Gi"),
        ["flow-platform:partek.headnode.memoryLimit", "below the request memory (32Gi)"],
    ),
    (
        "image tag latest",
        "uat",
        _set("partek.image.tag", "latest"),
        ["flow-platform:partek.image.tag = 'latest'", "pin the tag you tested"],
    ),
    (
        "external license server address without @",
        "tst",
        _set("partek.license.server", "license.example.com"),
        ["flow-platform:partek.license.server", "use @host or port@host"],
    ),
    (
        "flexlm mode without a storage class",
        "prd",
        _delete("partek.license.storageClass"),
        ["flow-platform:partek.license.storageClass", "required when mode is 'flexlm'"],
    ),
    (
        "a field of another license mode",
        "dev",
        _set("partek.license.server", "@lic"),
        ["flow-platform:partek.license.server", "only applies to mode 'external', not 'flexlm'"],
    ),
    (
        "unknown license mode",
        "dev",
        _set("partek.license.mode", "floating"),
        ["flow-platform:partek.license.mode = 'floating'", "'flexlm', 'external' or 'file'"],
    ),
    (
        "ingress without TLS",
        "prd",
        _delete("partek.ingress.tlsSecret"),
        ["flow-platform:partek.ingress.tlsSecret", "HTTPS only"],
    ),
    (
        "ingress host that is not a host name",
        "dev",
        _set("partek.ingress.host", "https://flow.example.com/"),
        ["flow-platform:partek.ingress.host", "DNS host name"],
    ),
    (
        "home volume with neither EFS, claim nor storage class",
        "tst",
        _delete("partek.home.efs"),
        ["flow-platform:partek.home.efs", "set exactly one of efs: true", "storageClass", "claimName"],
    ),
]
AWS_CASES: list[tuple[str, str, Callable[[Config], None], list[str]]] = [
    (
        "empty subnet list",
        "tst",
        _set("aws.cluster.privateSubnetIds", []),
        ["flow-platform:aws.cluster.privateSubnetIds", "at least 1 item"],
    ),
    (
        "subnet id that is not one",
        "dev",
        _set("aws.cluster.privateSubnetIds", ["subnet-0a1b2c3d4e5f60712", "sn-123"]),
        ["flow-platform:aws.cluster.privateSubnetIds[1]", "'sn-123' is not a subnet id"],
    ),
    (
        "lifecycle count of zero",
        "prd",
        _set("aws.ecr.keepTagged", 0),
        ["flow-platform:aws.ecr.keepTagged = 0", "greater than or equal to 1"],
    ),
    (
        "malformed account id",
        "uat",
        _set("aws.accountId", "22222222222"),
        ["flow-platform:aws.accountId = '22222222222'", "should match pattern"],
    ),
    (
        "malformed region",
        "tst",
        _set("aws.region", "us-west"),
        ["flow-platform:aws.region = 'us-west'", "should match pattern"],
    ),
    (
        "prd EFS without a customer KMS key",
        "prd",
        _delete("aws.efs.kmsKeyArn"),
        ["flow-platform:aws.efs.kmsKeyArn", "required in prd"],
    ),
    (
        "both cluster facts and a cluster stack",
        "dev",
        _set("aws.clusterStack", {"name": "acme/eks/dev"}),
        ["flow-platform:aws.cluster", "set exactly one of aws.cluster"],
    ),
    (
        "neither cluster facts nor a cluster stack",
        "dev",
        _delete("aws.cluster"),
        ["flow-platform:aws.cluster", "set exactly one of aws.cluster"],
    ),
    (
        "a missing cluster fact",
        "tst",
        _delete("aws.cluster.nodeSecurityGroupId"),
        ["flow-platform:aws.cluster.nodeSecurityGroupId", "required key is missing"],
    ),
    (
        "provisioned throughput without a rate",
        "uat",
        _set("aws.efs.throughputMode", "provisioned"),
        ["flow-platform:aws.efs.provisionedThroughputMibps", "exactly when throughputMode is 'provisioned'"],
    ),
    (
        "vendor images without the copy job",
        "tst",
        _delete("aws.ecr.copyJob"),
        ["flow-platform:aws.ecr.copyJob", "partek-flow come from registries ECR cannot cache"],
    ),
    (
        "a copy schedule that is not cron",
        "prd",
        _set("aws.ecr.copyJob.schedule", "daily"),
        ["flow-platform:aws.ecr.copyJob.schedule = 'daily'", "five fields"],
    ),
    (
        "EFS home without aws.efs",
        "dev",
        _delete("aws.efs"),
        ["flow-platform:partek.home.efs", "needs aws.efs"],
    ),
    (
        "KMS key that is not an ARN",
        "prd",
        _set("aws.ecr.kmsKeyArn", "alias/flow"),
        ["flow-platform:aws.ecr.kmsKeyArn = 'alias/flow'", "a KMS key ARN"],
    ),
]
HYPERFLOW_CASES: list[tuple[str, str, Callable[[Config], None], list[str]]] = [
    (
        "unknown storage mode",
        "prd",
        _set("hyperflow.storage.mode", "nfs"),
        ["flow-platform:hyperflow.storage.mode = 'nfs'", "'efs' or 'in-cluster'"],
    ),
    (
        "negative TTL for job pods",
        "tst",
        _set("hyperflow.worker.ttlSecondsAfterFinished", -5),
        ["flow-platform:hyperflow.worker.ttlSecondsAfterFinished = -5", "greater than or equal to 0"],
    ),
    (
        "negative TTL for one-shot jobs",
        "dev",
        _set("hyperflow.jobs.ttlSecondsAfterFinished", -1),
        ["flow-platform:hyperflow.jobs.ttlSecondsAfterFinished = -1", "greater than or equal to 0"],
    ),
    (
        "missing worker image",
        "prd",
        _delete("hyperflow.worker.image"),
        ["flow-platform:hyperflow.worker.image", "required key is missing"],
    ),
    (
        "in-cluster storage without node addresses",
        "dev",
        _delete("hyperflow.storage.nodeCidrs"),
        ["flow-platform:hyperflow.storage.nodeCidrs", "required when mode is 'in-cluster'"],
    ),
    (
        "EFS storage for HyperFlow without aws.efs",
        "dev",
        lambda c: (
            c["flow-platform:hyperflow"].update(storage={"mode": "efs"}),
            c["flow-platform:partek"]["home"].pop("efs"),
            c["flow-platform:partek"]["home"].update(storageClass="efs-sc"),
            c["flow-platform:aws"].pop("efs"),
        ),
        ["flow-platform:hyperflow.storage.mode", "'efs' needs aws.efs"],
    ),
    (
        "docker hub images mirrored without credentials",
        "prd",
        _delete("aws.ecr.credentialArns"),
        ["flow-platform:aws.ecr.credentialArns.docker-hub", "needs a Secrets Manager credential"],
    ),
]
FLINK_CASES: list[tuple[str, str, Callable[[Config], None], list[str]]] = [
    (
        "a Flink version the CRD does not know",
        "prd",
        _set("flink.cluster.flinkVersion", "v1_21"),
        ["flow-platform:flink.cluster.flinkVersion = 'v1_21'", "'v1_20', 'v2_0', 'v2_1' or 'v2_2'"],
    ),
    (
        "an upgrade mode the CRD does not know",
        "uat",
        _set("flink.cluster.job.upgradeMode", "restart"),
        ["flink.cluster.job.upgradeMode = 'restart'", "'last-state', 'savepoint' or 'stateless'"],
    ),
    (
        "parallelism below 1",
        "tst",
        _set("flink.cluster.job.parallelism", 0),
        ["flow-platform:flink.cluster.job.parallelism = 0", "greater than or equal to 1"],
    ),
    (
        "parallelism above the slots available",
        "prd",
        _set("flink.cluster.job.parallelism", 9),
        [
            "flow-platform:flink.cluster.job.parallelism",
            "9 is above the 8 slots available (4 TaskManagers x 2 slots)",
        ],
    ),
    (
        "a session job above the slots available",
        "dev",
        _set(
            "flink.cluster.sessionJobs", [{"name": "big", "jarUri": "local:///opt/a.jar", "parallelism": 3}]
        ),
        ["flow-platform:flink.cluster.sessionJobs[0].parallelism", "above the 2 slots available"],
    ),
    (
        "a job without a jar URI",
        "tst",
        _delete("flink.cluster.job.jarUri"),
        ["flow-platform:flink.cluster.job.jarUri", "required key is missing"],
    ),
    (
        "application mode without a job",
        "prd",
        _delete("flink.cluster.job"),
        ["flow-platform:flink.cluster.job", "application mode needs a job"],
    ),
    (
        "an operator without a pinned image",
        "uat",
        _delete("flink.operator.image"),
        ["flow-platform:flink.operator.image", "required key is missing"],
    ),
]
CASES += PARTEK_CASES + AWS_CASES + HYPERFLOW_CASES + FLINK_CASES


@pytest.mark.parametrize(("title", "env", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_a_clear_error_before_anything_is_registered(
    bad_config: Any, title: str, env: str, mutate: Callable[[Config], None], expected: list[str]
) -> None:
    result = bad_config(env, mutate)
    assert result.message.startswith(f"invalid configuration for stack '{env}'")
    for fragment in expected:
        assert fragment in result.message, f"{title}: {fragment!r} not in:\n{result.message}"
    assert result.registered == [], f"{title}: resources were registered before the error"


def test_all_problems_are_reported_at_once(bad_config: Any) -> None:
    def two_mistakes(config: Config) -> None:
        _set("environment", "qa")(config)
        _set("partek.quota.pods", -1)(config)

    result = bad_config("dev", two_mistakes)
    assert "(2 problem(s))" in result.message
    assert "flow-platform:environment = 'qa'" in result.message
    assert "flow-platform:partek.quota.pods = -1" in result.message


def test_a_secret_value_is_never_echoed_in_an_error(bad_config: Any) -> None:
    def secret_and_wrong(config: Config) -> None:
        kube = config["flow-platform:kubernetes"]
        kube.pop("context")
        kube["kubeconfig"] = 987654321  # not text: invalid, and a secret field all the same
        kube["apiServer"]["port"] = "not-a-port"

    result = bad_config("dev", secret_and_wrong, secret_keys=["flow-platform:kubernetes"])
    assert "flow-platform:kubernetes.kubeconfig = '[secret]'" in result.message
    assert "987654321" not in result.message
    # a plain field under the same key is shown: it is what the person must fix
    assert "flow-platform:kubernetes.apiServer.port = 'not-a-port'" in result.message


LICENSE = "SERVER flexlmserver 0242ac120002 27000\nVENDOR parteklm PORT=27001\nINCREMENT flow parteklm 1\n"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (LICENSE.replace("SERVER flexlmserver 0242ac120002 27000\n", ""), "no SERVER line"),
        (LICENSE.replace(" PORT=27001", ""), "ask Partek for a license reading 'VENDOR parteklm PORT=27001'"),
    ],
    ids=["no SERVER line", "VENDOR port not pinned"],
)
def test_a_bad_license_says_what_to_ask_the_vendor_for(bad_config: Any, text: str, fragment: str) -> None:
    result = bad_config("prd", _set("partek.license.text", text), secret_keys=["flow-platform:partek"])
    assert "flow-platform:partek.license.text" in result.message
    assert fragment in result.message
    assert "0242ac120002" not in result.message, "the license text is a secret"
    assert result.registered == []


# --- issue #10: config that was silently wrong ----------------------------------------------------


def _append(path: str, value: Any) -> Callable[[Config], None]:
    def mutate(config: Config) -> None:
        top, *rest = path.split(".")
        node = config[f"flow-platform:{top}"]
        for part in rest:
            node = node[part]
        node.append(value)

    return mutate


def _many_tags(n: int) -> dict[str, str]:
    return {f"tag-{i}": "x" for i in range(n)}


STRICT_CASES: list[tuple[str, str, Callable[[Config], None], list[str]]] = [
    (
        "an empty context means no context",
        "dev",
        _set("kubernetes.context", ""),
        ["flow-platform:kubernetes.context", "is empty: remove the key to leave it unset"],
    ),
    (
        "an empty clusterIssuer is not 'one of'",
        "dev",
        _set("partek.ingress.clusterIssuer", ""),
        ["flow-platform:partek.ingress.clusterIssuer", "is empty"],
    ),
    (
        "an empty storageClass is not a class",
        "dev",
        _set("hyperflow.storage.storageClass", ""),
        ["flow-platform:hyperflow.storage.storageClass", "is empty"],
    ),
    (
        "true is not 4 worker replicas",
        "prd",
        _set("partek.workers.replicas", True),
        ["flow-platform:partek.workers.replicas = True", "valid integer"],
    ),
    (
        "true is not port 443",
        "prd",
        _set("kubernetes.apiServer.port", True),
        ["flow-platform:kubernetes.apiServer.port = True", "valid integer"],
    ),
    (
        "two session jobs with one name",
        "dev",
        _append(
            "flink.cluster.sessionJobs", {"name": "top-speed", "jarUri": "local:///a.jar", "parallelism": 1}
        ),
        ["flow-platform:flink.cluster.sessionJobs[1].name", "already the name of sessionJobs[0]"],
    ),
    (
        "a memory of 1e300",
        "prd",
        _set("flink.cluster.jobManager.memory", "1e300"),
        ["flow-platform:flink.cluster.jobManager.memory = '1e300'", "out of range"],
    ),
    (
        "a Flink TaskManager above limits.max",
        "prd",
        _set("flink.cluster.taskManager.memory", "64Gi"),
        ["flow-platform:flink.cluster.taskManager.memory", "64Gi is above flink.limits.max.memory (32Gi)"],
    ),
    (
        "a HyperFlow job pod limit above limits.max",
        "prd",
        _set("hyperflow.worker.memoryLimit", "20Gi"),
        ["flow-platform:hyperflow.worker.memoryLimit", "above hyperflow.limits.max.memory (16Gi)"],
    ),
    (
        "a Partek headnode limit above limits.max",
        "prd",
        _set("partek.headnode.memoryLimit", "200Gi"),
        ["flow-platform:partek.headnode.memoryLimit", "above partek.limits.max.memory (128Gi)"],
    ),
    (
        "fewer quota pods than the stack runs",
        "prd",
        _set("flink.quota.pods", 5),
        ["flow-platform:flink.quota.pods", "5 is below the 6 pods the stack runs here (jobManager x2"],
    ),
    (
        "no quota claim for the claim the stack creates",
        "dev",
        _set("partek.quota.persistentVolumeClaims", 0),
        ["flow-platform:partek.quota.persistentVolumeClaims", "below the 1 claim(s)"],
    ),
    (
        "one quota claim for the work dir and redis's data",
        "prd",
        _set("hyperflow.quota.persistentVolumeClaims", 1),
        ["flow-platform:hyperflow.quota.persistentVolumeClaims", "1 is below the 2 claim(s)"],
    ),
    (
        "a StorageClass name the API server refuses",
        "dev",
        _set("hyperflow.storage.storageClass", "GP3_Fast"),
        ["flow-platform:hyperflow.storage.storageClass = 'GP3_Fast'", "Kubernetes object name"],
    ),
    (
        "a TLS secret name the API server refuses",
        "prd",
        _set("partek.ingress.tlsSecret", "flow tls"),
        ["flow-platform:partek.ingress.tlsSecret = 'flow tls'", "Kubernetes object name"],
    ),
    (
        "an image name the runtime refuses",
        "dev",
        _set("hyperflow.engine.image.repository", "hyperflowwms//hyperflow"),
        ["flow-platform:hyperflow.engine.image"],
    ),
    (
        "an unpinned copier image",
        "prd",
        _set("aws.ecr.copyJob.copierImage", "quay.io/skopeo/stable"),
        ["flow-platform:aws.ecr.copyJob.copierImage", "tag or digest"],
    ),
    (
        "a restart strategy Flink does not know",
        "prd",
        _set("flink.cluster.restartStrategy", {"type": "exponential"}),
        ["flow-platform:flink.cluster.restartStrategy.type", "not a Flink restart strategy"],
    ),
    (
        "a restart strategy option of another strategy",
        "prd",
        _set(
            "flink.cluster.restartStrategy", {"type": "fixed-delay", "exponential-delay.max-backoff": "1 min"}
        ),
        ["flow-platform:flink.cluster.restartStrategy.exponential-delay.max-backoff", "fixed-delay.attempts"],
    ),
    (
        "a restart strategy value that is not a duration",
        "prd",
        _set("flink.cluster.restartStrategy", {"type": "fixed-delay", "fixed-delay.delay": "soon"}),
        ["flow-platform:flink.cluster.restartStrategy.fixed-delay.delay", "not a duration"],
    ),
    (
        "the second node CIDR is the bad one",
        "dev",
        _set("hyperflow.storage.nodeCidrs", ["10.10.0.0/16", "10.300.0.0/16"]),
        ["flow-platform:hyperflow.storage.nodeCidrs[1]"],
    ),
    (
        "more AWS tags than a resource may carry",
        "prd",
        _set("aws.tags", _many_tags(46)),
        ["flow-platform:aws.tags", "AWS allows 50 per resource", "so at most 45"],
    ),
    (
        "an AWS tag value too long",
        "prd",
        _set("aws.tags", {"owner": "x" * 257}),
        ["flow-platform:aws.tags.owner", "0-256"],
    ),
    (
        "an AWS tag key with characters AWS refuses",
        "prd",
        _set("aws.tags", {"owner#1": "x"}),
        ["flow-platform:aws.tags.owner#1", "tag key"],
    ),
    (
        "an AWS tag in the aws: namespace",
        "prd",
        _set("aws.tags", {"aws:owner": "x"}),
        ["flow-platform:aws.tags.aws:owner", "reserved for AWS"],
    ),
    (
        "an AWS tag the components set",
        "prd",
        _set("aws.tags", {"env": "production"}),
        ["flow-platform:aws.tags.env", "set by the components"],
    ),
]


@pytest.mark.parametrize(
    ("title", "env", "mutate", "expected"), STRICT_CASES, ids=[c[0] for c in STRICT_CASES]
)
def test_config_that_was_silently_wrong_is_an_error(
    bad_config: Any, title: str, env: str, mutate: Callable[[Config], None], expected: list[str]
) -> None:
    result = bad_config(env, mutate)
    for fragment in expected:
        assert fragment in result.message, f"{title}: {fragment!r} not in:\n{result.message}"
    assert result.registered == [], f"{title}: resources were registered before the error"


def test_the_documented_tag_limits_pass_at_the_boundary(stack: Any) -> None:
    from conftest import raw_stack_yaml, run_config

    config = raw_stack_yaml("prd")["config"]
    config["flow-platform:aws"]["tags"] = {f"k{i}": "v" * 256 for i in range(45)}
    config["flow-platform:aws"]["tags"]["c" * 128] = "ünïcode ok @ + = : / _ . -"
    del config["flow-platform:aws"]["tags"]["k0"]
    assert run_config("prd", config)


def test_a_disabled_system_needs_nothing_else() -> None:
    from conftest import raw_stack_yaml, run_config
    from flow_platform_stacks.config.stack import SYSTEMS

    config = raw_stack_yaml("dev")["config"]
    for name in SYSTEMS:  # every system but Partek (hyperflow, flink, and any added since)
        if name != "partek" and f"flow-platform:{name}" in config:
            config[f"flow-platform:{name}"] = {"enabled": False}
    registrations = run_config("dev", config)
    namespaces = {
        r.inputs["metadata"]["name"] for r in registrations if r.type == "kubernetes:core/v1:Namespace"
    }
    assert namespaces == {"partek-dev", "partek-license-dev"}  # Partek and its FlexLM server's own


def test_a_disabled_block_with_a_real_mistake_is_still_reported(bad_config: Any) -> None:
    result = bad_config("dev", _set("hyperflow", {"enabled": False, "storage": {"mode": "nfs"}}))
    assert "flow-platform:hyperflow.storage.mode" in result.message


# --- the stack file itself: namespaces, YAML, size; other stacks' files -------------------------


def _render_file(tmp_path: Any, text: str, capsys: Any, name: str = "Pulumi.mine.yaml") -> tuple[int, str]:
    from conftest import ROOT
    from flow_platform_stacks.tooling.cli import main

    stack_file = tmp_path / name
    stack_file.write_text(text)
    code = main(["render", str(stack_file), "--project-dir", str(ROOT), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code != 0:
        assert not (tmp_path / "out").exists(), "nothing is written for a stack with bad config"
    return code, err


def _dev_text() -> str:
    from conftest import ROOT

    return (ROOT / "Pulumi.dev.yaml").read_text()


def test_a_typo_in_the_namespace_prefix_is_an_error_with_a_hint(tmp_path: Any, capsys: Any) -> None:
    code, err = _render_file(
        tmp_path, _dev_text().replace("flow-platform:partek:", "flow-platfrom:partek:"), capsys
    )
    assert code == 2
    assert "flow-platfrom:partek: config namespace 'flow-platfrom' is not used by this program" in err
    assert "did you mean 'flow-platform'?" in err
    assert "aws: (AWS provider config), kubernetes: (Kubernetes provider config)" in err


def test_provider_namespaces_are_accepted(tmp_path: Any, capsys: Any) -> None:
    text = _dev_text().replace(
        "config:\n", "config:\n  aws:region: us-west-2\n  kubernetes:context: flow-dev\n", 1
    )
    assert _render_file(tmp_path, text, capsys)[0] == 0


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "config:\n  flow-platform:environment: dev\n   bad indent: [\n",
            ["Pulumi.mine.yaml, line 3", "not valid YAML"],
        ),
        ("- config\n- list\n", ["Pulumi.mine.yaml", "must be a mapping with a config: key, not a list"]),
        ("config: [a, b]\n", ["Pulumi.mine.yaml", "config: must be a mapping"]),
        (
            "config:\n  flow-platform:environment: dev\n  flow-platform:environment: prd\n",
            ["Pulumi.mine.yaml, line 3", "duplicate key 'flow-platform:environment' (first at line 2)"],
        ),
        (
            "config:\n  flow-platform:partek:\n    enabled: true\n    enabled: false\n",
            ["line 4", "duplicate key 'enabled' (first at line 3)"],
        ),
    ],
    ids=[
        "not YAML",
        "not a mapping",
        "config not a mapping",
        "duplicate top key",
        "duplicate nested key",
    ],
)
def test_a_broken_stack_file_is_a_clean_error_naming_file_and_line(
    tmp_path: Any, capsys: Any, text: str, fragments: list[str]
) -> None:
    code, err = _render_file(tmp_path, text, capsys)
    assert code == 2
    assert "invalid configuration for stack 'mine'" in err
    for fragment in fragments:
        assert fragment in err, err


def test_a_stack_file_that_is_not_text_is_a_clean_error(tmp_path: Any, capsys: Any) -> None:
    from conftest import ROOT
    from flow_platform_stacks.tooling.cli import main

    stack_file = tmp_path / "Pulumi.mine.yaml"
    stack_file.write_bytes(b"config:\n  x: \xff\xfe\n")
    assert main(["render", str(stack_file), "--project-dir", str(ROOT), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Pulumi.mine.yaml: is not UTF-8 text" in err and "Traceback" not in err


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Any, capsys: Any) -> None:
    import time

    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        levels.append(f"{'abcdefghi'[i]}: &{'abcdefghi'[i]} [{', '.join(['*' + 'abcdefghi'[i - 1]] * 9)}]")
    text = "config:\n" + "".join(f"  {line}\n" for line in levels) + "  flow-platform:x: *i\n"
    assert len(text) < 1000
    started = time.monotonic()
    code, err = _render_file(tmp_path, text, capsys)
    assert code == 2 and "expands to more than 50000 values through YAML aliases" in err
    assert time.monotonic() - started < 5


def test_a_huge_stack_file_is_refused(tmp_path: Any, capsys: Any) -> None:
    text = _dev_text() + "".join(f"# padding {i:08d} {'x' * 80}\n" for i in range(12_000))
    code, err = _render_file(tmp_path, text, capsys)
    assert code == 2 and "more than the 1048576 a stack file may hold" in err


def _project_with(tmp_path: Any, extra: dict[str, str]) -> Any:
    import shutil

    from conftest import ROOT

    project = tmp_path / "project"
    project.mkdir()
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, project / path.name)
    for name, text in extra.items():
        (project / name).write_text(text)
    return project


def test_a_scratch_copy_or_a_broken_file_does_not_break_another_stack(
    tmp_path: Any, capsys: Any, caplog: Any
) -> None:
    from conftest import ROOT
    from flow_platform_stacks.tooling.cli import main

    project = _project_with(
        tmp_path,
        {
            "Pulumi.mytst.yaml": (ROOT / "Pulumi.tst.yaml").read_text(),  # a second CRD manager for nonprod
            "Pulumi.broken.yaml": "config: {flow-platform:flink: [\n",
            "Pulumi.odd.yaml": "config:\n  flow-platform:flink: {operator: 7}\n",
        },
    )
    assert main(["render", "dev", "--project-dir", str(project), "--out", str(tmp_path / "dev")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert "Pulumi.broken.yaml is ignored for the Flink operator plan" in caplog.text
    assert "Pulumi.odd.yaml is ignored for the Flink operator plan" in caplog.text
    assert "stacks mytst, tst all manage the Flink CRDs of cluster 'nonprod'" in caplog.text
    # the CRD managers themselves must agree, and the error says so
    assert main(["render", "tst", "--project-dir", str(project), "--out", str(tmp_path / "tst")]) == 2
    err = capsys.readouterr().err
    assert "stacks mytst, tst all manage the Flink CRDs of cluster 'nonprod'" in err
    assert "the stacks of one cluster must agree" in err
