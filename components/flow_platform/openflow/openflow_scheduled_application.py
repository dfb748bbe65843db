"""A Spark-style application run on a schedule by the spark-operator: a ScheduledSparkApplication CR
(v1beta2) whose ``spec.template`` is exactly :func:`.openflow_application.application_spec`."""

from enum import StrEnum
from typing import Any, Required, TypedDict

import pulumi

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import standard_labels
from .openflow_application import (
    API_VERSION,
    APPLICATION_CHECKS,
    APPLICATION_RULES,
    MAX_NAME_LENGTH,
    OpenflowApplicationArgs,
    application_spec,
    check_application_name,
    register_application,
)

DEFAULT_SUCCESSFUL_RUN_HISTORY = 3
DEFAULT_FAILED_RUN_HISTORY = 3
DEFAULT_CONCURRENCY_POLICY = "Forbid"
DEFAULT_SUSPEND = False
MAX_SCHEDULED_NAME_LENGTH = MAX_NAME_LENGTH - 20
"""Each run is named ``<name>-<unix nanoseconds>`` (19 digits, the chart's default precision)."""


class ConcurrencyPolicy(StrEnum):
    """What happens when a run is due while the previous one still runs."""

    FORBID = "Forbid"
    """Skip the new run (the default: two runs of one job rarely share data safely)."""
    ALLOW = "Allow"
    """Run both."""
    REPLACE = "Replace"
    """Stop the running one and start the new run."""


class OpenflowScheduledApplicationArgs(TypedDict, total=False):
    """Inputs of :class:`OpenflowScheduledApplication`: an application plus its schedule."""

    application: Required[OpenflowApplicationArgs]
    """The application each run starts (its ``name`` names the schedule; runs are
    ``<name>-<unix nanoseconds>``, so at most 36 characters)."""
    schedule: Required[str]
    """Cron schedule (five fields, the controller's time zone unless ``time_zone``)."""
    time_zone: str
    """IANA time zone of the schedule (``Europe/Warsaw``). Default: the controller's (UTC)."""
    concurrency_policy: ConcurrencyPolicy
    """A run due while the previous one runs. Default: ``Forbid``."""
    successful_run_history: int
    """Finished successful runs kept. Default: ``3``."""
    failed_run_history: int
    """Failed runs kept (with their driver pods, for the logs). Default: ``3``."""
    suspend: bool
    """Pause the schedule. Default: ``false``."""


def _time_zone(value: object) -> str:
    import zoneinfo

    text = v.non_empty_text(value)
    if text not in zoneinfo.available_timezones():
        raise ValueError(f"{text!r} is not an IANA time zone such as Europe/Warsaw")
    return text


ARGS = v.ArgsSpec(
    "OpenflowScheduledApplication",
    OpenflowScheduledApplicationArgs,
    {
        "application": v.ArgsSpec(
            "OpenflowApplicationArgs",
            OpenflowApplicationArgs,
            {
                **APPLICATION_CHECKS,
                "name": v.described(f"a DNS label of at most {MAX_SCHEDULED_NAME_LENGTH} characters")(
                    lambda value: check_application_name(value, MAX_SCHEDULED_NAME_LENGTH)
                ),
            },
            APPLICATION_RULES,
        ),
        "schedule": v.cron_schedule,
        "time_zone": _time_zone,
        "concurrency_policy": v.one_of(ConcurrencyPolicy),
        "successful_run_history": v.positive_int,
        "failed_run_history": v.positive_int,
        "suspend": v.boolean,
    },
)


def scheduled_spark_application(args: OpenflowScheduledApplicationArgs) -> dict[str, Any]:
    """The whole ScheduledSparkApplication object (pure; valid against the 2.5.2 CRD: tested)."""
    spec: dict[str, Any] = {
        "schedule": args["schedule"],
        "concurrencyPolicy": args.get("concurrency_policy", DEFAULT_CONCURRENCY_POLICY),
        "successfulRunHistoryLimit": args.get("successful_run_history", DEFAULT_SUCCESSFUL_RUN_HISTORY),
        "failedRunHistoryLimit": args.get("failed_run_history", DEFAULT_FAILED_RUN_HISTORY),
        "suspend": args.get("suspend", DEFAULT_SUSPEND),
    }
    if args.get("time_zone"):
        spec["timeZone"] = args["time_zone"]
    app = args["application"]
    spec["template"] = application_spec(app)
    return {
        "apiVersion": API_VERSION,
        "kind": "ScheduledSparkApplication",
        "metadata": {
            "name": app["name"],
            "namespace": app["namespace"],
            "labels": standard_labels(app["name"], app["env"], "openflow", component="scheduled-application"),
        },
        "spec": spec,
    }


class OpenflowScheduledApplication(pulumi.ComponentResource):
    """A ScheduledSparkApplication: the operator creates one SparkApplication per due run."""

    application_name: pulumi.Output[str]
    """The ScheduledSparkApplication's name (its runs are ``<name>-<timestamp>``)."""

    def __init__(
        self, name: str, args: OpenflowScheduledApplicationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:OpenflowScheduledApplication", name, None, opts)
        self.application_name = register_application(self, name, scheduled_spark_application(args))
