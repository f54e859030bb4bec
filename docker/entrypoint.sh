#!/bin/sh
# Entry point of the vgfs image: `docker run vgfs ROLE [flags]` runs
# `java $JAVA_OPTS -jar /opt/vgfs/vgfs.jar ROLE [flags]` as PID 1 (signals reach the JVM, whose
# shutdown hook leaves the cluster cleanly on `docker stop`).
#
# Peers must reach this container at an address they can route to, and with VGFS_CLUSTER_HOST and
# VGFS_BIND at 0.0.0.0 vgfs cannot tell which one that is: unless VGFS_PUBLIC_HOST (or
# --public-host) is given, it is set here to the container's own IP address on its network.
set -eu

if [ -z "${VGFS_PUBLIC_HOST:-}" ]; then
  # `hostname -i` lists the addresses the container's hostname resolves to (Docker writes them
  # to /etc/hosts). Take the first IPv4 one that is not loopback (the JVM runs IPv4-only, see
  # JAVA_OPTS, and a dual-stack network may list an IPv6 address first); failing that, the first.
  addrs=$(hostname -i 2>/dev/null || getent hosts "$(hostname)" 2>/dev/null | awk '{ print $1 }' || true)
  public=""
  for a in $addrs; do
    case "$a" in
      *:*|127.*) ;;
      *) public=$a; break ;;
    esac
  done
  if [ -z "$public" ]; then
    for a in $addrs; do public=$a; break; done
  fi
  if [ -n "$public" ]; then
    VGFS_PUBLIC_HOST=$public
    export VGFS_PUBLIC_HOST
  else
    echo "vgfs entrypoint: cannot find this container's IP address; set VGFS_PUBLIC_HOST" >&2
  fi
fi

# `docker run -it vgfs sh` (or any other command) runs that command instead of vgfs.
case "${1:-}" in
  ""|-*|dev|master|chunkserver|gateway) ;;
  *) exec "$@" ;;
esac

# The heaps ./vgfs gives a gateway (it only streams: peak RSS under 300 MiB while 4 clients
# stream 1 GiB each, with the serial collector and freed C heap trimmed every second) and a chunkserver (without a bound its garbage grew to GiBs under many
# streams), unless JAVA_OPTS names a heap size itself.
case " ${JAVA_OPTS:-} " in
  *" -Xmx"*) ;;
  *)
    case "${1:-}" in
      gateway) JAVA_OPTS="${JAVA_OPTS:-} -Xmx128m -XX:+UseSerialGC -XX:TrimNativeHeapInterval=1000" ;;
      chunkserver) JAVA_OPTS="${JAVA_OPTS:-} -Xmx512m" ;;
    esac
    ;;
esac

# JAVA_OPTS is split into words on purpose.
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:-} -jar /opt/vgfs/vgfs.jar "$@"
