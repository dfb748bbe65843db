"""The offline render: files, determinism, placeholders, and the CLI's exit codes."""

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, Rendered
from flow_platform_stacks.tooling.cli import main


def _render(stack: str, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["render", stack, "--out", str(out), "--project-dir", str(ROOT)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def test_render_writes_one_file_per_namespace_plus_resources_and_aws_summary(rendered: Rendered) -> None:
    code, out, err, tmp_path = rendered("prd")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".flow-platform-render.json",
        "aws.md",
        "cluster.yaml",
        "eventflow-prd.yaml",
        "flink-operator-prd.yaml",
        "flink-prd.yaml",
        "hyperflow-prd.yaml",
        "image-mirror-prd.yaml",
        "openflow-prd.yaml",
        "outputs.json",
        "partek-flow-prd.yaml",
        "partek-license-prd.yaml",
        "resources.json",
        "spark-operator-prd.yaml",
    ]
    docs = list(yaml.safe_load_all((tmp_path / "flink-operator-prd.yaml").read_text()))
    assert docs[0]["kind"] == "Namespace"
    assert all(d["metadata"].get("namespace", d["metadata"]["name"]) == "flink-operator-prd" for d in docs)
    assert (
        "flink-operator-prd: ConfigMap 1, Deployment 1, LimitRange 1, Namespace 1, NetworkPolicy 4,"
        " ResourceQuota 1, Role 1, RoleBinding 1, ServiceAccount 1"
    ) in out
    partek = [d["kind"] for d in yaml.safe_load_all((tmp_path / "partek-flow-prd.yaml").read_text())]
    assert partek[0] == "Namespace" and partek[1:] == sorted(partek[1:])


def test_resources_json_carries_type_name_parent_provider_inputs_and_options(rendered: Rendered) -> None:
    code, _, err, tmp_path = rendered("prd")
    assert code == 0, err
    resources = json.loads((tmp_path / "resources.json").read_text())
    namespace = next(r for r in resources if r["name"] == "partek-namespace")
    assert namespace["type"] == "kubernetes:core/v1:Namespace"
    assert namespace["parent"].endswith("flow-platform:index:NamespaceGuardrails::partek")
    assert namespace["provider"].endswith("pulumi:providers:kubernetes::k8s")
    assert namespace["inputs"]["metadata"]["name"] == "partek-flow-prd"
    assert namespace["options"]["protect"] is True
    quota = next(r for r in resources if r["name"] == "partek-quota")
    assert any(dep.endswith("::partek-namespace") for dep in quota["options"]["depends_on"])
    assert {"retain_on_delete", "ignore_changes", "aliases"} <= set(quota["options"])


@pytest.mark.fresh_evaluation  # two evaluations, not the session's one twice
def test_render_is_byte_identical_across_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rendered: Rendered
) -> None:
    code, _, err, first = rendered("dev")  # the session's first render of dev
    assert code == 0, err
    assert rendered("tst")[0] == 0  # something else in between
    second = tmp_path / "b"
    shutil.copytree(rendered("tst")[3], second)
    assert _render("dev", second, capsys)[0] == 0  # and over an earlier render
    assert _tree(first) == _tree(second)


def test_secrets_render_as_marked_placeholders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    kube = config["config"]["flow-platform:kubernetes"]
    kube.pop("context")
    kube["kubeconfig"] = {"secure": "v1:AAAAexampleciphertext"}
    stack_file = tmp_path / "Pulumi.secretdev.yaml"
    stack_file.write_text(yaml.safe_dump(config))
    code, _, err = _render(str(stack_file), tmp_path / "out", capsys)
    assert code == 0, err
    text = (tmp_path / "out" / "resources.json").read_text()
    assert '"kubeconfig": "[secret]"' in text
    assert "AAAAexampleciphertext" not in text


