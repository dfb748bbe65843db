"""Everything ``spark-submit --deploy-mode cluster`` needs in one namespace, and nothing more.

The driver runs as its own service account with a namespaced Role for exactly what Spark 4.0.1's
driver calls (:func:`flow_platform.openflow.spark.driver_role_rules`); executors run as a second
account without a token. Two ConfigMaps carry what a submitter needs: the pod templates and a
``spark-defaults.conf`` that binds jobs to this namespace, these accounts, these templates, the
local dirs and dynamic allocation with shuffle tracking. NetworkPolicies open exactly Spark's flows,
keyed on the ``spark-role`` label Spark puts on every pod (spark-submit's and the operator's alike).

A submitter copies the three files into its ``$SPARK_CONF_DIR`` (the README shows the two
``kubectl`` lines) and runs ``spark-submit --master k8s://https://<api server> --deploy-mode cluster``.
"""

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import yaml

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import standard_labels
from ..k8s.network import (
    ENDPOINT_CHECKS,
    PEER_CHECKS,
    api_server_egress_spec,
    dns_egress_spec,
    egress_spec,
    endpoint_egress_spec,
    ingress_spec,
    network_policies,
    pod_peer,
    ports,
)
from ..k8s.rbac import service_account_with_role
from .pod_templates import SYSTEM, LocalDirMedium, pod_template
from .spark import (
    BLOCK_MANAGER_PORT,
    DRIVER_ROLE,
    DRIVER_RPC_PORT,
    EXECUTOR_ROLE,
    LOCAL_DIR_PATH,
    LOCAL_DIR_VOLUME,
    SPARK_VERSION,
    UI_PORT,
    driver_role_rules,
    pod_memory_mib,
    role_selector,
    spark_memory,
    submitter_role_rules,
    whole_mebibytes,
)
from .spark import (
    DEFAULT_OVERHEAD_FACTOR as SPARK_OVERHEAD_FACTOR,
)

DRIVER_SERVICE_ACCOUNT = "openflow-driver"
EXECUTOR_SERVICE_ACCOUNT = "openflow-executor"
SUBMITTER_ROLE = "openflow-submitter"
SPARK_DEFAULTS_CONFIG_MAP = "openflow-spark-defaults"
POD_TEMPLATES_CONFIG_MAP = "openflow-pod-templates"
SPARK_DEFAULTS_KEY = "spark-defaults.conf"
DRIVER_TEMPLATE_KEY = "driver-pod-template.yaml"
EXECUTOR_TEMPLATE_KEY = "executor-pod-template.yaml"
TEMPLATE_DIR = "${env:SPARK_CONF_DIR}"
"""Where spark-defaults points for the templates: Spark substitutes ``${env:...}`` in config
entries, and spark-submit's launcher exports ``SPARK_CONF_DIR`` (``$SPARK_HOME/conf`` by default),
so the three files sit together wherever the submitter keeps its conf."""

DEFAULT_DRIVER_CORES = 1
DEFAULT_DRIVER_MEMORY = "2Gi"
DEFAULT_EXECUTOR_CORES = 1
DEFAULT_EXECUTOR_MEMORY = "4Gi"
DEFAULT_LOCAL_DIR_SIZE = "20Gi"
DEFAULT_ON_DEMAND_CLAIM_SIZE = "100Gi"
DEFAULT_DRIVER_MEMORY_OVERHEAD_FACTOR = SPARK_OVERHEAD_FACTOR
DEFAULT_EXECUTOR_MEMORY_OVERHEAD_FACTOR = SPARK_OVERHEAD_FACTOR
DEFAULT_LOCAL_DIR_MEDIUM = LocalDirMedium.DISK.value
DEFAULT_API_SERVER_PORT = 443
DEFAULT_EXECUTOR_INSTANCES = 2


class DynamicAllocation(TypedDict):
    """Executors Spark adds and removes with the load (``spark.dynamicAllocation.*``)."""

    min_executors: int
    """``minExecutors``: kept even when idle."""
    max_executors: int
    """``maxExecutors``: the ceiling the namespace quota is sized for."""
    initial_executors: NotRequired[int]
    """``initialExecutors``. Default: ``min_executors``."""


