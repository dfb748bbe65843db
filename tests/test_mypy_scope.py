"""mypy reads only the pulumi_aws services we call (pyproject's overrides, for CI's speed, #20).

A skipped service is ``Any`` to mypy, so code calling a service that is not listed would go
unchecked: this keeps the list and the code in step, so no check of our code is dropped.
"""

import ast
import importlib.util
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _services_called() -> dict[str, str]:
    """pulumi_aws subpackages our code reaches (``aws.ec2.X``, ``import pulumi_aws.ec2``) -> a file."""
    spec = importlib.util.find_spec("pulumi_aws")
    assert spec is not None and spec.submodule_search_locations
    package = Path(next(iter(spec.submodule_search_locations)))
    subpackages = {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    found: dict[str, str] = {}
    for path in sorted(
        [*ROOT.glob("components/**/*.py"), *ROOT.glob("stacks/**/*.py"), *ROOT.glob("policy/**/*.py")]
    ):
        if "venv" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        aliases = {"pulumi_aws"}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for name in node.names:
                    if name.name == "pulumi_aws":
                        aliases.add(name.asname or name.name)
                    elif name.name.startswith("pulumi_aws."):
                        found.setdefault(name.name.split(".")[1], str(path))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi_aws"):
                parts = (node.module or "").split(".")
                if len(parts) > 1:
                    found.setdefault(parts[1], str(path))
                else:
                    for name in node.names:
                        if name.name in subpackages:
                            found.setdefault(name.name, str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr in subpackages
            ):
                found.setdefault(node.attr, str(path))
    return {name: where for name, where in found.items() if name in subpackages}


def test_every_pulumi_aws_service_we_call_is_type_checked() -> None:
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    checked = {
        module.removeprefix("pulumi_aws.").removesuffix(".*")
        for override in overrides
        if override.get("follow_imports") == "normal"
        for module in override["module"]
    }
    skipped = [o for o in overrides if o.get("follow_imports") == "skip"]
    assert skipped and skipped[0]["module"] == ["pulumi_aws.*"], "the narrowing this test guards"
    called = _services_called()
    assert {"ec2", "efs", "iam"} <= set(called), "the walk finds what the AWS components call"
    missing = {name: where for name, where in called.items() if name not in checked}
    assert not missing, f"add 'pulumi_aws.<service>.*' to pyproject's follow_imports=normal list: {missing}"
