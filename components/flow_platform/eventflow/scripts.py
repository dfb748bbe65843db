"""The start scripts and the health probe the EventFlow pods run, mounted from a ConfigMap.

The scripts are the sample's ``start-node`` and ``start-cluster-monitor``
(spotfiresoftware/tibco-streaming-samples, commit 23a4b93, ``docker/ef-kubernetes/ef-kubernetes-app/
src/main/docker/{base/start-node,clustermonitor/start-cluster-monitor}``; Copyright (c) 2018-2023
Cloud Software Group, Inc., BSD 3-Clause) with three changes:

- the admin credentials come from the mounted Secret instead of ``--username=tibco --password=tibco``
  (the sample passes ``${USER_NAME}`` as both), and so does the keystore password;
- no ``/etc/passwd`` edit: the pod runs as the image's numeric UID on a read-only root;
- SIGTERM stops the node with ``epadmin stop node`` instead of being ignored by PID 1 until the
  grace period ends in SIGKILL.

Everything else (the ``-`` removal in the node name, the substitutions, the ``STREAMING_*``
variables, ``rm -rf`` of the node directory, ``getadminport`` then ``start node``) is unchanged.
"""

from .nodes import HEALTH_PATH, HEALTH_PORT, MONITOR_NAME, NODE_DIR, RUNTIME_HOME

SCRIPTS_DIR = "/opt/flow-platform/eventflow"
CREDENTIALS_DIR = "/var/run/secrets/eventflow/admin"
USERNAME_KEY = "username"
PASSWORD_KEY = "password"
KEYSTORE_PASSWORD_KEY = "keystore-password"
START_NODE = "start-node"
START_MONITOR = "start-cluster-monitor"
PROBE = "healthcheck"

_COMMON = f"""\
set -eu
credentials="${{FLOW_PLATFORM_CREDENTIALS_DIR:-{CREDENTIALS_DIR}}}"
username="$(cat "${{credentials}}/{USERNAME_KEY}")"
password="$(cat "${{credentials}}/{PASSWORD_KEY}")"
runtime="${{STREAMING_RUNTIME_HOME:-{RUNTIME_HOME}}}"
nodes="${{FLOW_PLATFORM_NODE_DIR:-{NODE_DIR}}}"
"""

_RUN = """\
rm -rf "${nodes}/${STREAMING_NODENAME}"
epadmin --username="${username}" --password="${password}" install node \\
    --nodename="${STREAMING_NODENAME}" --nodedirectory="${nodes}" "$@"
unset password
adminport="$(epadmin getadminport node --installpath="${nodes}/${STREAMING_NODENAME}")"
stop() {
    epadmin --adminport="${adminport}" stop node || true
    exit 0
}
trap stop TERM INT
epadmin --adminport="${adminport}" ${start_hostname} start node
echo "COMMAND FINISHED"
sleep infinity &
wait $!
"""

START_NODE_SCRIPT = f"""\
#!/bin/sh
# flow-platform: the sample's start-node with credentials from the mounted Secret (see
# flow_platform/eventflow/scripts.py for the source and the changes).
{_COMMON}
: "${{STREAMING_NODENAME:?STREAMING_NODENAME is not set}}"
# service discovery doesn't allow for '-' in streaming node name, so remove it
STREAMING_NODENAME="$(echo "${{STREAMING_NODENAME}}" | tr -d '-')"
# default route: the source address of administration requests through the discovery Services
DEFAULT_ROUTE="$(ip route | grep ^default | head -1 | cut -f3 -d' ')"
application="$(ls -1t "${{runtime}}"/application/*.zip | head -1)"
echo "Installing application archive ${{application}}"
substitutions="POD_NAMESPACE=${{POD_NAMESPACE}},POD_NAME=${{POD_NAME}},DEFAULT_ROUTE=${{DEFAULT_ROUTE}}"
if [ -n "${{STREAMING_SUBSTITUTIONS:-}}" ]; then
    substitutions="${{substitutions}},${{STREAMING_SUBSTITUTIONS}}"
fi
set -- --application="${{application}}" --substitutions="${{substitutions}}"
if [ -n "${{STREAMING_NODEDEPLOY:-}}" ]; then set -- "$@" --nodedeploy="${{STREAMING_NODEDEPLOY}}"; fi
if [ -n "${{STREAMING_SUBSTITUTIONFILE:-}}" ]; then
    set -- "$@" --substitutionfile="${{STREAMING_SUBSTITUTIONFILE}}"
fi
if [ -n "${{STREAMING_ADMINPORT:-}}" ]; then set -- "$@" --adminport="${{STREAMING_ADMINPORT}}"; fi
if [ -n "${{STREAMING_DEPLOYDIRECTORIES:-}}" ]; then
    set -- "$@" --deploydirectories="${{STREAMING_DEPLOYDIRECTORIES}}"
fi
if [ -n "${{STREAMING_KEYSTORE:-}}" ]; then set -- "$@" --keystore="${{STREAMING_KEYSTORE}}"; fi
if [ -s "${{credentials}}/{KEYSTORE_PASSWORD_KEY}" ]; then
    set -- "$@" --keystorepassword="$(cat "${{credentials}}/{KEYSTORE_PASSWORD_KEY}")"
fi
start_hostname=""
{_RUN}"""

START_MONITOR_SCRIPT = f"""\
#!/bin/sh
# flow-platform: the sample's start-cluster-monitor with credentials from the mounted Secret (see
# flow_platform/eventflow/scripts.py for the source and the changes).
{_COMMON}
STREAMING_NODENAME="${{STREAMING_NODENAME:-${{POD_NAME}}.{MONITOR_NAME}}}"
# service discovery doesn't allow for '-' in streaming node name, so remove it
STREAMING_NODENAME="$(echo "${{STREAMING_NODENAME}}" | tr -d '-')"
set -- --substitutions="NODE_NAME=${{STREAMING_NODENAME}}" \\
    --application="${{STREAMING_PRODUCT_HOME}}/distrib/tibco/sb/applications/cluster-monitor.zip"
start_hostname="--hostname=${{POD_NAME}}"  # the sample: ${{HOSTNAME}}, the pod name
{_RUN}"""

PROBE_SCRIPT = f"""\
#!/bin/sh
# The health check with the admin credentials: read from the mounted Secret and handed to curl on
# stdin (a curl config), so they appear neither in the pod spec nor on a command line.
set -eu
credentials="${{FLOW_PLATFORM_CREDENTIALS_DIR:-{CREDENTIALS_DIR}}}"
case "${{POD_IP}}" in *:*) host="[${{POD_IP}}]" ;; *) host="${{POD_IP}}" ;; esac
user="$(cat "${{credentials}}/{USERNAME_KEY}")"
printf 'user = "%s:%s"\\n' "${{user}}" "$(cat "${{credentials}}/{PASSWORD_KEY}")" \\
    | curl --config - --fail --silent --show-error --max-time 4 --output /dev/null \\
        "http://${{host}}:{HEALTH_PORT}{HEALTH_PATH}"
"""


def scripts() -> dict[str, str]:
    """The ConfigMap data: file name to script."""
    return {START_NODE: START_NODE_SCRIPT, START_MONITOR: START_MONITOR_SCRIPT, PROBE: PROBE_SCRIPT}