class UiClients(TypedDict):
    """Pods allowed to reach the driver's UI (port 4040), e.g. the cluster's ingress controller."""

    namespace: str
    """Their namespace."""
    labels: dict[str, str]
    """Their pod labels."""


class DataEndpoint(TypedDict):
    """A place jobs read or write data (object store endpoint, database): an egress rule."""

    name: str
    """What it is (a DNS label, used in the NetworkPolicy name)."""
    cidrs: list[str]
    """Its addresses (CIDR blocks)."""
    ports: list[int]
    """Its TCP ports."""


class OpenflowSubmitEnvironmentArgs(TypedDict, total=False):
    """Inputs of :class:`OpenflowSubmitEnvironment`."""

    namespace: Required[pulumi.Input[str]]
    """The openflow namespace (e.g. ``NamespaceGuardrails.namespace_name``)."""
    env: Required[str]
    """Environment (labels)."""
    image: Required[pulumi.Input[str]]
    """The Spark image jobs run, pinned (``apache/spark:4.0.1`` or its ECR mirror): Spark 4.0.1's
    driver is what the Role is written for."""
    driver_cores: int
    """``spark.driver.cores`` (the driver pod's CPU request). Default: ``1``."""
    driver_memory: str
    """``spark.driver.memory`` as a quantity in whole MiB (heap; the pod adds the overhead).
    Default: ``2Gi``."""
    driver_memory_overhead_factor: float
    """``spark.driver.memoryOverheadFactor``. Default: ``0.1`` (JVM jobs; 0.4 suits PySpark)."""
    executor_cores: int
    """``spark.executor.cores``: task slots and the executor pod's CPU request. Default: ``1``."""
    executor_memory: str
    """``spark.executor.memory`` as a quantity in whole MiB. Default: ``4Gi``."""
    executor_memory_overhead_factor: float
    """``spark.executor.memoryOverheadFactor``. Default: ``0.1``."""
    executor_instances: int
    """``spark.executor.instances`` without dynamic allocation. Default: ``2``."""
    dynamic_allocation: DynamicAllocation
    """Dynamic allocation bounds; with shuffle tracking (Kubernetes has no external shuffle
    service). Default: off, ``executor_instances`` executors."""
    local_dir_medium: LocalDirMedium
    """Where local dirs live. Default: ``disk``."""
    local_dir_size: str
    """Size limit of each pod's local dir. Default: ``20Gi``."""
    on_demand_claim_storage_class: str
    """If set, each executor's local dir is a claim Spark creates at run time (``OnDemand``) in this
    StorageClass, instead of an emptyDir. Default: none."""
    on_demand_claim_size: str
    """Size of each on-demand claim. Default: ``100Gi``."""
    api_server_cidrs: Required[list[str]]
    """The Kubernetes API server's addresses (the driver creates executors)."""
    api_server_port: int
    """Its port. Default: ``443``."""
    ui_clients: UiClients
    """Who may reach the driver UI on 4040 besides ``kubectl port-forward`` (which NetworkPolicy
    does not filter). Default: nobody."""
    data_endpoints: list[DataEndpoint]
    """Where drivers and executors may connect for data. Default: none."""
    submitter_groups: list[str]
    """Kubernetes groups bound to a Role for ``spark-submit --deploy-mode cluster`` in this
    namespace (create the driver pod, Service and ConfigMaps; status and kill). Default: none."""


def _dynamic_bounds(args: Mapping[str, Any]) -> str | None:
    dynamic = args.get("dynamic_allocation")
    if dynamic is None:
        return None
    low, high = dynamic["min_executors"], dynamic["max_executors"]
    initial = dynamic.get("initial_executors", low)
    if high < 1:
        return "max_executors must be at least 1"
    if low > high:
        return f"min_executors ({low}) is above max_executors ({high})"
    if not low <= initial <= high:
        return f"initial_executors ({initial}) is not between min_executors and max_executors"
    return None


