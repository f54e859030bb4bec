package io.vgfs.master;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vgfs.master.ClusterMirror.Store;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Makes the cluster maps equal to the active master's state, in the background once it serves.
 * The maps can differ after a take-over: Hazelcast loses the partitions that a data member held
 * alone when it dies before their backups have migrated to a member that joined moments earlier,
 * the last active master may have mirrored writes it never acknowledged, and a cold start finds
 * them empty. They matter to standbys, which load them when they start following, so the active
 * master lets standbys follow only once the repair is done; it serves clients meanwhile, from its
 * own state. The repair never empties a map, and it reads the state on the master's event loop
 * and writes what the state holds at that moment, so a mutation made meanwhile (which writes
 * through itself) is never undone. Runs on the master verticle's event loop.
 */
final class MapRepair {

  private static final int BATCH = 2_000;

  private final Vertx vertx;
  private final ClusterMirror mirror;
  private final MetadataState state;
  private final BooleanSupplier active;
  private int fixed;

  MapRepair(Vertx vertx, ClusterMirror mirror, MetadataState state, BooleanSupplier active) {
    this.vertx = vertx;
    this.mirror = mirror;
    this.state = state;
    this.active = active;
  }

  /** Repairs every map; completes with the number of entries written or removed. */
  Future<Integer> run() {
    return repair(Store.FILES, paths(), p -> encode(state.namespace().get(p)))
        .compose(v -> repair(Store.TRASH, state.trash().snapshot().stream().map(Trash.Entry::id)
            .toList(), id -> {
              Trash.Entry e = state.trash().get(id);
              return e == null ? null : e.toJson().encode();
            }))
        .compose(v -> repair(Store.SNAPSHOTS, state.snapshots().all().stream()
            .map(Snapshots.Snapshot::name).toList(), name -> {
              Snapshots.Snapshot s = state.snapshots().get(name);
              return s == null ? null : s.toJson().encode();
            }))
        .compose(v -> mirror.putDraining(state.draining()))
        .map(v -> fixed);
  }

  private List<String> paths() {
    List<String> out = new ArrayList<>(state.namespace().size());
    state.namespace().all().forEach(f -> out.add(f.path()));
    return out;
  }

  private static String encode(io.vgfs.protocol.FileInfo f) {
    return f == null ? null : f.toJson().encode();
  }

  // The state's keys batch by batch, then the keys only the map has.
  private Future<Void> repair(Store store, List<String> keys, Function<String, String> current) {
    return batch(store, keys, 0, current)
        .compose(v -> vertx.executeBlocking(() -> mirror.keys(store), false))
        .compose(inMap -> {
          List<Future<Void>> writes = new ArrayList<>();
          for (String k : inMap) {
            if (current.apply(k) == null) {
              writes.add(mirror.delete(store, k));
            }
          }
          fixed += writes.size();
          return Future.all(writes).<Void>mapEmpty();
        });
  }

  private Future<Void> batch(Store store, List<String> keys, int from,
                             Function<String, String> current) {
    if (from >= keys.size()) {
      return Future.succeededFuture();
    }
    if (!active.getAsBoolean()) {
      return Future.failedFuture("this master is no longer active");
    }
    Set<String> batch = new HashSet<>(keys.subList(from, Math.min(keys.size(), from + BATCH)));
    return vertx.executeBlocking(() -> mirror.read(store, batch), false).compose(have -> {
      List<Future<Void>> writes = new ArrayList<>();
      for (String k : batch) {
        String want = current.apply(k); // null: removed meanwhile, and its removal written
        if (want != null && !want.equals(have.get(k))) {
          writes.add(mirror.write(store, k, want));
        }
      }
      fixed += writes.size();
      return Future.all(writes);
    }).compose(v -> batch(store, keys, from + BATCH, current));
  }
}
