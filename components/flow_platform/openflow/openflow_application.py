"""One Spark-style application run by the kubeflow spark-operator: a SparkApplication CR (v1beta2).

The operator runs without its webhook (see :mod:`.spark_operator`), so everything Pod Security
checks is in the CR's ``spec.driver.template`` / ``spec.executor.template``: Spark's own pod
templates, merged by Spark with the container it builds (image, resources, ports, env). The CR's
``securityContext``/``podSecurityContext``/``volumes``/``env`` fields are never set: without the
webhook they would be ignored silently.
"""

from enum import StrEnum
from typing import Any, Required, TypedDict

import pulumi

from .. import PACKAGE
from .. import validation as v
from ..k8s.chart import custom_resource
from ..k8s.labels import standard_labels
from .openflow_submit_environment import DynamicAllocation
from .pod_templates import LocalDirMedium, pod_template
from .spark import (
    DEFAULT_OVERHEAD_FACTOR as SPARK_OVERHEAD_FACTOR,
)
from .spark import (
    DRIVER_CONTAINER,
    DRIVER_ROLE,
    EXECUTOR_CONTAINER,
    EXECUTOR_ROLE,
    memory_overhead_mib,
    pod_memory_mib,
    spark_memory,
    whole_mebibytes,
)

API_VERSION = "sparkoperator.k8s.io/v1beta2"
CONTROLLER_CONTAINER_NAMES = (DRIVER_CONTAINER, EXECUTOR_CONTAINER)
"""The container names the 2.5.2 controller tells spark-submit to take from the templates
(pkg/common/spark.go ``SparkDriverContainerName``, ``Spark3DefaultExecutorContainerName``): the
same as Spark's own, which the openflow pod templates use."""
MIN_SPARK_VERSION = (3, 0, 0)
"""Below 3.0.0 the controller ignores the templates and marks pods for the (absent) webhook."""
MAX_NAME_LENGTH = 56
"""The operator names the application's UI Service ``<name>-ui-svc``: a Service name has at most 63."""
DEFAULT_MEMORY_OVERHEAD_FACTOR = SPARK_OVERHEAD_FACTOR
DEFAULT_LOCAL_DIR_MEDIUM = LocalDirMedium.DISK.value
DEFAULT_LOCAL_DIR_SIZE = "20Gi"
MAX_OVERHEAD_FACTOR = 10.0
DEFAULT_TYPE = "Scala"
DEFAULT_RETRIES = 0
DEFAULT_TIME_TO_LIVE_SECONDS = 86400
"""Finished applications (and their driver pod, kept for its logs) are deleted after a day."""

RESERVED_CONF = {
    "spark.master": "set by the operator",
    "spark.submit.deployMode": "cluster mode is set by the operator",
    "spark.kubernetes.namespace": "the application's namespace",
    "spark.kubernetes.container.image": "image",
    "spark.kubernetes.authenticate.driver.serviceAccountName": "driver_service_account",
    "spark.kubernetes.authenticate.executor.serviceAccountName": "executor_service_account",
    "spark.kubernetes.driver.podTemplateFile": "the driver template flow-platform builds",
    "spark.kubernetes.executor.podTemplateFile": "the executor template flow-platform builds",
    "spark.driver.cores": "driver.cores",
    "spark.driver.memory": "driver.memory",
    "spark.executor.cores": "executor.cores",
    "spark.executor.memory": "executor.memory",
    "spark.executor.instances": "executor.instances",
    "spark.dynamicAllocation.enabled": "dynamic_allocation",
    "spark.dynamicAllocation.minExecutors": "dynamic_allocation.min_executors",
    "spark.dynamicAllocation.maxExecutors": "dynamic_allocation.max_executors",
    "spark.dynamicAllocation.shuffleTracking.enabled": "dynamic_allocation (always on: no shuffle service)",
    "spark.kubernetes.memoryOverheadFactor": "memory_overhead_factor",
}
"""Spark settings the CR's own fields decide; a ``spark_conf`` entry for one is refused."""


