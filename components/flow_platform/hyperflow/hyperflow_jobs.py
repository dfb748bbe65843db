"""One-shot HyperFlow Jobs: stage a workflow's input data, parse logs, draw the execution trace.

Only jobs that can run at deploy time (staging input data) are Jobs ``pulumi up`` creates and waits
for. Jobs that need a finished workflow (log parsing, trace drawing) are suspended CronJobs: templates
that never run on a schedule, started by hand after a workflow with
``kubectl create job --from=cronjob/<name> <name>-<suffix>``.
"""

from collections.abc import Mapping
from typing import Any, NotRequired, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import standard_labels
from ..k8s.resources import container_resources
from ..k8s.security import restricted_container_security_context
from .labels import SYSTEM
from .pods import WORK_DIR, work_dir_mounts, work_dir_pod

NEVER = "0 0 1 1 *"
"""The schedule of an on-demand CronJob, which is suspended anyway."""

DEFAULT_TTL_SECONDS = 3600
DEFAULT_BACKOFF_LIMIT = 1
DEFAULT_CPU = "250m"
DEFAULT_MEMORY = "512Mi"


class OneShotJob(TypedDict):
    """A Job run once with /work_dir mounted."""

    name: str
    """Job name (``data-staging``, ``log-parser``, ``viz-trace``)."""
    image: pulumi.Input[str]
    """Pinned image."""
    command: list[str]
    """What it runs, with /work_dir mounted."""
    on_demand: NotRequired[bool]
    """Needs a finished workflow: a suspended CronJob to start by hand, not a Job run by ``pulumi up``.
    Default: ``false``."""


class HyperflowJobsArgs(TypedDict, total=False):
    """Inputs of :class:`HyperflowJobs`."""

    namespace: Required[pulumi.Input[str]]
    """HyperFlow's namespace."""
    env: Required[str]
    """Environment (labels)."""
    jobs: Required[list[OneShotJob]]
    """The jobs to create."""
    work_dir_claim: Required[pulumi.Input[str]]
    """The /work_dir claim."""
    ttl_seconds: int
    """``ttlSecondsAfterFinished`` of each job. Default: ``3600``."""
    backoff_limit: int
    """``backoffLimit`` of each job. Default: ``1``."""
    cpu: str
    """CPU request of each job. Default: ``250m``."""
    memory: str
    """Memory request and limit of each job. Default: ``512Mi``."""


def _unique_jobs(args: Mapping[str, Any]) -> str | None:
    names = [job["name"] for job in args.get("jobs", [])]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    return f"job names must be unique: {', '.join(duplicates)} repeated" if duplicates else None


ARGS = v.ArgsSpec(
    "HyperflowJobs",
    HyperflowJobsArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "jobs": v.list_of(
            v.ArgsSpec(
                "OneShotJob",
                OneShotJob,
                {
                    "name": v.dns_label,
                    "image": v.image_reference,
                    "command": v.list_of(v.non_empty_text, min_length=1),
                    "on_demand": v.boolean,
                },
            )
        ),
        "work_dir_claim": v.object_name,
        "ttl_seconds": v.non_negative_int,
        "backoff_limit": v.non_negative_int,
        "cpu": v.cpu,
        "memory": v.memory,
    },
    rules=[v.rule("jobs", _unique_jobs)],
)


class HyperflowJobs(pulumi.ComponentResource):
    """Each configured job once, non-root with the restricted security context, deleted after its TTL."""

    job_names: pulumi.Output[list[str]]
    """The jobs created."""

    def __init__(
        self, name: str, args: HyperflowJobsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:HyperflowJobs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace, env = args["namespace"], args["env"]
        ttl, backoff = (
            args.get("ttl_seconds", DEFAULT_TTL_SECONDS),
            args.get("backoff_limit", DEFAULT_BACKOFF_LIMIT),
        )
        if ttl < 0 or backoff < 0:
            raise ValueError("ttl_seconds and backoff_limit cannot be negative")
        names = []
        for job in args["jobs"]:
            labels = standard_labels(job["name"], env, SYSTEM, component="one-shot")
            container: dict[str, Any] = {
                "name": job["name"],
                "image": job["image"],
                "command": job["command"],
                "workingDir": WORK_DIR,
                "env": [{"name": "HOME", "value": "/tmp"}],
                "resources": container_resources(
                    args.get("cpu", DEFAULT_CPU), args.get("memory", DEFAULT_MEMORY)
                ),
                "securityContext": restricted_container_security_context(),
                "volumeMounts": work_dir_mounts(),
            }
            spec: Any = {
                "ttlSecondsAfterFinished": ttl,
                "backoffLimit": backoff,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": work_dir_pod(container, args["work_dir_claim"]),
                },
            }
            metadata: Any = {"name": job["name"], "namespace": namespace, "labels": labels}
            if job.get("on_demand", False):
                cron_spec: Any = {
                    # never due: suspended, and 1 January 00:00 at most once a year even if resumed
                    "schedule": NEVER,
                    "suspend": True,
                    "concurrencyPolicy": "Forbid",
                    "successfulJobsHistoryLimit": 1,
                    "failedJobsHistoryLimit": 1,
                    "jobTemplate": {"metadata": {"labels": labels}, "spec": spec},
                }
                k8s.batch.v1.CronJob(f"{name}-{job['name']}", metadata=metadata, spec=cron_spec, opts=child)
            else:
                k8s.batch.v1.Job(
                    f"{name}-{job['name']}",
                    metadata=metadata,
                    spec=spec,
                    # a finished Job is immutable: a changed job is replaced, and its TTL removes the old one
                    opts=pulumi.ResourceOptions.merge(
                        child, pulumi.ResourceOptions(delete_before_replace=True)
                    ),
                )
            names.append(job["name"])
        self.job_names = pulumi.Output.from_input(names)
        self.register_outputs({"job_names": self.job_names})
