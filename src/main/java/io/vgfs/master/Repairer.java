package io.vgfs.master;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Keeps every chunk at its replication factor by itself. Chunks whose replica count may have
 * changed (a server died, a replica was found corrupt, a copy finished, a server started draining)
 * are looked at; missing replicas are copied chunkserver to chunkserver, the most endangered
 * chunks first (one live replica before two); surplus replicas are deleted. When there is nothing
 * to repair, a balancer moves replicas from the fullest to the emptiest chunkserver until their
 * disk use is within the configured spread. Copies are limited in number (cluster-wide and per
 * server) and each chunkserver sends them within its own bandwidth budget, so client traffic keeps
 * flowing. Replicas on draining servers do not count: draining copies them elsewhere first.
 *
 * <p>Runs on the master's event loop, driven by {@link #tick(long)}.
 */
final class Repairer {

  private static final Logger log = LoggerFactory.getLogger(Repairer.class);
  private static final int PER_SERVER = 2;

  private record Task(long chunk, String source, String target, boolean move, long length,
                      long version) {
  }

  private record Need(long chunk, int live) {
  }

  private final Vertx vertx;
  private final MetadataState state;
  private final ServerRegistry registry;
  private final MasterOptions options;
  private final long epoch;
  private final Map<Long, Task> inFlight = new HashMap<>();
  private final Map<String, Integer> busy = new HashMap<>();
  private final PriorityQueue<Need> queue =
      new PriorityQueue<>(Comparator.comparingInt(Need::live).thenComparingLong(Need::chunk));
  private final Set<Long> queued = new HashSet<>();
  private long copies;
  private long moves;
  private long failures;
  private long bytes;
  private long removed;

  private final java.util.function.LongPredicate leased;

  Repairer(Vertx vertx, MetadataState state, ServerRegistry registry, MasterOptions options,
           long epoch, java.util.function.LongPredicate leased) {
    this.leased = leased;
    this.vertx = vertx;
    this.state = state;
    this.registry = registry;
    this.options = options;
    this.epoch = epoch;
  }

  /** One round: look at what changed, start copies while slots are free, then balance. */
  void tick(long now) {
    Set<String> counting = counting(now);
    for (long id : state.chunks().takeAttention(20_000)) {
      evaluate(id, counting);
    }
    List<Need> deferred = new ArrayList<>();
    while (inFlight.size() < options.repairParallelism() && !queue.isEmpty()) {
      Need n = queue.poll();
      queued.remove(n.chunk());
      if (!startRepair(n.chunk(), counting, now)) {
        deferred.add(n);
      }
    }
    deferred.forEach(n -> {
      queue.add(n);
      queued.add(n.chunk());
    });
    if (queue.isEmpty() && inFlight.size() < Math.max(1, options.repairParallelism() / 2)) {
      balance(now);
    }
  }

  /** Servers whose replicas count towards replication: readable and not draining. */
  private Set<String> counting(long now) {
    Set<String> live = registry.readable(now);
    live.removeAll(state.draining());
    return live;
  }

  private void evaluate(long id, Set<String> counting) {
    ChunkTable.Chunk c = state.chunks().get(id);
    if (c == null || inFlight.containsKey(id) || leased.test(id)) {
      return; // a chunk open for appends changes under any copy; looked at when its lease ends
    }
    List<String> good = new ArrayList<>();
    for (String s : c.replicas()) {
      if (counting.contains(s)) {
        good.add(s);
      }
    }
    int r = options.replication();
    if (good.size() < r) {
      if (!good.isEmpty() || c.replicas().stream().anyMatch(s -> state.draining().contains(s))) {
        if (queued.add(id)) {
          queue.add(new Need(id, good.size()));
        }
      }
      return;
    }
    // Enough good replicas: whatever else there is (draining servers, surplus) can go.
    List<String> extra = new ArrayList<>();
    for (String s : c.replicas()) {
      if (!counting.contains(s) && state.draining().contains(s)) {
        extra.add(s);
      }
    }
    if (good.size() > r) {
      good.sort(Comparator.comparingDouble((String s) -> usage(s)).reversed());
      extra.addAll(good.subList(0, good.size() - r));
    }
    for (String s : extra) {
      state.chunks().removeReplica(id, s);
      removed++;
    }
  }

  private boolean startRepair(long id, Set<String> counting, long now) {
    ChunkTable.Chunk c = state.chunks().get(id);
    if (c == null || inFlight.containsKey(id)) {
      return true; // nothing to do any more
    }
    Set<String> readable = registry.readable(now);
    String source = null;
    for (String s : c.replicas()) {
      if (readable.contains(s) && busy.getOrDefault(s, 0) < PER_SERVER
          && (source == null || busy.getOrDefault(s, 0) < busy.getOrDefault(source, 0))) {
        source = s;
      }
    }
    String target = pickTarget(c, now);
    if (source == null || target == null) {
      return false;
    }
    copy(new Task(id, source, target, false, c.length, c.version));
    return true;
  }