class ApplicationType(StrEnum):
    """The application's language (SparkApplication ``spec.type``)."""

    SCALA = "Scala"
    """A JVM application in Scala (``main_class`` names its entry point)."""
    JAVA = "Java"
    """A JVM application in Java (``main_class`` names its entry point)."""
    PYTHON = "Python"
    """A PySpark script (the non-JVM overhead factor 0.40 is Spark's default for it)."""
    R = "R"
    """A SparkR script."""


class SparkProcess(TypedDict, total=False):
    """The driver's size."""

    cores: Required[int]
    """CPU cores (the pod's CPU request)."""
    memory: Required[str]
    """JVM heap as a Kubernetes quantity in whole MiB (``2Gi``); the pod gets this plus the overhead."""
    memory_overhead_factor: float
    """Non-heap memory as a fraction of the heap (at least 384 MiB). Default: the application's."""


class SparkExecutors(TypedDict, total=False):
    """The executors' size and number."""

    cores: Required[int]
    """CPU cores per executor."""
    memory: Required[str]
    """JVM heap per executor as a Kubernetes quantity in whole MiB; the pod gets this plus the overhead."""
    memory_overhead_factor: float
    """Non-heap memory as a fraction of the heap (at least 384 MiB). Default: the application's."""
    instances: int
    """Executors without dynamic allocation. Default: ``1``."""


class OpenflowApplicationArgs(TypedDict, total=False):
    """Inputs of :class:`OpenflowApplication`."""

    namespace: Required[str]
    """The openflow namespace (one of the operator's job namespaces)."""
    env: Required[str]
    """Environment (labels)."""
    name: Required[str]
    """The SparkApplication's name (its driver pod is ``<name>-driver``)."""
    image: Required[str]
    """The Spark image, pinned (the mirror's copy)."""
    spark_version: Required[str]
    """The image's Spark version (3.0.0 or newer: older ones need the webhook)."""
    type: ApplicationType
    """The application's language. Default: ``Scala``."""
    main_application_file: Required[str]
    """The jar or script (``local:///opt/spark/examples/jars/...``, ``s3a://...``)."""
    main_class: str
    """The JVM entry point (Scala/Java). Default: the jar manifest's ``Main-Class``."""
    arguments: list[str]
    """Arguments of the application. Default: none."""
    spark_conf: dict[str, str]
    """Further Spark settings; those the fields above decide are refused. Default: none."""
    driver: Required[SparkProcess]
    """The driver's size."""
    executor: Required[SparkExecutors]
    """The executors' size (and number without dynamic allocation)."""
    dynamic_allocation: DynamicAllocation
    """Scale executors between bounds, with shuffle tracking (no external shuffle service). Default: off."""
    memory_overhead_factor: float
    """Non-heap memory as a fraction of the heap (at least 384 MiB). Default: ``0.1``."""
    local_dir_medium: LocalDirMedium
    """Where Spark's local dirs live (disk, or memory counted in the pod). Default: ``disk``."""
    local_dir_size: str
    """Size of each pod's local dir. Default: ``20Gi``."""
    driver_service_account: Required[str]
    """The namespace's driver ServiceAccount (may manage executor pods, their ConfigMap and services)."""
    executor_service_account: Required[str]
    """The namespace's executor ServiceAccount (no API access; its token is not mounted)."""
    time_to_live_seconds: int
    """Delete the finished application after this long. Default: ``86400``."""
    retries: int
    """Re-run a failed application this often (``restartPolicy: OnFailure``). Default: ``0`` (Never)."""


def _spark_version(value: object) -> str:
    text = v.non_empty_text(value)
    parts = text.split("-")[0].split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a Spark version such as 4.0.1")
    if tuple(int(p) for p in parts) < MIN_SPARK_VERSION:
        raise ValueError(f"{text}: the operator applies pod templates only from Spark 3.0.0 on")
    return text


def check_application_name(value: object, limit: int = MAX_NAME_LENGTH) -> str:
    name = v.dns_label(value)
    if len(name) > limit:
        raise ValueError(
            f"{name!r} has {len(name)} characters; at most {limit} (the UI Service adds -ui-svc)"
        )
    return name


