#!/usr/bin/env bash
# A real OpenSSH sshd for the tests of agents over SSH (SshTunnelTest, RemoteAgentUITest):
# on 127.0.0.1:PORT only, with its own host key and one authorized key, for the user who
# runs it. Writes DIR/ssh_config for the client (ssh -F DIR/ssh_config), then runs sshd in
# the foreground: stop it with SIGTERM. BIN, if given, goes first on the sessions' PATH
# (a stand-in for the remote host's hprobed). Exit status 77: no sshd here.
# usage: loopback-sshd.sh DIR PORT [BIN]
set -euo pipefail
dir=$1 port=$2 bin=${3:-}
sshd=
for c in "${HPROBE_SSHD:-}" /usr/sbin/sshd /opt/hprobe-test/openssh/usr/sbin/sshd; do
	if [ -n "$c" ] && [ -x "$c" ]; then sshd=$c; break; fi
done
if [ -z "$sshd" ]; then
	echo "no sshd (\$HPROBE_SSHD, /usr/sbin/sshd, or the copy releng/scripts/setup-system.sh unpacks)" >&2
	exit 77
fi
# as root, sshd needs its privilege separation directory
[ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$dir/host"
ssh-keygen -q -t ed25519 -N '' -f "$dir/id"
cp "$dir/id.pub" "$dir/authorized_keys"
# StrictModes no: the keys sit in a temporary directory under the sticky /tmp
cat > "$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF
[ -z "$bin" ] || echo "SetEnv PATH=$bin:/usr/bin:/bin" >> "$dir/sshd_config"
cat > "$dir/ssh_config" <<EOF
Host *
  IdentityFile $dir/id
  IdentitiesOnly yes
  UserKnownHostsFile $dir/known_hosts
  StrictHostKeyChecking accept-new
EOF
exec "$sshd" -D -e -f "$dir/sshd_config"