def _exclusive(args: Mapping[str, Any]) -> str | None:
    if "dynamic_allocation" in args and "executor_instances" in args:
        return "set executor_instances or dynamic_allocation, not both"
    return None


def _whole_mib(key: str) -> Any:
    def predicate(args: Mapping[str, Any]) -> str | None:
        value = args.get(key)
        if value is None or isinstance(value, pulumi.Output):
            return None
        try:
            whole_mebibytes(value)
        except ValueError as exc:
            return str(exc)
        return None

    return v.rule(key, predicate)


def _factor(value: object) -> float:
    number = v.positive_number(value)
    if number > 10:
        raise ValueError(f"{number} is not an overhead factor (a fraction of the heap, e.g. 0.1 or 0.4)")
    return number


ARGS = v.ArgsSpec(
    "OpenflowSubmitEnvironment",
    OpenflowSubmitEnvironmentArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "image": v.image_reference,
        "driver_cores": v.positive_int,
        "driver_memory": v.memory,
        "driver_memory_overhead_factor": _factor,
        "executor_cores": v.positive_int,
        "executor_memory": v.memory,
        "executor_memory_overhead_factor": _factor,
        "executor_instances": v.positive_int,
        "dynamic_allocation": v.ArgsSpec(
            "DynamicAllocation",
            DynamicAllocation,
            {
                "min_executors": v.non_negative_int,
                "max_executors": v.positive_int,
                "initial_executors": v.non_negative_int,
            },
        ),
        "local_dir_medium": v.one_of(LocalDirMedium),
        "local_dir_size": v.storage,
        "on_demand_claim_storage_class": v.object_name,
        "on_demand_claim_size": v.storage,
        "api_server_cidrs": v.list_of(v.cidr, min_length=1),
        "api_server_port": v.port,
        "ui_clients": v.ArgsSpec("UiClients", UiClients, PEER_CHECKS),
        "data_endpoints": v.list_of(v.ArgsSpec("DataEndpoint", DataEndpoint, ENDPOINT_CHECKS)),
        "submitter_groups": v.list_of(v.non_empty_text),
    },
    rules=[
        v.rule("dynamic_allocation", _dynamic_bounds),
        v.rule("dynamic_allocation", _exclusive),
        _whole_mib("driver_memory"),
        _whole_mib("executor_memory"),
    ],
)