def _spark_conf(value: object) -> dict[str, str]:
    conf: dict[str, str] = v.map_of(v.text)(value)
    for key in conf:
        if key in RESERVED_CONF:
            raise ValueError(f"{key!r} is decided by {RESERVED_CONF[key]}; set that instead")
    return conf


def _overhead(value: object) -> float:
    factor = v.positive_number(value)
    if factor > MAX_OVERHEAD_FACTOR:
        raise ValueError(f"{factor} is above {MAX_OVERHEAD_FACTOR} (a fraction of the heap)")
    return factor


def _whole_mib_memory(value: object) -> str:
    text = str(v.memory(value))
    whole_mebibytes(text)  # Spark sizes memory in MiB
    return text


PROCESS = v.ArgsSpec(
    "SparkProcess",
    SparkProcess,
    {"cores": v.positive_int, "memory": _whole_mib_memory, "memory_overhead_factor": _overhead},
)
EXECUTORS = v.ArgsSpec(
    "SparkExecutors",
    SparkExecutors,
    {
        "cores": v.positive_int,
        "memory": _whole_mib_memory,
        "memory_overhead_factor": _overhead,
        "instances": v.positive_int,
    },
)
DYNAMIC = v.ArgsSpec(
    "DynamicAllocation",
    DynamicAllocation,
    {
        "min_executors": v.non_negative_int,
        "max_executors": v.positive_int,
        "initial_executors": v.non_negative_int,
    },
    rules=[
        v.rule(
            "max_executors",
            lambda a: (
                f"below min_executors ({a['min_executors']})"
                if a["max_executors"] < a["min_executors"]
                else None
            ),
        ),
        v.rule(
            "initial_executors",
            lambda a: (
                "not between min_executors and max_executors"
                if not a["min_executors"]
                <= a.get("initial_executors", a["min_executors"])
                <= a["max_executors"]
                else None
            ),
        ),
    ],
)
APPLICATION_CHECKS: dict[str, Any] = {
    "namespace": v.namespace_name,
    "env": v.label_value,
    "name": check_application_name,
    "image": v.image_reference,
    "spark_version": _spark_version,
    "type": v.one_of(ApplicationType),
    "main_application_file": v.non_empty_text,
    "main_class": v.non_empty_text,
    "arguments": v.list_of(v.text),
    "spark_conf": _spark_conf,
    "driver": PROCESS,
    "executor": EXECUTORS,
    "dynamic_allocation": DYNAMIC,
    "memory_overhead_factor": _overhead,
    "local_dir_medium": v.one_of(LocalDirMedium),
    "local_dir_size": v.storage,
    "driver_service_account": v.object_name,
    "executor_service_account": v.object_name,
    "time_to_live_seconds": v.positive_int,
    "retries": v.non_negative_int,
}
APPLICATION_RULES = [
    v.rule(
        "executor",
        lambda a: (
            "instances and dynamic_allocation exclude each other"
            if "instances" in a["executor"] and "dynamic_allocation" in a
            else None
        ),
    ),
]
ARGS = v.ArgsSpec("OpenflowApplication", OpenflowApplicationArgs, APPLICATION_CHECKS, APPLICATION_RULES)


def _role(args: OpenflowApplicationArgs, role: str) -> dict[str, Any]:
    """A role's CR fields: cores, heap and overhead in Spark's notation, its account, and its pod
    template (openflow's restricted template, sized as Spark sizes the pod)."""
    process: Any = args["driver"] if role == DRIVER_ROLE else args["executor"]
    account = args["driver_service_account"] if role == DRIVER_ROLE else args["executor_service_account"]
    factor = process.get(
        "memory_overhead_factor", args.get("memory_overhead_factor", DEFAULT_MEMORY_OVERHEAD_FACTOR)
    )
    heap = whole_mebibytes(process["memory"])
    template = pod_template(
        role,
        args["env"],
        args["image"],
        account,
        str(process["cores"]),
        pod_memory_mib(heap, factor),
        args.get("local_dir_size", DEFAULT_LOCAL_DIR_SIZE),
        args.get("local_dir_medium", DEFAULT_LOCAL_DIR_MEDIUM),
    )
    labels = standard_labels(args["name"], args["env"], "openflow", component="application")
    return {
        "cores": process["cores"],
        "memory": spark_memory(heap),
        # per role, as Spark computes it (the CR's one memoryOverheadFactor is for both)
        "memoryOverhead": spark_memory(memory_overhead_mib(heap, factor)),
        "serviceAccount": account,
        "labels": labels,
        "template": {"metadata": template["metadata"], "spec": template["spec"]},
    }


