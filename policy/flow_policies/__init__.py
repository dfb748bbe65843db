"""flow-platform's CrossGuard policies as pure functions over a resource's type and properties.

Self-contained: nothing here imports the component library, so any Pulumi project can run the
pack. ``core`` reads resources (pod specs, unknown values, exceptions); one module per area holds
the rules; ``pack`` turns them into CrossGuard policies.
"""
