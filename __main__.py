"""Entry point of the flow-platform component package (``PulumiPlugin.yaml``).

The Python language host runs ``python <this directory> <engine address> [flags]``; this hosts every
public component (``flow_platform.provider.COMPONENTS``) for the engine. The stack program is
``stacks/`` (``Pulumi.yaml``'s ``main``), so this file is not part of it.
"""

import sys

from flow_platform.provider import main

if __name__ == "__main__":
    sys.exit(main())