def application_spec(args: OpenflowApplicationArgs) -> dict[str, Any]:
    """The SparkApplication ``spec`` (pure; valid against the 2.5.2 CRD: tested)."""
    factor = args.get("memory_overhead_factor", DEFAULT_MEMORY_OVERHEAD_FACTOR)
    executor = args["executor"]
    spec: dict[str, Any] = {
        "type": args.get("type", DEFAULT_TYPE),
        "mode": "cluster",
        "sparkVersion": args["spark_version"],
        "image": args["image"],
        "imagePullPolicy": "IfNotPresent",
        "mainApplicationFile": args["main_application_file"],
    }
    if args.get("main_class"):
        spec["mainClass"] = args["main_class"]
    if args.get("arguments"):
        spec["arguments"] = list(args["arguments"])
    if args.get("spark_conf"):
        spec["sparkConf"] = dict(sorted(args["spark_conf"].items()))
    spec["memoryOverheadFactor"] = str(factor)
    retries = args.get("retries", DEFAULT_RETRIES)
    spec["restartPolicy"] = (
        {"type": "OnFailure", "onFailureRetries": retries, "onSubmissionFailureRetries": retries}
        if retries
        else {"type": "Never"}
    )
    spec["timeToLiveSeconds"] = args.get("time_to_live_seconds", DEFAULT_TIME_TO_LIVE_SECONDS)
    spec["driver"] = _role(args, DRIVER_ROLE)
    spec["executor"] = _role(args, EXECUTOR_ROLE)
    dynamic = args.get("dynamic_allocation")
    if dynamic:
        spec["dynamicAllocation"] = {
            "enabled": True,
            "minExecutors": dynamic["min_executors"],
            "maxExecutors": dynamic["max_executors"],
            "shuffleTrackingEnabled": True,
        }
        if "initial_executors" in dynamic:
            spec["dynamicAllocation"]["initialExecutors"] = dynamic["initial_executors"]
    else:
        spec["executor"]["instances"] = executor.get("instances", 1)
    return spec


def spark_application(args: OpenflowApplicationArgs) -> dict[str, Any]:
    """The whole SparkApplication object (pure)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "SparkApplication",
        "metadata": {
            "name": args["name"],
            "namespace": args["namespace"],
            "labels": standard_labels(args["name"], args["env"], "openflow", component="application"),
        },
        "spec": application_spec(args),
    }


def register_application(
    component: pulumi.ComponentResource, name: str, doc: dict[str, Any]
) -> pulumi.Output[str]:
    """``doc`` (a SparkApplication or ScheduledSparkApplication) as the component's child
    ``<name>-<kind>`` (stable), and the component's outputs: the application's name, returned for
    its ``application_name``."""
    custom_resource(f"{name}-{doc['kind'].lower()}", doc, pulumi.ResourceOptions(parent=component))
    application_name = pulumi.Output.from_input(str(doc["metadata"]["name"]))
    component.register_outputs({"application_name": application_name})
    return application_name


class OpenflowApplication(pulumi.ComponentResource):
    """A SparkApplication the spark-operator submits (create it after the operator and its CRDs:
    pass them in ``depends_on``)."""

    application_name: pulumi.Output[str]
    """The SparkApplication's name."""

    def __init__(
        self, name: str, args: OpenflowApplicationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:OpenflowApplication", name, None, opts)
        self.application_name = register_application(self, name, spark_application(args))
