"""The one place that maps an image to where the cluster pulls it from.

Upstreams ECR can cache (ECR Public, Docker Hub, Quay, GHCR, registry.k8s.io) are reached through
a pull-through cache rule: the mirror repository is ``<cache prefix>/<upstream path>``. Others
(Partek's registry, private vendor registries) are copied into ``<prefix>/<logical name>`` by the
image-copy CronJob. With the mirror disabled, images come from their upstreams unchanged.
"""

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"


@dataclass(frozen=True)
class Upstream:
    """A registry ECR's pull-through cache supports."""

    key: str
    """Short name, used in the cache rule's repository prefix."""
    registry: str
    """Registry host as it appears in image references."""
    upstream_url: str
    """``upstream_registry_url`` of the pull-through cache rule."""
    needs_credentials: bool


CACHEABLE: dict[str, Upstream] = {
    u.registry: u
    for u in (
        Upstream("ecr-public", "public.ecr.aws", "public.ecr.aws", False),
        Upstream("docker-hub", DOCKER_HUB, "registry-1.docker.io", True),
        Upstream("quay", "quay.io", "quay.io", False),
        Upstream("ghcr", "ghcr.io", "ghcr.io", True),
        Upstream("k8s", "registry.k8s.io", "registry.k8s.io", False),
    )
}

_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_PATH = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$")


@dataclass(frozen=True)
class ImageRef:
    """An image reference split into registry, path, tag and digest."""

    registry: str
    path: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, ref: str) -> "ImageRef":
        rest, _, digest = ref.partition("@")
        if digest and not _DIGEST.match(digest):
            raise ValueError(f"{ref!r}: {digest!r} is not a sha256 digest")
        tag = None
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1 :]
            if not _TAG.match(tag):
                raise ValueError(f"{ref!r}: {tag!r} is not an image tag")
        first, _, remainder = rest.partition("/")
        if remainder and ("." in first or ":" in first or first == "localhost"):
            registry, path = first, remainder
        else:
            registry, path = DOCKER_HUB, rest if "/" in rest else f"library/{rest}"
        if not _PATH.match(path):
            raise ValueError(f"{ref!r}: {path!r} is not a repository path")
        return cls(registry, path, tag, digest or None)

    def suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def ecr_registry(account_id: str, region: str) -> str:
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com"


CACHE_PREFIX_LENGTH = (2, 30)
"""``ecrRepositoryPrefix`` length bounds: terraform-provider-aws internal/service/ecr/
pull_through_cache_rule.go (``validation.StringLenBetween(2, 30)``), which pulumi-aws 7 wraps."""
_CACHE_PREFIX = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
LONGEST_UPSTREAM_KEY = max(len(u.key) for u in CACHEABLE.values())


def max_prefix_length() -> int:
    """The longest repository prefix whose every cache rule prefix (``<prefix>-<key>``) fits."""
    return CACHE_PREFIX_LENGTH[1] - 1 - LONGEST_UPSTREAM_KEY


def cache_prefix(prefix: str, upstream: Upstream) -> str:
    """The repository prefix of a pull-through cache rule, checked as AWS checks it."""
    value = f"{prefix}-{upstream.key}"
    low, high = CACHE_PREFIX_LENGTH
    if not low <= len(value) <= high or not _CACHE_PREFIX.match(value):
        raise ValueError(
            f"pull-through cache prefix {value!r} must be {low}-{high} characters of lowercase letters,"
            f" digits and ._-/ (the mirror prefix {prefix!r} may have at most {max_prefix_length()})"
        )
    return value


def scoped_prefix(prefix: str | None, env: str) -> str:
    """The mirror's repository prefix: as configured, else ``flow-platform-<env>``, so two
    environments sharing an account (dev and tst) never share a repository."""
    return prefix if prefix is not None else f"flow-platform-{env}"


def mirror_repository(prefix: str, logical_name: str, ref: str) -> str:
    """The ECR repository name that holds ``ref`` in the mirror."""
    image = ImageRef.parse(ref)
    upstream = CACHEABLE.get(image.registry)
    if upstream is not None:
        return f"{cache_prefix(prefix, upstream)}/{image.path}"
    return f"{prefix}/{logical_name}"


def mirror_uri(account_id: str, region: str, prefix: str, logical_name: str, ref: str) -> str:
    """The full reference the cluster pulls for ``ref`` when the mirror is enabled."""
    image = ImageRef.parse(ref)
    return (
        f"{ecr_registry(account_id, region)}/{mirror_repository(prefix, logical_name, ref)}{image.suffix()}"
    )


def needs_copy(ref: str) -> bool:
    """True when ECR cannot cache the image's registry, so the copy job must push it."""
    return ImageRef.parse(ref).registry not in CACHEABLE
