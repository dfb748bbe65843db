"""A stack made of the seeds' mistakes, for the policy pack to reject."""

import pulumi_kubernetes as k8s


def program() -> None:
    # hyperflow seed: cluster-admin for every service account in the cluster
    k8s.rbac.v1.ClusterRoleBinding(
        "serviceaccounts-cluster-admin",
        metadata={"name": "serviceaccounts-cluster-admin"},
        role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        subjects=[
            {"kind": "Group", "name": "system:serviceaccounts", "api_group": "rbac.authorization.k8s.io"}
        ],
    )
    # eventflow seed: a ClusterRole with broad verbs
    k8s.rbac.v1.ClusterRole(
        "service-update-cr",
        metadata={"name": "service-update-cr"},
        rules=[{"api_groups": ["*"], "resources": ["*"], "verbs": ["*"]}],
    )
    # flink seed: hostPath; partek seed: no limits, root, latest image, default namespace
    k8s.core.v1.Pod(
        "flowheadnode",
        metadata={"name": "flowheadnode", "namespace": "default"},
        spec={
            "containers": [
                {
                    "name": "flowheadnode",
                    "image": "registry.partek.com/rtw:latest",
                    "resources": {"requests": {"memory": "16Gi", "cpu": "8"}},
                    "security_context": {"run_as_user": 0, "capabilities": {"add": ["NET_ADMIN"]}},
                    "volume_mounts": [{"name": "flink-volume", "mount_path": "/flink-data"}],
                }
            ],
            "volumes": [{"name": "flink-volume", "host_path": {"path": "/tmp/flink", "type": "Directory"}}],
        },
    )
    # hyperflow seed: a privileged NFS server
    k8s.apps.v1.Deployment(
        "nfs-server",
        metadata={"name": "nfs-server", "namespace": "hyperflow"},
        spec={
            "selector": {"match_labels": {"role": "nfs-server"}},
            "template": {
                "metadata": {"labels": {"role": "nfs-server"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nfs-server",
                            "image": "k8s.gcr.io/volume-nfs:0.8",
                            "security_context": {"privileged": True},
                            "ports": [{"container_port": 2049, "host_port": 2049}],
                        }
                    ]
                },
            },
        },
    )
    # a namespace without any guardrail
    k8s.core.v1.Namespace("hyperflow", metadata={"name": "hyperflow"})
    k8s.core.v1.Service(
        "exposed",
        metadata={"name": "exposed", "namespace": "hyperflow"},
        spec={"type": "NodePort", "ports": [{"port": 80}], "selector": {"role": "nfs-server"}},
    )
