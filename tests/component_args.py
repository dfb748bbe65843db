"""The smallest valid ``args`` of every public component (its required keys only), for tests."""

from typing import Any

import pulumi
from flow_platform.aws import EcrMirror, EfsSharedVolume, ImageCopyJob
from flow_platform.eventflow import EventFlowCluster
from flow_platform.flink import FlinkCluster, FlinkOperator
from flow_platform.hyperflow import HyperflowEngine, HyperflowJobs, HyperflowRedis, InClusterNfsServer
from flow_platform.k8s import NamespaceGuardrails
from flow_platform.monitoring import NfrRules
from flow_platform.openflow import (
    OpenflowApplication,
    OpenflowScheduledApplication,
    OpenflowSubmitEnvironment,
    SparkOperator,
)
from flow_platform.partek import FlexLMServer, FlowHeadnode, FlowWorkers

API = ["10.0.0.1/32"]
OIDC_ARN = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"

APP: dict[str, Any] = {
    "namespace": "openflow-dev",
    "env": "dev",
    "name": "spark-pi",
    "image": "apache/spark:4.0.1",
    "spark_version": "4.0.1",
    "main_application_file": "local:///opt/spark/examples/jars/spark-examples_2.13-4.0.1.jar",
    "driver": {"cores": 1, "memory": "1Gi"},
    "executor": {"cores": 1, "memory": "1Gi"},
    "driver_service_account": "spark-driver",
    "executor_service_account": "spark-executor",
}

MINIMAL: dict[type[pulumi.ComponentResource], dict[str, Any]] = {
    NamespaceGuardrails: {
        "namespace": "team-dev",
        "env": "dev",
        "system": "partek",
        "default_request": {"cpu": "100m", "memory": "128Mi"},
        "default_limit": {"memory": "256Mi"},
        "max_limit": {"cpu": "1", "memory": "512Mi"},
        "quota": {"pods": "4"},
    },
    FlexLMServer: {
        "namespace": "lic-dev",
        "env": "dev",
        "image": "public.ecr.aws/partek-flow/kube-flexlm-server:v1.0",
        "license": "SERVER this_host ANY 27000",
        "storage_class": "gp3",
        "client_namespace": "team-dev",
        "client_labels": {"app.kubernetes.io/name": "flowheadnode"},
    },
    FlowHeadnode: {
        "namespace": "team-dev",
        "env": "dev",
        "image": "registry.partek.com/rtw:23.0809.22",
        "license_address": "27000@lic.example.com",
        "mode": "distributed",
        "cpu": "2",
        "memory": "8Gi",
        "home_claim": "flow-home",
        "ingress_host": "flow.example.com",
    },
    FlowWorkers: {
        "namespace": "team-dev",
        "env": "dev",
        "image": "registry.partek.com/rtw:23.0809.22",
        "cpu": "2",
        "memory": "8Gi",
        "home_claim": "flow-home",
    },
    FlinkOperator: {
        "namespace": "flink-operator",
        "env": "dev",
        "image_repository": "ghcr.io/apache/flink-kubernetes-operator",
        "image_tag": "1.15.0",
        "watch_namespaces": ["flink-dev"],
        "api_server_cidrs": API,
    },
    FlinkCluster: {
        "namespace": "flink-dev",
        "env": "dev",
        "name": "analytics",
        "image": "flink:1.20.1",
        "flink_version": "v1_20",
        "claim": "flink-data",
        "job_manager": {"replicas": 1, "cpu": 1.0, "memory": "2Gi"},
        "task_manager": {"replicas": 2, "cpu": 2.0, "memory": "4Gi"},
        "operator_namespace": "flink-operator",
        "api_server_cidrs": API,
    },
    HyperflowEngine: {
        "namespace": "hf-dev",
        "env": "dev",
        "image": "hyperflowwms/hyperflow:v1.5.7",
        "worker_image": "hyperflowwms/montage-workflow-worker:v1.0.0",
        "work_dir_claim": "work-dir",
        "redis_secret": "hyperflow-redis",
        "api_server_cidrs": API,
    },
    HyperflowJobs: {
        "namespace": "hf-dev",
        "env": "dev",
        "jobs": [{"name": "data-staging", "image": "busybox:1.36", "command": ["true"]}],
        "work_dir_claim": "work-dir",
    },
    HyperflowRedis: {
        "namespace": "hf-dev",
        "env": "dev",
        "image": "redis:7.2.5",
        "password": "example-password-0123456789",
    },
    InClusterNfsServer: {
        "namespace": "nfs-dev",
        "env": "dev",
        "image": "registry.k8s.io/sig-storage/nfs-provisioner:v4.0.8",
        "storage_class": "gp3",
        "client_namespace": "hf-dev",
        "claim_name": "work-dir",
        "node_cidrs": ["10.0.0.0/16"],
    },
    EventFlowCluster: {
        "namespace": "eventflow-dev",
        "env": "dev",
        "app_name": "orders",
        "image": "registry.example.com/streaming/orders-app:1.0.0",
        "admin_username": "admin",
        "admin_password": "example-password-0123456789",
        "api_server_cidrs": API,
    },
    SparkOperator: {
        "namespace": "spark-operator-dev",
        "env": "dev",
        "image": "ghcr.io/kubeflow/spark-operator/controller:2.5.2",
        "job_namespaces": ["openflow-dev"],
        "api_server_cidrs": API,
    },
    OpenflowApplication: APP,
    OpenflowScheduledApplication: {"application": APP, "schedule": "17 3 * * *"},
    EcrMirror: {
        "env": "dev",
        "account_id": "111111111111",
        "region": "us-west-2",
        "images": {"redis": "public.ecr.aws/docker/library/redis:7.2.5"},
    },
    EfsSharedVolume: {
        "env": "dev",
        "system": "partek",
        "vpc_id": "vpc-0a1b2c3d4e5f60711",
        "subnet_ids": ["subnet-0a1b2c3d4e5f60712"],
        "node_security_group_id": "sg-0a1b2c3d4e5f60719",
        "namespace": "team-dev",
        "claim_name": "flow-home",
    },
    ImageCopyJob: {
        "env": "dev",
        "namespace": "mirror-dev",
        "region": "us-west-2",
        "copies": [
            {
                "source": "registry.partek.com/rtw:23.0809.22",
                "target": "111111111111.dkr.ecr.us-west-2.amazonaws.com/flow-platform/partek-flow:23.0809.22",
            }
        ],
        "repository_arns": ["arn:aws:ecr:us-west-2:111111111111:repository/flow-platform/partek-flow"],
        "oidc_provider_arn": OIDC_ARN,
        "oidc_issuer": "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE",
        "copier_image": "quay.io/skopeo/stable:v1.16.1",
        "aws_cli_image": "public.ecr.aws/aws-cli/aws-cli:2.17.20",
        "source_auth": '{"auths": {}}',
    },
    NfrRules: {
        "namespace": "openflow-dev",
        "env": "dev",
        "namespaces": ["openflow-dev", "eventflow-dev"],
    },
    OpenflowSubmitEnvironment: {
        "namespace": "openflow-dev",
        "env": "dev",
        "image": "apache/spark:4.0.1",
        "api_server_cidrs": API,
    },
}
