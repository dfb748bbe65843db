"""Pod labels the HyperFlow pieces select each other by."""

from ..k8s.labels import selector_labels

SYSTEM = "hyperflow"
ENGINE = "hyperflow-engine"
REDIS = "redis"
JOB_LABEL = "hyperflow.io/job"
"""Label on every pod the engine starts from the job template."""


def engine_selector(env: str) -> dict[str, str]:
    return selector_labels(ENGINE, env)


def job_selector(env: str) -> dict[str, str]:
    return {JOB_LABEL: "true", "deployment": env}


def redis_selector(env: str) -> dict[str, str]:
    return selector_labels(REDIS, env)