def spark_defaults(
    namespace: str,
    image: str,
    args: Mapping[str, Any],
) -> dict[str, str]:
    """The ``spark-defaults.conf`` properties that bind a job to this environment.

    Everything a job would otherwise take from Spark's defaults and get wrong here: the namespace and
    accounts (else ``default``, which has no Role and a token), the templates (else no security
    context: rejected by restricted admission), fixed ports (else the executors' block manager
    listens on a random port no NetworkPolicy can name), sizes the quota was checked against, and
    dynamic allocation with shuffle tracking (no external shuffle service on Kubernetes).
    """
    driver_mib = whole_mebibytes(args.get("driver_memory", DEFAULT_DRIVER_MEMORY))
    executor_mib = whole_mebibytes(args.get("executor_memory", DEFAULT_EXECUTOR_MEMORY))
    props: dict[str, str] = {
        "spark.kubernetes.namespace": namespace,
        "spark.kubernetes.container.image": image,
        "spark.kubernetes.container.image.pullPolicy": "IfNotPresent",
        "spark.kubernetes.authenticate.driver.serviceAccountName": DRIVER_SERVICE_ACCOUNT,
        "spark.kubernetes.authenticate.executor.serviceAccountName": EXECUTOR_SERVICE_ACCOUNT,
        "spark.kubernetes.driver.podTemplateFile": f"{TEMPLATE_DIR}/{DRIVER_TEMPLATE_KEY}",
        "spark.kubernetes.executor.podTemplateFile": f"{TEMPLATE_DIR}/{EXECUTOR_TEMPLATE_KEY}",
        "spark.kubernetes.driver.service.deleteOnTermination": "true",
        "spark.kubernetes.executor.deleteOnTermination": "true",
        "spark.driver.port": str(DRIVER_RPC_PORT),
        "spark.driver.blockManager.port": str(BLOCK_MANAGER_PORT),
        "spark.blockManager.port": str(BLOCK_MANAGER_PORT),
        "spark.ui.port": str(UI_PORT),
        "spark.driver.cores": str(args.get("driver_cores", DEFAULT_DRIVER_CORES)),
        "spark.driver.memory": spark_memory(driver_mib),
        "spark.driver.memoryOverheadFactor": str(
            args.get("driver_memory_overhead_factor", DEFAULT_DRIVER_MEMORY_OVERHEAD_FACTOR)
        ),
        "spark.executor.cores": str(args.get("executor_cores", DEFAULT_EXECUTOR_CORES)),
        "spark.executor.memory": spark_memory(executor_mib),
        "spark.executor.memoryOverheadFactor": str(
            args.get("executor_memory_overhead_factor", DEFAULT_EXECUTOR_MEMORY_OVERHEAD_FACTOR)
        ),
        # the JVM's user home is not writable with a read-only root filesystem
        "spark.jars.ivy": "/tmp/.ivy2",
    }
    dynamic = args.get("dynamic_allocation")
    if dynamic is not None:
        props.update(
            {
                "spark.dynamicAllocation.enabled": "true",
                "spark.dynamicAllocation.shuffleTracking.enabled": "true",
                "spark.dynamicAllocation.minExecutors": str(dynamic["min_executors"]),
                "spark.dynamicAllocation.maxExecutors": str(dynamic["max_executors"]),
                "spark.dynamicAllocation.initialExecutors": str(
                    dynamic.get("initial_executors", dynamic["min_executors"])
                ),
            }
        )
    else:
        props["spark.dynamicAllocation.enabled"] = "false"
        props["spark.executor.instances"] = str(args.get("executor_instances", DEFAULT_EXECUTOR_INSTANCES))
    storage_class = args.get("on_demand_claim_storage_class")
    if storage_class is not None:
        claim = f"spark.kubernetes.executor.volumes.persistentVolumeClaim.{LOCAL_DIR_VOLUME}"
        props.update(
            {
                f"{claim}.options.claimName": "OnDemand",
                f"{claim}.options.storageClass": storage_class,
                f"{claim}.options.sizeLimit": str(
                    args.get("on_demand_claim_size", DEFAULT_ON_DEMAND_CLAIM_SIZE)
                ),
                f"{claim}.mount.path": LOCAL_DIR_PATH,
                f"{claim}.mount.readOnly": "false",
                # the driver owns the claims (deleted with it) and hands a finished executor's claim
                # to its replacement instead of creating another
                "spark.kubernetes.driver.ownPersistentVolumeClaim": "true",
                "spark.kubernetes.driver.reusePersistentVolumeClaim": "true",
            }
        )
    return dict(sorted(props.items()))


def spark_defaults_text(props: Mapping[str, str]) -> str:
    """``spark-defaults.conf``: one ``key value`` per line (Spark reads it as Java properties)."""
    header = f"# openflow: Spark {SPARK_VERSION} defaults for this namespace (generated by flow-platform)\n"
    return header + "".join(f"{key} {value}\n" for key, value in sorted(props.items()))


