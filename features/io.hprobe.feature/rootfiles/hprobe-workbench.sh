#!/bin/sh
# Starts the HProbe Workbench product. There is no native launcher (org.eclipse.equinox.executable is
# not on Maven Central), so this runs the launcher jar, which reads configuration/config.ini beside plugins/.
#   HPROBE_WORKSPACE  workspace (-data), default ~/.hprobe/workspace
#   HPROBE_JAVA_OPTS  JVM options, default -Xmx1g
#   JAVA_HOME         Java 17 or newer; else java from PATH
#   HPROBE_AGENT      hprobed to start when no agent listens (else bin/hprobed here, else PATH)
#   HPROBE_LIBHPROBE  libhprobe.so for exports and offline journals (else lib/libhprobe.so here)
# Further arguments go to the workbench, e.g. -consoleLog or -clean; a journal (NAME.hpj) opens at start.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
java=java
[ -n "${JAVA_HOME:-}" ] && java="$JAVA_HOME/bin/java"
# a product holds one launcher jar; take the first match
for launcher in "$here"/plugins/org.eclipse.equinox.launcher_*.jar; do break; done
if [ ! -f "$launcher" ]; then
  echo "hprobe-workbench: no plugins/org.eclipse.equinox.launcher_*.jar under $here" >&2
  exit 1
fi
workspace=${HPROBE_WORKSPACE:-$HOME/.hprobe/workspace}
if [ -z "${HPROBE_LIBHPROBE:-}" ] && [ -f "$here/lib/libhprobe.so" ]; then
  HPROBE_LIBHPROBE="$here/lib/libhprobe.so"
  export HPROBE_LIBHPROBE
fi
# shellcheck disable=SC2086 # HPROBE_JAVA_OPTS is a list of options
exec "$java" ${HPROBE_JAVA_OPTS:--Xmx1g} -jar "$launcher" -data "$workspace" "$@"
