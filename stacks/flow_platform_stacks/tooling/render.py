"""Offline render: the stack's Kubernetes objects as YAML, an AWS summary and resources.json."""

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .harness import FlowMocks, RecordingMonitor, Registration, read_stack_file, run_program

RESOURCES_FILE = "resources.json"
AWS_FILE = "aws.md"
CLUSTER_FILE = "cluster.yaml"
OUTPUTS_FILE = "outputs.json"


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
    return evaluate_with_outputs(files, stack_outputs)[0]


def evaluate_with_outputs(
    files: StackFiles,
    stack_outputs: dict[str, dict[str, Any]] | None = None,
    on_register: Callable[[Registration], None] | None = None,
) -> tuple[list[Registration], dict[str, Any]]:
    """:func:`evaluate`, plus the stack outputs the program exported."""
    registrations, outputs, _ = evaluate_with_stand_ins(files, stack_outputs, on_register)
    return registrations, outputs


def evaluate_with_stand_ins(
    files: StackFiles,
    stack_outputs: dict[str, dict[str, Any]] | None = None,
    on_register: Callable[[Registration], None] | None = None,
) -> tuple[list[Registration], dict[str, Any], list[str]]:
    """:func:`evaluate_with_outputs`, plus the lookup answers that came from stand-ins.

    ``on_register`` sees each registration as it arrives (:class:`RecordingMonitor`).
    """
    config, secret_keys = read_stack_file(files.stack_file, files.project_file)
    mocks = FlowMocks(stack_outputs)
    monitor = RecordingMonitor(mocks, on_register)
    registrations = run_program(
        files.stack, config, secret_keys, monitor=monitor, project_dir=files.project_file.parent
    )
    return registrations, monitor.stack_outputs(), list(mocks.stand_ins)


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


def _aws_summary(registrations: Iterable[Registration], stand_ins: Sequence[str] = ()) -> str:
    lines = ["# AWS resources", ""]
    if stand_ins:
        lines += ["## Stand-in values", "", "Offline lookups answered without the account (not facts):", ""]
        lines += [f"- {note}" for note in stand_ins]
        lines.append("")
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


class OutputDirError(Exception):
    """The output directory holds files the render did not write: it is never touched then."""


MANIFEST_FILE = ".flow-platform-render.json"
_LEGACY_FILES = {RESOURCES_FILE, AWS_FILE}


def _owned(out: Path) -> bool:
    """Whether ``out`` is missing, empty, or holds exactly an earlier render (per its manifest)."""
    if not out.exists():
        return False
    if not out.is_dir() or out.is_symlink():
        raise OutputDirError(f"refusing to render into {out}: it is not a directory")
    present = {p.name for p in out.iterdir()}
    if not present:
        return True
    manifest = out / MANIFEST_FILE
    if manifest.is_file():
        try:
            written = set(json.loads(manifest.read_text())["files"])
        except (ValueError, KeyError, TypeError):
            written = set()
        foreign = present - written - {MANIFEST_FILE}
    else:
        # a render from before the manifest: only its own file names, never a Pulumi project file
        foreign = {
            name
            for name in present
            if name not in _LEGACY_FILES and (not name.endswith(".yaml") or name.startswith("Pulumi"))
        }
        if not present >= _LEGACY_FILES:
            foreign = present
    if foreign:
        shown = ", ".join(sorted(foreign)[:5]) + (", ..." if len(foreign) > 5 else "")
        raise OutputDirError(
            f"refusing to render into {out}: it holds files the render did not write ({shown});"
            " choose a new or empty directory (the default is build/<stack>/)"
        )
    return True


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml's emitter (the pure-Python one was most of a render's time), and multi-line strings
    (scripts, config files in ConfigMaps) as literal blocks, readable as the files they are."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_Dumper.add_representer(str, _represent_str)


def _render_files(
    registrations: list[Registration], outputs: dict[str, Any] | None, stand_ins: Sequence[str] = ()
) -> dict[str, str]:
    """File name -> text of one render."""
    files: dict[str, str] = {}
    by_file: dict[str, list[dict[str, Any]]] = {}
    for obj in kubernetes_objects(registrations):
        by_file.setdefault(_file_for(obj), []).append(obj)
    for filename, objs in sorted(by_file.items()):
        objs.sort(key=_sort_key)
        files[filename] = yaml.dump_all(objs, Dumper=_Dumper, sort_keys=True, default_flow_style=False)
    resources = [r.as_json() for r in registrations]
    files[RESOURCES_FILE] = json.dumps(resources, indent=2, sort_keys=True) + "\n"
    files[AWS_FILE] = _aws_summary(registrations, stand_ins)
    if outputs is not None:
        files[OUTPUTS_FILE] = json.dumps(outputs, indent=2, sort_keys=True) + "\n"
    return files


def write(
    registrations: list[Registration],
    out: Path,
    outputs: dict[str, Any] | None = None,
    stand_ins: Sequence[str] = (),
) -> dict[str, Counter[str]]:
    """Write the render into ``out`` atomically and return kinds per file.

    ``out`` must be new, empty, or an earlier render (listed in its manifest): files the render did
    not write are never deleted. Everything is written into a temporary sibling directory that then
    replaces ``out``, so a failure leaves the earlier render whole, never a mix of old and new.
    """
    out = Path(os.path.abspath(out))
    existing = _owned(out)
    files = _render_files(registrations, outputs, stand_ins)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        for filename, text in files.items():
            (staging / filename).write_text(text)
        manifest = {"files": sorted(files), "writer": "flow-platform render"}
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if existing:
            retired = staging.with_suffix(".old")
            os.rename(out, retired)
            try:
                os.rename(staging, out)
            except OSError:
                os.rename(retired, out)
                raise
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    summary: dict[str, Counter[str]] = {}
    for obj in kubernetes_objects(registrations):
        summary.setdefault(_file_for(obj).removesuffix(".yaml"), Counter())[obj["kind"]] += 1
    summary = dict(sorted(summary.items()))
    aws = Counter(r.type for r in registrations if r.type.startswith("aws:"))
    if aws:
        summary["aws"] = aws
    return summary
