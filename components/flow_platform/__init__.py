"""flow-platform: Pulumi components that deploy workflow engines onto Kubernetes (EKS).

The library reads no stack configuration: everything arrives through each component's
``args`` TypedDict, and providers arrive through ``ResourceOptions(providers=...)``.
"""

PACKAGE = "flow-platform"
"""Package name used in every component's type token (``flow-platform:index:<Class>``)."""
