"""The offline render: files, determinism, placeholders, and the CLI's exit codes."""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from flow_platform_stacks.cli import main


def _render(stack: str, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["render", stack, "--out", str(out), "--project-dir", str(ROOT)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_render_writes_one_file_per_namespace_plus_resources_and_aws_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _render("prd", tmp_path, capsys)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "aws.md",
        "cluster.yaml",
        "flink-operator.yaml",
        "flink-prd.yaml",
        "hyperflow-prd.yaml",
        "image-mirror-prd.yaml",
        "partek-flow-prd.yaml",
        "partek-license-prd.yaml",
        "resources.json",
    ]
    docs = list(yaml.safe_load_all((tmp_path / "flink-operator.yaml").read_text()))
    assert [d["kind"] for d in docs] == ["Namespace", "LimitRange", *["NetworkPolicy"] * 4, "ResourceQuota"]
    assert all(d["metadata"].get("namespace", d["metadata"]["name"]) == "flink-operator" for d in docs)
    assert "flink-operator: LimitRange 1, Namespace 1, NetworkPolicy 4, ResourceQuota 1" in out
    partek = [d["kind"] for d in yaml.safe_load_all((tmp_path / "partek-flow-prd.yaml").read_text())]
    assert partek[0] == "Namespace" and partek[1:] == sorted(partek[1:])


def test_resources_json_carries_type_name_parent_provider_inputs_and_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _render("prd", tmp_path, capsys)[0] == 0
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


def test_render_is_byte_identical_across_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert _render("dev", first, capsys)[0] == 0
    assert _render("tst", second, capsys)[0] == 0  # something else in between
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


def test_an_unknown_stack_names_the_stacks_that_exist(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["render", "qa", "--project-dir", str(ROOT)])
    assert code == 1
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
