# vgfs container image: one image for every role (master, chunkserver, gateway, dev); the role is
# the command, e.g. `docker run vgfs master`. See the README's "Docker" section and
# docker-compose.yml for a whole cluster.
#
#   docker build -t vgfs .

# --- Stage 1: build target/vgfs.jar (the shaded jar) with Maven ---------------------------------
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /build
# Dependencies first, in their own layer: it is rebuilt only when pom.xml changes.
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

# --- Stage 2: the runtime image: a JRE, the jar, a non-root user ---------------------------------
FROM eclipse-temurin:17-jre

# A fixed uid/gid so that bind-mounted host directories can be given to it (chown 10001:10001).
RUN groupadd --system --gid 10001 vgfs \
 && useradd --system --uid 10001 --gid vgfs --home-dir /opt/vgfs --no-create-home \
      --shell /usr/sbin/nologin vgfs \
 && mkdir -p /opt/vgfs /data \
 && chown vgfs:vgfs /data

COPY --from=build /build/target/vgfs.jar /opt/vgfs/vgfs.jar
COPY docker/entrypoint.sh /opt/vgfs/entrypoint.sh
RUN chmod 0755 /opt/vgfs/entrypoint.sh

# Inside a container, listening on loopback is useless: the HTTP and chunk-data ports
# (VGFS_BIND) and Hazelcast plus the event bus (VGFS_CLUSTER_HOST) listen on every interface of
# the container, and the entry point advertises the container's own IP address
# (VGFS_PUBLIC_HOST) to the peers. Flags given to `docker run` still beat these variables.
# JAVA_OPTS: the --add-opens set of pom.xml (vgfs.jvm.opens), a heap sized from the container's
# memory limit, and IPv4 sockets as in the tests; replace JAVA_OPTS whole to change it.
ENV VGFS_DATA_DIR=/data \
    VGFS_BIND=0.0.0.0 \
    VGFS_CLUSTER_HOST=0.0.0.0 \
    JAVA_OPTS="--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED --add-exports java.base/jdk.internal.ref=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED -XX:MaxRAMPercentage=75 -Djava.net.preferIPv4Stack=true"

# Metadata (master) or chunks (chunkserver). Declared after the chown: a new volume mounted here
# starts as a copy of this directory, owned by vgfs.
VOLUME ["/data"]

# 8080: gateway HTTP (--http-port); 7000: chunkserver data port (give --port 7000, the default 0
# picks any free port); 5701: Hazelcast (--cluster-port). The event bus uses a random port.
EXPOSE 8080 7000 5701

# No HEALTHCHECK: the JRE image has no curl or wget, a JVM started every few seconds to probe
# would cost more than the service it checks, and the roles differ (only the gateway has HTTP).
# docker-compose.yml probes the gateway's /health with bash's /dev/tcp instead.

USER vgfs
WORKDIR /opt/vgfs
ENTRYPOINT ["/opt/vgfs/entrypoint.sh"]
CMD ["--help"]
