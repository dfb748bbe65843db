"""Offline render: the stack's Kubernetes objects as YAML, an AWS summary and resources.json."""

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .harness import FlowMocks, RecordingMonitor, Registration, read_stack_file, run_program

RESOURCES_FILE = "resources.json"
AWS_FILE = "aws.md"
CLUSTER_FILE = "cluster.yaml"


@dataclass(frozen=True)
class StackFiles:
    """Where a stack's config lives: ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``."""

    stack: str
    project_file: Path
    stack_file: Path

    @classmethod
    def locate(cls, stack_or_file: str, project_dir: Path | None = None) -> "StackFiles":
        """A stack name (``dev``) or a stack file path (``/tmp/Pulumi.mine.yaml``)."""
        candidate = Path(stack_or_file)
        if candidate.suffix in (".yaml", ".yml") and candidate.exists():
            stack_file = candidate
            parts = candidate.name.split(".")
            stack = parts[1] if len(parts) == 3 and parts[0] == "Pulumi" else candidate.stem
            root = (
                project_dir or _find_project_dir(candidate.resolve().parent) or _find_project_dir(Path.cwd())
            )
        else:
            root = project_dir or _find_project_dir(Path.cwd())
            if root is None:
                raise FileNotFoundError("no Pulumi.yaml here or in any parent directory (use --project-dir)")
            stack = stack_or_file
            stack_file = root / f"Pulumi.{stack}.yaml"
        if root is None:
            raise FileNotFoundError("no Pulumi.yaml found for that stack file (use --project-dir)")
        if not stack_file.exists():
            known = sorted(p.name.split(".")[1] for p in root.glob("Pulumi.*.yaml"))
            raise FileNotFoundError(f"no stack file {stack_file} (stacks here: {', '.join(known) or 'none'})")
        return cls(stack, root / "Pulumi.yaml", stack_file)


def _find_project_dir(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / "Pulumi.yaml").exists():
            return directory
    return None


def evaluate(files: StackFiles, stack_outputs: dict[str, dict[str, Any]] | None = None) -> list[Registration]:
    """Run the stack program under mocks with the stack file's config.

    ``stack_outputs`` stands in for stacks the program references (``aws.clusterStack``).
    """
    config, secret_keys = read_stack_file(files.stack_file, files.project_file)
    monitor = RecordingMonitor(FlowMocks(stack_outputs))
    return run_program(
        files.stack, config, secret_keys, monitor=monitor, project_dir=files.project_file.parent
    )


def kubernetes_objects(registrations: Iterable[Registration]) -> list[dict[str, Any]]:
    """The Kubernetes objects the stack would apply (custom resources of the kubernetes provider)."""
    objects = []
    for reg in registrations:
        if reg.custom and reg.type.startswith("kubernetes:") and "apiVersion" in reg.inputs:
            objects.append(reg.inputs)
    return objects


def _file_for(obj: dict[str, Any]) -> str:
    namespace = (obj.get("metadata") or {}).get("namespace")
    if obj.get("kind") == "Namespace":
        namespace = obj["metadata"]["name"]
    return f"{namespace}.yaml" if namespace else CLUSTER_FILE


def _sort_key(obj: dict[str, Any]) -> tuple[int, str, str]:
    metadata = obj.get("metadata") or {}
    return (0 if obj.get("kind") == "Namespace" else 1, obj.get("kind", ""), metadata.get("name", ""))


def _aws_summary(registrations: Iterable[Registration]) -> str:
    lines = ["# AWS resources", ""]
    aws = [r for r in registrations if r.type.startswith("aws:") or r.type == "pulumi:providers:aws"]
    if not aws:
        lines.append("This stack registers no AWS resources.")
    for reg in aws:
        flags = [k for k in ("protect", "retain_on_delete") if reg.options.get(k)]
        lines.append(f"## {reg.name} ({reg.type}){' [' + ', '.join(flags) + ']' if flags else ''}")
        for key, value in sorted(reg.inputs.items()):
            if key in ("tags", "tagsAll"):
                continue
            lines.append(f"- {key}: {json.dumps(_readable(value), sort_keys=True)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _readable(value: Any) -> Any:
    """JSON documents held in strings (IAM and lifecycle policies) shown as data, not escaped text."""
    if isinstance(value, str) and value.startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def write(registrations: list[Registration], out: Path) -> dict[str, Counter[str]]:
    """Write the render into ``out`` (replacing an earlier render) and return kinds per file."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("*.yaml"), out / RESOURCES_FILE, out / AWS_FILE]:
        stale.unlink(missing_ok=True)
    by_file: dict[str, list[dict[str, Any]]] = {}
    for obj in kubernetes_objects(registrations):
        by_file.setdefault(_file_for(obj), []).append(obj)
    summary: dict[str, Counter[str]] = {}
    for filename, objs in sorted(by_file.items()):
        objs.sort(key=_sort_key)
        (out / filename).write_text(yaml.safe_dump_all(objs, sort_keys=True, default_flow_style=False))
        summary[filename.removesuffix(".yaml")] = Counter(o["kind"] for o in objs)
    resources = [r.as_json() for r in registrations]
    (out / RESOURCES_FILE).write_text(json.dumps(resources, indent=2, sort_keys=True) + "\n")
    (out / AWS_FILE).write_text(_aws_summary(registrations))
    aws = Counter(r.type for r in registrations if r.type.startswith("aws:"))
    if aws:
        summary["aws"] = aws
    return summary
