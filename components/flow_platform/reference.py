"""``docs/components.md``: the components' reference, generated from the package schema.

Generated from the schema (not from the source) so the page shows exactly what every language's SDK
sees: type tokens, input types, which inputs are required, which must be plain values, defaults (the
``Default:`` sentence of each description) and outputs.
"""

import inspect
import re
from typing import Any

DEFAULT = re.compile(r"\s*Default:\s*(?P<default>.+?)\.?\s*$", re.DOTALL)
TYPE_PREFIX = "#/types/"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def split_default(description: str | None) -> tuple[str, str]:
    """(description without its ``Default:`` sentence, the default)."""
    text = _one_line(description)
    match = DEFAULT.search(text)
    if not match:
        return text, ""
    return text[: match.start()].strip(), match.group("default").strip()


def _anchor(token: str) -> str:
    return token.rsplit(":", 1)[-1].lower()


def type_name(prop: dict[str, Any]) -> str:
    """A property's type as the reference shows it (``list of string``, ``map of string``, a link);
    no angle brackets, which Markdown renderers take for HTML tags."""
    ref = prop.get("$ref")
    if ref == "pulumi.json#/Any":
        return "any"
    if ref:
        token = ref.removeprefix(TYPE_PREFIX)
        return f"[{token.rsplit(':', 1)[-1]}](#{_anchor(token)})"
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {type_name(prop['items'])}"
    if kind == "object" and "additionalProperties" in prop:
        return f"map of {type_name(prop['additionalProperties'])}"
    return str(kind)


def _inputs_table(properties: dict[str, Any], required: list[str]) -> list[str]:
    lines = [
        "| input | type | required | Output accepted | default | description |",
        "|---|---|---|---|---|---|",
    ]
    for name in sorted(properties, key=lambda n: (n not in required, n)):
        prop = properties[name]
        description, default = split_default(prop.get("description"))
        lines.append(
            f"| `{name}` | {type_name(prop)} | {'yes' if name in required else 'no'}"
            f" | {'no' if prop.get('plain') else 'yes'} | {default} | {description} |"
        )
    return lines


def _outputs_table(properties: dict[str, Any]) -> list[str]:
    lines = ["| output | type | description |", "|---|---|---|"]
    for name in sorted(properties):
        if name in ("urn", "id"):
            continue
        prop = properties[name]
        lines.append(f"| `{name}` | {type_name(prop)} | {_one_line(prop.get('description'))} |")
    return lines


def markdown(schema: dict[str, Any]) -> str:
    """The reference page for a package schema."""
    name, version = schema["name"], schema.get("version", "")
    resources: dict[str, Any] = schema.get("resources", {})
    types: dict[str, Any] = schema.get("types", {})
    lines = [
        f"# {name} components (version {version})",
        "",
        "<!-- Generated from the package schema by `python -m flow_platform.provider write`;"
        " do not edit by hand. -->",
        "",
        "Every component below can be used from any Pulumi language after"
        " `pulumi package add <path or git URL of this repository>` (see the README). Input and output"
        " names are shown as the schema spells them (camelCase); the Python SDK uses snake_case.",
        '"Output accepted: no" marks plain inputs: they shape resource names or structure, so they must be'
        " known when the program runs (a literal or config value, not another resource's output).",
        "",
        "| component | type token |",
        "|---|---|",
    ]
    lines += [f"| [{t.rsplit(':', 1)[-1]}](#{_anchor(t)}) | `{t}` |" for t in sorted(resources)]
    for token in sorted(resources):
        resource = resources[token]
        lines += ["", f"## {token.rsplit(':', 1)[-1]}", "", f"Type token: `{token}`", ""]
        lines += [inspect.cleandoc(resource.get("description") or ""), "", "### Inputs", ""]
        lines += _inputs_table(resource.get("inputProperties", {}), resource.get("requiredInputs", []))
        lines += ["", "### Outputs", ""]
        lines += _outputs_table(resource.get("properties", {}))
    if types:
        lines += ["", "## Types", ""]
    for token in sorted(types):
        definition = types[token]
        lines += [
            f"### {token.rsplit(':', 1)[-1]}",
            "",
            f"`{token}`: {_one_line(definition.get('description'))}",
            "",
        ]
        if "enum" in definition:
            lines += ["| value | description |", "|---|---|"]
            lines += [f"| `{e['value']}` | {_one_line(e.get('description'))} |" for e in definition["enum"]]
        else:
            lines += _inputs_table(definition.get("properties", {}), definition.get("required", []))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