def pod_templates(env: str, image: str, args: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The driver and executor templates, sized as Spark will size the pods."""
    driver_mib = whole_mebibytes(args.get("driver_memory", DEFAULT_DRIVER_MEMORY))
    executor_mib = whole_mebibytes(args.get("executor_memory", DEFAULT_EXECUTOR_MEMORY))
    medium = args.get("local_dir_medium", DEFAULT_LOCAL_DIR_MEDIUM)
    size = args.get("local_dir_size", DEFAULT_LOCAL_DIR_SIZE)
    on_demand = args.get("on_demand_claim_storage_class") is not None
    return {
        DRIVER_ROLE: pod_template(
            DRIVER_ROLE,
            env,
            image,
            DRIVER_SERVICE_ACCOUNT,
            str(args.get("driver_cores", DEFAULT_DRIVER_CORES)),
            pod_memory_mib(
                driver_mib, args.get("driver_memory_overhead_factor", DEFAULT_DRIVER_MEMORY_OVERHEAD_FACTOR)
            ),
            size,
            medium,
        ),
        EXECUTOR_ROLE: pod_template(
            EXECUTOR_ROLE,
            env,
            image,
            EXECUTOR_SERVICE_ACCOUNT,
            str(args.get("executor_cores", DEFAULT_EXECUTOR_CORES)),
            pod_memory_mib(
                executor_mib,
                args.get("executor_memory_overhead_factor", DEFAULT_EXECUTOR_MEMORY_OVERHEAD_FACTOR),
            ),
            None if on_demand else size,
            medium,
        ),
    }


def network_policy_specs(
    api_server_cidrs: list[str],
    api_server_port: int,
    ui_clients: Mapping[str, Any] | None = None,
    data_endpoints: "Sequence[Mapping[str, Any]] | None" = None,
) -> dict[str, dict[str, Any]]:
    """Spark's flows, by policy name: executor -> driver 7078/7079, executor <-> executor 7079,
    driver -> executor 7079, driver -> API server, UI clients -> driver 4040, all -> DNS."""
    driver, executor = role_selector(DRIVER_ROLE), role_selector(EXECUTOR_ROLE)
    specs: dict[str, dict[str, Any]] = {
        "openflow-driver-from-executors": ingress_spec(
            driver, [pod_peer(executor)], ports(DRIVER_RPC_PORT, BLOCK_MANAGER_PORT)
        ),
        "openflow-driver-to-executors": egress_spec(driver, [pod_peer(executor)], ports(BLOCK_MANAGER_PORT)),
        "openflow-driver-to-api-server": api_server_egress_spec(driver, api_server_cidrs, api_server_port),
        "openflow-driver-dns": dns_egress_spec(driver),
        "openflow-executor-from-spark": ingress_spec(
            executor, [pod_peer(driver), pod_peer(executor)], ports(BLOCK_MANAGER_PORT)
        ),
        "openflow-executor-to-driver": egress_spec(
            executor, [pod_peer(driver)], ports(DRIVER_RPC_PORT, BLOCK_MANAGER_PORT)
        ),
        "openflow-executor-to-executors": egress_spec(
            executor, [pod_peer(executor)], ports(BLOCK_MANAGER_PORT)
        ),
        "openflow-executor-dns": dns_egress_spec(executor),
    }
    if ui_clients is not None:
        specs["openflow-driver-ui"] = ingress_spec(
            driver, [pod_peer(dict(ui_clients["labels"]), ui_clients["namespace"])], ports(UI_PORT)
        )
    for endpoint in data_endpoints or []:
        for role, selector in ((DRIVER_ROLE, driver), (EXECUTOR_ROLE, executor)):
            specs[f"openflow-{role}-to-{endpoint['name']}"] = endpoint_egress_spec(selector, endpoint)
    return specs


class OpenflowSubmitEnvironment(pulumi.ComponentResource):
    """Driver and executor accounts, the driver's Role, pod templates, spark-defaults and Spark's
    NetworkPolicies in one namespace: ``spark-submit --deploy-mode cluster`` with these defaults runs
    restricted, least-privilege jobs sized for the namespace's quota."""

    driver_service_account: pulumi.Output[str]
    """The driver's account (``spark.kubernetes.authenticate.driver.serviceAccountName``)."""
    executor_service_account: pulumi.Output[str]
    """The executors' account, without a token."""
    spark_defaults_config_map: pulumi.Output[str]
    """The ConfigMap holding ``spark-defaults.conf``."""
    pod_templates_config_map: pulumi.Output[str]
    """The ConfigMap holding ``driver-pod-template.yaml`` and ``executor-pod-template.yaml``."""
    spark_defaults: pulumi.Output[dict[str, str]]
    """The properties in ``spark-defaults.conf``."""

    def __init__(
        self, name: str, args: OpenflowSubmitEnvironmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:OpenflowSubmitEnvironment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace, env, image = args["namespace"], args["env"], args["image"]
        driver_labels = standard_labels(DRIVER_SERVICE_ACCOUNT, env, SYSTEM, component="spark-driver")
        executor_labels = standard_labels(EXECUTOR_SERVICE_ACCOUNT, env, SYSTEM, component="spark-executor")
        labels = standard_labels("openflow", env, SYSTEM, component="spark-submit")

        rbac = service_account_with_role(
            f"{name}-driver", DRIVER_SERVICE_ACCOUNT, namespace, driver_role_rules(), driver_labels, child
        )
        executor_account = k8s.core.v1.ServiceAccount(
            f"{name}-executor-service-account",
            metadata={"name": EXECUTOR_SERVICE_ACCOUNT, "namespace": namespace, "labels": executor_labels},
            automount_service_account_token=False,
            opts=child,
        )
        groups = args.get("submitter_groups", [])
        if groups:
            submitter_labels = standard_labels(SUBMITTER_ROLE, env, SYSTEM, component="spark-submitter")
            submitter_metadata: Any = {
                "name": SUBMITTER_ROLE,
                "namespace": namespace,
                "labels": submitter_labels,
            }
            submitter_rules: Any = submitter_role_rules()
            k8s.rbac.v1.Role(
                f"{name}-submitter-role", metadata=submitter_metadata, rules=submitter_rules, opts=child
            )
            role_ref: Any = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": SUBMITTER_ROLE}
            subjects: Any = [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in sorted(groups)
            ]
            k8s.rbac.v1.RoleBinding(
                f"{name}-submitter-role-binding",
                metadata=submitter_metadata,
                role_ref=role_ref,
                subjects=subjects,
                opts=child,
            )

        inputs = pulumi.Output.all(pulumi.Output.from_input(namespace), pulumi.Output.from_input(image))
        templates = inputs.apply(lambda ns_image: pod_templates(env, ns_image[1], args))
        config_opts = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[*rbac, executor_account])
        )
        template_map = k8s.core.v1.ConfigMap(
            f"{name}-pod-templates",
            metadata={"name": POD_TEMPLATES_CONFIG_MAP, "namespace": namespace, "labels": labels},
            data={
                DRIVER_TEMPLATE_KEY: templates.apply(
                    lambda t: yaml.safe_dump(t[DRIVER_ROLE], sort_keys=True)
                ),
                EXECUTOR_TEMPLATE_KEY: templates.apply(
                    lambda t: yaml.safe_dump(t[EXECUTOR_ROLE], sort_keys=True)
                ),
            },
            opts=config_opts,
        )
        props = inputs.apply(lambda ns_image: spark_defaults(ns_image[0], ns_image[1], args))
        defaults_map = k8s.core.v1.ConfigMap(
            f"{name}-spark-defaults",
            metadata={"name": SPARK_DEFAULTS_CONFIG_MAP, "namespace": namespace, "labels": labels},
            data={SPARK_DEFAULTS_KEY: props.apply(spark_defaults_text)},
            opts=config_opts,
        )

        specs = network_policy_specs(
            args["api_server_cidrs"],
            args.get("api_server_port", DEFAULT_API_SERVER_PORT),
            args.get("ui_clients"),
            args.get("data_endpoints"),
        )
        network_policies(name, namespace, specs, labels, child, prefix="openflow-")

        self.driver_service_account = pulumi.Output.from_input(DRIVER_SERVICE_ACCOUNT)
        self.executor_service_account = pulumi.Output.from_input(EXECUTOR_SERVICE_ACCOUNT)
        self.spark_defaults_config_map = defaults_map.metadata.name
        self.pod_templates_config_map = template_map.metadata.name
        self.spark_defaults = props
        self.register_outputs(
            {
                "driver_service_account": self.driver_service_account,
                "executor_service_account": self.executor_service_account,
                "spark_defaults_config_map": self.spark_defaults_config_map,
                "pod_templates_config_map": self.pod_templates_config_map,
                "spark_defaults": props,
            }
        )
