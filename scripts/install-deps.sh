#!/usr/bin/env bash
# Installs the Debian packages myzoo's sandbox and tests need, when they are missing.
set -euo pipefail
# libservlet-api-java: ZooKeeper's AdminServer (Jetty) needs it; the ensemble tests read the AdminServer.
# zookeeper depends on libzookeeper-java, which depends on libnetty-java: the Netty jars the
# TLS client port of `myzoo sandbox up --tls` needs (/usr/share/java/netty-*.jar). Listed
# here too, so a missing one is installed even where the zookeeper package already is.
# man-db: tests/install.rs renders the generated man pages with `man -l`; systemd: its
# `systemd-analyze verify` checks the agent's unit (both are on most Debian machines already).
# haproxy: tests/haproxy.rs runs HAProxy on the configs `myzoo haproxy-config` generates.
packages=(zookeeper libservlet-api-java libnetty-java mariadb-server mariadb-client default-jre-headless man-db systemd haproxy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The packages' own services are not wanted: myzoo starts its own servers on loopback ports.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
