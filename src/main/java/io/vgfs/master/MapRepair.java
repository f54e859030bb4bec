package io.vgfs.master;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vgfs.master.ClusterMirror.Store;
import io.vgfs.protocol.FileInfo;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Makes the cluster maps equal to the active master's state, in the background once it serves.
 * The maps can differ after a take-over: Hazelcast loses the partitions that a data member held
 * alone when it dies while they are still migrating to a member that joined moments earlier, the
 * last active master may have mirrored writes it never acknowledged, and a cold start finds them
 * empty. They matter to standbys, which load them when they start following, so the active
 * master lets standbys follow only once the repair is done (and records that it is, see
 * {@link ClusterMirror}'s {@code mapsEpoch}); it serves clients meanwhile, from its own state.
 *
 * <p>A mutation made while the repair runs writes through itself and must never be undone. So
 * the repair reads the state on the master's event loop, at the moment it decides, and writes
 * conditionally on the value it read from the map ({@link ClusterMirror#replace},
 * {@link ClusterMirror#remove}): a value a mutation wrote meanwhile stays, whatever order
 * Hazelcast applies retried writes in. A key it removed and the state holds again by then is
 * written once more. Map reads and conditional writes run on a worker; never a whole map at once
 * on the event loop.
 */
final class MapRepair {

  private static final int BATCH = 2_000;

  private record Fix(String key, String have, String want) {
  }

  private record StoreView(Store store, List<String> keys, Predicate<String> present,
                           Function<String, String> encode) {
  }

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
    List<String> paths = new ArrayList<>(state.namespace().size());
    state.namespace().all().forEach(f -> paths.add(f.path()));
    StoreView files = new StoreView(Store.FILES, paths, p -> state.namespace().get(p) != null,
        p -> encode(state.namespace().get(p)));
    StoreView trash = new StoreView(Store.TRASH,
        state.trash().snapshot().stream().map(Trash.Entry::id).toList(),
        id -> state.trash().get(id) != null, id -> {
          Trash.Entry e = state.trash().get(id);
          return e == null ? null : e.toJson().encode();
        });
    StoreView snapshots = new StoreView(Store.SNAPSHOTS,
        state.snapshots().all().stream().map(Snapshots.Snapshot::name).toList(),
        name -> state.snapshots().get(name) != null, name -> {
          Snapshots.Snapshot s = state.snapshots().get(name);
          return s == null ? null : s.toJson().encode();
        });
    return repair(files).compose(v -> repair(trash)).compose(v -> repair(snapshots))
        .compose(v -> checkActive()).compose(v -> mirror.putDraining(state.draining()))
        .map(v -> fixed);
  }

  private static String encode(FileInfo f) {
    return f == null ? null : f.toJson().encode();
  }

  private Future<Void> checkActive() {
    return active.getAsBoolean() ? Future.succeededFuture()
        : Future.failedFuture("this master is no longer active");
  }

  // The state's keys batch by batch, then the keys only the map has.
  private Future<Void> repair(StoreView view) {
    return batch(view, 0)
        .compose(v -> vertx.executeBlocking(() -> mirror.keys(view.store()), false))
        .compose(inMap -> {
          List<String> extra = inMap.stream().filter(k -> !view.present().test(k)).toList();
          return removeExtras(view, extra, 0);
        });
  }

  private Future<Void> batch(StoreView view, int from) {
    if (from >= view.keys().size()) {
      return Future.succeededFuture();
    }
    Set<String> keys = new HashSet<>(view.keys().subList(from,
        Math.min(view.keys().size(), from + BATCH)));
    return checkActive()
        .compose(v -> vertx.executeBlocking(() -> mirror.read(view.store(), keys), false))
        .compose(have -> {
          List<Fix> fixes = new ArrayList<>();
          for (String k : keys) {
            String want = view.encode().apply(k); // null: removed meanwhile, removal written
            if (want != null && !want.equals(have.get(k))) {
              fixes.add(new Fix(k, have.get(k), want));
            }
          }
          return write(view, fixes);
        })
        .compose(v -> batch(view, from + BATCH));
  }

  private Future<Void> write(StoreView view, List<Fix> fixes) {
    if (fixes.isEmpty()) {
      return Future.succeededFuture();
    }
    return checkActive().compose(v -> vertx.executeBlocking(() -> {
      int n = 0;
      for (Fix f : fixes) {
        if (mirror.replace(view.store(), f.key(), f.have(), f.want())) {
          n++;
        }
      }
      return n;
    }, false)).map(n -> {
      fixed += n;
      return null;
    });
  }

  private Future<Void> removeExtras(StoreView view, List<String> extra, int from) {
    if (from >= extra.size()) {
      return Future.succeededFuture();
    }
    Set<String> keys = new HashSet<>(extra.subList(from, Math.min(extra.size(), from + BATCH)));
    return checkActive()
        .compose(v -> vertx.executeBlocking(() -> mirror.read(view.store(), keys), false))
        .compose(have -> {
          Map<String, String> remove = new java.util.HashMap<>();
          have.forEach((k, value) -> {
            if (!view.present().test(k)) {
              remove.put(k, value);
            }
          });
          if (remove.isEmpty()) {
            return Future.succeededFuture(List.<String>of());
          }
          return checkActive().compose(v -> vertx.executeBlocking(() -> {
            List<String> removed = new ArrayList<>();
            remove.forEach((k, value) -> {
              if (mirror.remove(view.store(), k, value)) {
                removed.add(k);
              }
            });
            return removed;
          }, false));
        })
        .compose(removed -> {
          fixed += removed.size();
          // A key the state holds again (a mutation since the decision) is written once more:
          // after our removal, which has completed, so nothing can reorder the two.
          List<Future<Void>> rewrites = new ArrayList<>();
          for (String k : removed) {
            String want = view.encode().apply(k);
            if (want != null) {
              rewrites.add(mirror.write(view.store(), k, want));
            }
          }
          return Future.all(rewrites);
        })
        .compose(v -> removeExtras(view, extra, from + BATCH));
  }
}
