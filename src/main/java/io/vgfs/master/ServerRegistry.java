package io.vgfs.master;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.ServerAddress;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The chunkservers the master knows, their health and space. Pure logic over
 * {@link ServerState}s, owned by the master's event loop; time is passed in.
 */
public final class ServerRegistry {

  private final Map<String, ServerState> servers = new LinkedHashMap<>();
  private final long heartbeatNanos;
  private final int deadAfterMissed;

  public ServerRegistry(long heartbeatMs, int deadAfterMissed) {
    this.heartbeatNanos = TimeUnit.MILLISECONDS.toNanos(heartbeatMs);
    this.deadAfterMissed = deadAfterMissed;
  }

  public ServerState get(String id) {
    return servers.get(id);
  }

  public Collection<ServerState> all() {
    return servers.values();
  }

  /** Records a registration or heartbeat; returns the server's state. */
  public ServerState update(JsonObject body, long nowNanos) {
    String id = body.getString("id");
    ServerState s = servers.computeIfAbsent(id, ServerState::new);
    if (body.containsKey("host")) {
      s.address = new ServerAddress(id, body.getString("host"), body.getInteger("port"));
    }
    if (body.containsKey("rack")) {
      s.rack = body.getString("rack");
    }
    if (body.containsKey("nodeId")) {
      s.nodeId = body.getString("nodeId");
    }
    s.free = body.getLong("free", s.free);
    s.capacity = body.getLong("capacity", s.capacity);
    s.used = body.getLong("used", s.used);
    s.chunkCount = body.getInteger("chunkCount", s.chunkCount);
    s.lastHeartbeatNanos = nowNanos;
    s.recentAllocations = 0;
    s.left = false;
    return s;
  }

  /** Marks every server of a cluster node that left as dead; returns their ids. */
  public List<String> nodeLeft(String nodeId) {
    List<String> gone = new ArrayList<>();
    for (ServerState s : servers.values()) {
      if (nodeId.equals(s.nodeId) && !s.left) {
        s.left = true;
        gone.add(s.id);
      }
    }
    return gone;
  }

  public ServerState.Health health(ServerState s, long nowNanos) {
    return s.health(nowNanos, heartbeatNanos, deadAfterMissed);
  }

  /** Servers that may receive new chunks: alive, not suspect. */
  public List<ServerState> writable(long nowNanos) {
    List<ServerState> out = new ArrayList<>();
    for (ServerState s : servers.values()) {
      if (s.address != null && health(s, nowNanos) == ServerState.Health.ALIVE) {
        out.add(s);
      }
    }
    return out;
  }

  /**
   * The servers for a new chunk's {@code n} replicas, in {@link Placement}'s order: alive ones,
   * then, only when too few are alive, suspect ones. One late heartbeat (a disk busy with many
   * streams, a long pause) makes a server suspect far more often than a crash does; trying it
   * beats refusing the write, and a dead one fails the write, which the client retries elsewhere.
   */
  public List<ServerState> forNewChunk(long nowNanos, int n, Set<String> exclude) {
    List<ServerState> chosen = new ArrayList<>(Placement.choose(writable(nowNanos), n, exclude));
    if (chosen.size() < n) {
      List<ServerState> suspect = new ArrayList<>();
      for (ServerState s : servers.values()) {
        if (s.address != null && health(s, nowNanos) == ServerState.Health.SUSPECT) {
          suspect.add(s);
        }
      }
      chosen.addAll(Placement.choose(suspect, n - chosen.size(), exclude));
    }
    return chosen;
  }

  /** Ids of servers whose replicas may be read: alive or suspect. */
  public Set<String> readable(long nowNanos) {
    Set<String> out = new HashSet<>();
    for (ServerState s : servers.values()) {
      if (s.address != null && health(s, nowNanos) != ServerState.Health.DEAD) {
        out.add(s.id);
      }
    }
    return out;
  }

  /** Ids of servers that have just become dead and were not reported before. */
  public List<String> newlyDead(long nowNanos, Set<String> alreadyDead) {
    List<String> out = new ArrayList<>();
    for (ServerState s : servers.values()) {
      if (health(s, nowNanos) == ServerState.Health.DEAD && alreadyDead.add(s.id)) {
        out.add(s.id);
      } else if (health(s, nowNanos) != ServerState.Health.DEAD) {
        alreadyDead.remove(s.id);
      }
    }
    return out;
  }

  /** The {@code chunkservers} array of the cluster status. */
  public JsonArray statusJson(long nowNanos) {
    JsonArray arr = new JsonArray();
    for (ServerState s : servers.values()) {
      ServerState.Health h = health(s, nowNanos);
      JsonObject json = new JsonObject().put("id", s.id)
          .put("host", s.address == null ? null : s.address.host())
          .put("port", s.address == null ? null : s.address.port())
          .put("state", h.name().toLowerCase(java.util.Locale.ROOT))
          .put("alive", h != ServerState.Health.DEAD)
          .put("chunks", s.chunkCount)
          .put("usedBytes", s.used)
          .put("freeBytes", s.free)
          .put("capacityBytes", s.capacity)
          .put("lastHeartbeatAgeMs", TimeUnit.NANOSECONDS.toMillis(nowNanos - s.lastHeartbeatNanos));
      if (s.rack != null) {
        json.put("rack", s.rack);
      }
      arr.add(json);
    }
    return arr;
  }
}