  private String pickTarget(ChunkTable.Chunk c, long now) {
    List<ServerState> candidates = new ArrayList<>();
    for (ServerState s : registry.writable(now)) {
      if (!state.draining().contains(s.id()) && busy.getOrDefault(s.id(), 0) < PER_SERVER
          && !state.chunks().deleting(s.id(), c.id(), now)) {
        candidates.add(s);
      }
    }
    List<ServerState> chosen = Placement.choose(candidates, 1, new HashSet<>(c.replicas()));
    return chosen.isEmpty() ? null : chosen.get(0).id();
  }

  private void balance(long now) {
    List<ServerState> servers = new ArrayList<>();
    for (ServerState s : registry.writable(now)) {
      if (!state.draining().contains(s.id()) && s.capacity() > 0) {
        servers.add(s);
      }
    }
    if (servers.size() < 2) {
      return;
    }
    servers.sort(Comparator.comparingDouble(ServerState::usage));
    ServerState emptiest = servers.get(0);
    ServerState fullest = servers.get(servers.size() - 1);
    double spread = (fullest.usage() - emptiest.usage()) * 100;
    if (spread <= options.balanceSpread() || busy.getOrDefault(fullest.id(), 0) >= PER_SERVER
        || busy.getOrDefault(emptiest.id(), 0) >= PER_SERVER) {
      return;
    }
    for (long id : state.chunks().held(fullest.id())) {
      ChunkTable.Chunk c = state.chunks().get(id);
      if (c != null && !inFlight.containsKey(id) && !leased.test(id)
          && !c.replicas().contains(emptiest.id())
          && !state.chunks().deleting(emptiest.id(), id, now)) {
        // Moving must not overshoot: the chunk has to shrink the gap.
        double after = (fullest.used() - c.length) / (double) fullest.capacity()
            - (emptiest.used() + c.length) / (double) emptiest.capacity();
        if (after < -options.balanceSpread() / 100.0) {
          return;
        }
        copy(new Task(id, fullest.id(), emptiest.id(), true, c.length, c.version));
        return;
      }
    }
  }

  private void copy(Task t) {
    inFlight.put(t.chunk(), t);
    busy.merge(t.source(), 1, Integer::sum);
    busy.merge(t.target(), 1, Integer::sum);
    ServerState target = registry.get(t.target());
    JsonObject cmd = new JsonObject().put("op", "replicate").put("chunk", t.chunk())
        .put("epoch", epoch).put("target", target.address().toJson());
    long timeout = 30_000 + t.length() / 1024; // a generous floor of 1 MB/s
    vertx.eventBus().<JsonObject>request(Addresses.chunkserver(t.source()), cmd,
        new DeliveryOptions().setSendTimeout(timeout)).onComplete(ar -> {
          inFlight.remove(t.chunk());
          busy.merge(t.source(), -1, Integer::sum);
          busy.merge(t.target(), -1, Integer::sum);
          if (ar.failed()) {
            failures++;
            log.warn("copying chunk {} from {} to {} failed: {}", Long.toHexString(t.chunk()),
                t.source(), t.target(), ar.cause().getMessage());
            state.chunks().needsAttention(t.chunk());
            return;
          }
          ChunkTable.Chunk now = state.chunks().get(t.chunk());
          if (now == null || now.version() != t.version() || now.length() != t.length()) {
            // Appended to (or collected) while it was being copied: the copy is stale.
            state.chunks().discard(t.chunk(), t.target());
            state.chunks().needsAttention(t.chunk());
            return;
          }
          bytes += t.length();
          state.chunks().addReplica(t.chunk(), t.target());
          ServerState dst = registry.get(t.target());
          if (dst != null) {
            dst.used += t.length();
            dst.free -= t.length();
          }
          if (t.move()) {
            moves++;
            state.chunks().removeReplica(t.chunk(), t.source());
            ServerState src = registry.get(t.source());
            if (src != null) {
              src.used -= t.length();
              src.free += t.length();
            }
          } else {
            copies++;
          }
        });
  }

  /** Remaining work of a draining server: its chunks not yet fully replicated elsewhere. */
  int drainRemaining(String server, long now) {
    Set<String> counting = counting(now);
    int n = 0;
    for (long id : state.chunks().held(server)) {
      ChunkTable.Chunk c = state.chunks().get(id);
      if (c != null && c.replicas().stream().filter(counting::contains).count()
          < options.replication()) {
        n++;
      }
    }
    return n;
  }

  JsonObject status() {
    return new JsonObject().put("copiesInFlight", inFlight.size()).put("queued", queue.size())
        .put("copiesDone", copies).put("movesDone", moves).put("bytesCopied", bytes)
        .put("replicasRemoved", removed).put("failures", failures);
  }

  private double usage(String server) {
    ServerState s = registry.get(server);
    return s == null ? 0 : s.usage();
  }
}