def test_a_bad_key_in_a_copy_of_the_dev_file_exits_non_zero_with_the_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "Pulumi.mydev.yaml"
    shutil.copy(ROOT / "Pulumi.dev.yaml", copy)
    copy.write_text(copy.read_text().replace("podSecurityVersion:", "podSecurityVerison:"))
    code, _out, err = _render(str(copy), tmp_path / "out", capsys)
    assert code == 2
    assert "invalid configuration for stack 'mydev'" in err
    assert (
        "flow-platform:kubernetes.podSecurityVerison: unknown key; did you mean 'podSecurityVersion'?" in err
    )
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists(), "nothing is written for a stack with bad config"


def test_an_unknown_stack_is_a_usage_error_naming_the_stacks_that_exist(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["render", "qa", "--project-dir", str(ROOT)])
    assert code == 2
    assert "stacks here: dev, prd, tst, uat" in capsys.readouterr().err


@pytest.mark.parametrize("env", ["dev", "tst", "uat", "prd"])
def test_aws_summary_lists_resources_with_key_inputs(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _render(env, tmp_path, capsys)
    assert code == 0
    summary = (tmp_path / "aws.md").read_text()
    assert "## partek-home-fs (aws:efs/fileSystem:FileSystem)" in summary
    assert "- encrypted: true" in summary
    assert '"sts.amazonaws.com"' in summary or env == "dev", "the IRSA trust policy is shown as data"
    assert "aws:efs/mountTarget:MountTarget" in out


def test_render_reads_a_referenced_cluster_stack_from_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = yaml.safe_load((ROOT / "Pulumi.tst.yaml").read_text())
    aws = config["config"]["flow-platform:aws"]
    facts = aws.pop("cluster")
    aws["clusterStack"] = {"name": "acme/eks/tst"}
    stack_file = tmp_path / "Pulumi.tst.yaml"
    stack_file.write_text(yaml.safe_dump(config))
    outputs = tmp_path / "eks.json"
    outputs.write_text(json.dumps(facts))
    args = ["render", str(stack_file), "--out", str(tmp_path / "out"), "--project-dir", str(ROOT)]
    assert main(args) == 2, "without the referenced stack's outputs the facts are missing"
    assert "has no output 'vpcId'" in capsys.readouterr().err
    assert main([*args, "--stack-outputs", f"acme/eks/tst={outputs}"]) == 0
    summary = (tmp_path / "out" / "aws.md").read_text()
    assert facts["privateSubnetIds"][0] in summary


# --- the output directory: never delete what the render did not write ------------------------


def _project_like(directory: Path) -> dict[str, bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text("name: mine\n")
    (directory / "Pulumi.dev.yaml").write_text("config: {}\n")
    (directory / "notes.md").write_text("mine\n")
    return _tree(directory)


def test_render_into_a_directory_holding_other_files_refuses_and_keeps_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _project_like(tmp_path / "project")
    code, _out, err = _render("dev", tmp_path / "project", capsys)
    assert code == 2
    assert "refusing to render into" in err and "Pulumi.dev.yaml, Pulumi.yaml, notes.md" in err
    assert "Traceback" not in err
    assert _tree(tmp_path / "project") == before, "the user's files are untouched"
    assert [p.name for p in tmp_path.iterdir()] == ["project"], "no staging directory is left behind"


def test_render_with_out_dot_in_the_project_keeps_pulumi_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "clone"
    shutil.copytree(
        ROOT, project, ignore=shutil.ignore_patterns(".venv", "build", ".git", "*cache*", "tests")
    )
    before = _tree(project)
    monkeypatch.chdir(project)
    code = main(["render", "dev", "--out", "."])
    assert code == 2
    assert _tree(project) == before


def test_a_render_replaces_an_earlier_render_and_only_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _render("prd", out, capsys)[0] == 0
    assert (out / "partek-license-prd.yaml").exists()
    assert _render("dev", out, capsys)[0] == 0, "an earlier render is the render's own to replace"
    assert not (out / "partek-license-prd.yaml").exists(), "files of the earlier render are gone"
    manifest = json.loads((out / ".flow-platform-render.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted([*manifest["files"], ".flow-platform-render.json"])
    (out / "mine.txt").write_text("keep")
    assert _render("dev", out, capsys)[0] == 2, "a file the render did not write makes it refuse"
    assert (out / "mine.txt").read_text() == "keep"


def test_a_failed_write_leaves_the_earlier_render_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flow_platform_stacks.tooling import render

    out = tmp_path / "out"
    assert _render("dev", out, capsys)[0] == 0
    before = _tree(out)

    def broken(*args: object, **kwargs: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(render, "_aws_summary", broken)
    code, _, err = _render("tst", out, capsys)
    assert code == 3 and "internal error (OSError" in err and len(err.strip().splitlines()) == 1
    assert _tree(out) == before, "the earlier render is whole, not half replaced"
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "the staging directory is removed"


def test_bad_arguments_exit_2_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render"]) == 2
    bad = tmp_path / "outputs.json"
    bad.write_text("{not json")
    args = ["render", "dev", "--project-dir", str(ROOT), "--out", str(tmp_path / "o")]
    assert main([*args, "--stack-outputs", f"acme/eks/dev={bad}"]) == 2
    assert main([*args, "--stack-outputs", "no-equals-sign"]) == 2
    err = capsys.readouterr().err
    assert "is not valid JSON" in err and "takes NAME=FILE.json" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


# --- flow-platform check: exit codes 0 clean, 1 mandatory violations, 2 config/usage, 3 internal -----


def test_check_without_the_policy_library_names_the_extra_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pulumi_policy", None)  # as on a plain `pip install flow-platform`
    assert main(["check", "dev", "--project-dir", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'flow-platform[policy]'" in err and "Traceback" not in err


def test_the_policy_extra_is_declared_and_part_of_dev() -> None:
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(dep.startswith("pulumi-policy") for dep in extras["policy"])
    assert "flow-platform[policy]" in extras["dev"], "the README's first command installs it"


def test_check_on_bad_config_or_a_bad_policy_config_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file = tmp_path / "Pulumi.mydev.yaml"
    stack_file.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text().replace("cidrs: [10.10.0.0/16]", "cidrs: []")
    )
    assert main(["check", str(stack_file), "--project-dir", str(ROOT)]) == 2
    assert "invalid configuration for stack 'mydev'" in capsys.readouterr().err
    unknown = tmp_path / "policy.json"
    unknown.write_text(json.dumps({"no-such-policy": "mandatory"}))
    args = ["check", "dev", "--project-dir", str(ROOT), "--policy-config"]
    assert main([*args, str(unknown)]) == 2
    assert main([*args, str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert "unknown policies: no-such-policy" in err and "no policy config" in err
    assert "Traceback" not in err


def test_an_internal_error_exits_3_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from flow_platform_stacks.tooling import policy_check

    def crashing(*args: object, **kwargs: object) -> list[str]:
        """A pack that dies at start-up with a traceback (the check starts it before evaluating)."""
        crash = "import sys; sys.stderr.write('Traceback (most recent call last):\\n  ...\\n'); sys.exit(1)"
        return [sys.executable, "-c", crash]

    monkeypatch.setattr(policy_check, "pack_command", crashing)
    assert main(["check", "dev", "--project-dir", str(ROOT)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "internal error (RuntimeError: the policy pack did not print its port" in err


@pytest.mark.fresh_evaluation  # a cached evaluation opens no loop
def test_the_cli_closes_every_event_loop_it_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An open loop is closed by ``__del__`` at interpreter exit, after its self-pipe may be gone:
    the intermittent ``Exception ignored in BaseEventLoop.__del__ ... Invalid file descriptor``."""
    import asyncio
    import gc

    def open_loops() -> set[int]:
        return {
            id(o) for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and not o.is_closed()
        }

    # other tests in this process may have left loops of their own: only the render's count
    before = open_loops()
    assert _render("dev", tmp_path / "out", capsys)[0] == 0
    gc.collect()
    assert open_loops() - before == set()


# --- stack outputs: written by the render, one shape in every env, each documented ----------------


def _shape(value: object, free: bool = False) -> object:
    """Keys all the way down; maps keyed by image name (``free``) only by their value type."""
    if isinstance(value, dict):
        if free:
            return "map"
        return {k: _shape(v, k in ("imageUris", "repositoryUrls")) for k, v in sorted(value.items())}
    return type(value).__name__


def _outputs(env: str, rendered: Rendered) -> dict[str, object]:
    code, _, err, out = rendered(env)
    assert code == 0, err
    outputs: dict[str, object] = json.loads((out / "outputs.json").read_text())
    return outputs


def test_outputs_json_has_one_shape_in_every_env(rendered: Rendered) -> None:
    shapes = {env: _shape(_outputs(env, rendered)) for env in ("dev", "tst", "uat", "prd")}
    assert shapes["dev"] == shapes["tst"] == shapes["uat"] == shapes["prd"]
    uat = json.loads((rendered("uat")[3] / "outputs.json").read_text())
    # uat disables HyperFlow: its keys are there, empty
    assert uat["hyperflow"] == {"namespace": "", "workDirClaim": "", "engineServiceAccount": ""}
    assert uat["services"]["redis"] == "" and uat["namespaces"]["hyperflow"] == ""
    dev = json.loads((rendered("dev")[3] / "outputs.json").read_text())
    assert dev["ecr"] == {"repositoryUrls": {}} and dev["imageUris"] == {}, "dev has no mirror"


def test_outputs_name_every_namespace_the_stack_creates(env_stack: Any) -> None:
    created = {o["metadata"]["name"] for o in env_stack.objects("Namespace")}
    exported = {v for v in env_stack.stack_outputs["namespaces"].values() if v}
    assert exported == created


def test_output_service_names_are_services_the_stack_runs(env_stack: Any) -> None:
    services = {(o["metadata"]["name"], o["metadata"]["namespace"]) for o in env_stack.objects("Service")}
    flink = {
        (f"{o['metadata']['name']}-rest", o["metadata"]["namespace"])
        for o in env_stack.objects("FlinkDeployment")
    }
    named = env_stack.stack_outputs["services"]
    for key, dns in named.items():
        if not dns:
            continue
        service, namespace, rest = dns.split(".", 2)
        assert rest == "svc.cluster.local", key
        assert (service, namespace) in (flink if key == "flinkRest" else services), f"{key}: {dns}"
    assert {key for key, dns in named.items() if dns} >= {"partekFlowUi"}


def test_efs_and_ecr_outputs_are_the_registered_resources(stack: Any) -> None:
    prd = stack("prd")
    efs = prd.stack_outputs["efs"]
    file_systems = {r.name for r in prd.of_type("aws:efs/fileSystem:FileSystem")}
    access_points = {r.name for r in prd.of_type("aws:efs/accessPoint:AccessPoint")}
    for system in ("partek", "flink", "hyperflow"):
        assert efs[system]["fileSystemId"].removeprefix("<computed:").removesuffix(".id>") in file_systems
        assert efs[system]["accessPointId"].removeprefix("<computed:").removesuffix(".id>") in access_points
    repositories = {r.name for r in prd.of_type("aws:ecr/repository:Repository")}
    urls = prd.stack_outputs["ecr"]["repositoryUrls"]
    assert set(urls) == set(prd.stack_outputs["imageUris"])
    assert {
        u.removeprefix("<computed:").removesuffix(".repositoryUrl>") for u in urls.values()
    } == repositories


def test_every_output_is_documented_in_the_readme(stack: Any) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Stack outputs", 1)[1].split("\n## ", 1)[0]
    outputs = stack("prd").stack_outputs
    documented = set(re.findall(r"`([A-Za-z.]+)`", section))
    for key, value in outputs.items():
        assert any(d == key or d.startswith(f"{key}.") for d in documented), key
        if isinstance(value, dict) and key not in ("imageUris", "efs", "ecr"):
            for sub in value:
                assert f"{key}.{sub}" in documented, f"{key}.{sub} is not in README 'Stack outputs'"
    assert {"efs.SYSTEM.fileSystemId", "efs.SYSTEM.accessPointId", "ecr.repositoryUrls"} <= documented
