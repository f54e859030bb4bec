package io.vgfs.master;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.VgfsException;

import java.util.List;

/**
 * The mutation pipeline of the active master: a mutation is applied to the in-memory state at
 * once (so requests that follow see it and are validated against it), and acknowledged only when
 * its log record is on disk and, where they are what a take-over would rely on, the Hazelcast maps
 * hold it. Reads pass a barrier first, so a read never reports a mutation that could still be
 * lost.
 *
 * <p>Every mutation is written to the maps in order; the acknowledgement waits for that write only
 * while {@link #mirrorNeeded} says so: with master quorum 1 and a standby present, which takes over
 * from the maps. Alone, the maps have no copy on another member, so only this master's log keeps
 * the mutation; with a quorum, the masters' logs do ({@link LogShipper}). Waiting there bought
 * nothing and cost the most of a small file's commit. A standby that starts following waits for
 * every map write issued so far ({@link #mirrored()}) before it reads the maps.
 */
final class Metadata {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Metadata.class);

  private final MetadataState state;
  private final MetaLog log;
  private final ClusterMirror mirror;
  private final Runnable onLogFailure;
  private final java.util.Set<Future<Void>> mirroring = new java.util.HashSet<>();
  private LogShipper shipper;
  private java.util.function.BooleanSupplier mayAcknowledge = () -> true;
  private java.util.function.BooleanSupplier mirrorNeeded = () -> true;
  private boolean failed;

  Metadata(MetadataState state, MetaLog log, ClusterMirror mirror, Runnable onLogFailure) {
    this.state = state;
    this.log = log;
    this.mirror = mirror;
    this.onLogFailure = onLogFailure;
  }

  /**
   * From now on records also go to the standbys, and acknowledgements need {@code guard}; they
   * wait for the maps only while {@code mirrorNeeded} holds.
   */
  void replicate(LogShipper shipper, java.util.function.BooleanSupplier guard,
                 java.util.function.BooleanSupplier mirrorNeeded) {
    this.shipper = shipper;
    this.mayAcknowledge = guard;
    this.mirrorNeeded = mirrorNeeded;
  }

  /** Stops every further mutation (the master stepped down). */
  void close() {
    failed = true;
  }

  MetaLog log() {
    return log;
  }

  /** Completes when every write to the Hazelcast maps issued so far has completed. */
  Future<Void> mirrored() {
    return Future.join(new java.util.ArrayList<>(mirroring)).mapEmpty();
  }

  MetadataState state() {
    return state;
  }

  /** Applies and persists a record; completes with the file it replaced or removed. */
  Future<FileInfo> mutate(JsonObject record, List<List<String>> acked) {
    if (failed) {
      return Future.failedFuture(new VgfsException(ErrorCode.NOT_ACTIVE,
          "this master lost its metadata log and is stepping down"));
    }
    // A restore may displace a file at its path; the mirror must drop that one's chunks too.
    FileInfo displaced = "restore".equals(record.getString("op")) && state.trash().get(
        record.getString("id")) != null
        ? state.namespace().get(state.trash().get(record.getString("id")).file().path()) : null;
    List<String> renamedFrom = new java.util.ArrayList<>();
    List<String> renamedTo = new java.util.ArrayList<>();
    if ("rename".equals(record.getString("op"))) {
      for (Object o : record.getJsonArray("moves")) {
        renamedFrom.add(((JsonObject) o).getString("from"));
        renamedTo.add(((JsonObject) o).getString("to"));
      }
    }
    FileInfo old = state.apply(record, acked);
    Future<Void> durable = log.append(record).onFailure(t -> {
      if (!failed) {
        failed = true;
        onLogFailure.run();
      }
    });
    Future<Void> mirrored = switch (record.getString("op")) {
      case "put" -> mirror.put(state.namespace().get(
          record.getJsonObject("file").getString("path")), old);
      case "delete" -> old == null ? Future.succeededFuture()
          : mirror.trash(state.trash().get(record.getString("id")));
      case "restore" -> old == null ? Future.succeededFuture()
          : mirror.restore(record.getString("id"), old, displaced);
      case "purge" -> old == null ? Future.succeededFuture()
          : mirror.purge(record.getString("id"), old);
      case "drain" -> mirror.putCluster("draining", new io.vertx.core.json.JsonArray(
          new java.util.ArrayList<>(state.draining())).encode());
      case "epoch" -> mirror.putCluster("epoch", String.valueOf(record.getLong("epoch")));
      case "rename" -> mirror.rename(renamedFrom, renamedTo.stream()
          .map(p -> state.namespace().get(p)).filter(java.util.Objects::nonNull).toList());
      case "snapshot" -> mirror.putSnapshot(state.snapshots().get(
          record.getJsonObject("snapshot").getString("name")));
      case "snapshot-delete" -> mirror.removeSnapshot(record.getString("name"));
      case "append", "version" -> {
        FileInfo now = state.namespace().get(record.getString("path"));
        yield now == null ? Future.succeededFuture() : mirror.put(now, null);
      }
      default -> Future.succeededFuture();
    };
    mirroring.add(mirrored);
    mirrored.onComplete(ar -> mirroring.remove(mirrored));
    Future<Void> shipped = shipper == null ? Future.succeededFuture() : shipper.ship(record.copy());
    Future<Void> awaited = mirrored;
    if (!mirrorNeeded.getAsBoolean()) {
      // The next take-over repairs the maps from a log (MapRepair); say so if they lag.
      mirrored.onFailure(t -> LOG.warn("writing a {} record to the cluster maps failed: {}",
          record.getString("op"), t.toString()));
      awaited = Future.succeededFuture();
    }
    return Future.all(durable, awaited, shipped)
        .recover(t -> Future.failedFuture(new VgfsException(ErrorCode.UNAVAILABLE,
            "metadata could not be made durable: " + t.getMessage(), t)))
        .compose(v -> failed || !mayAcknowledge.getAsBoolean()
            ? Future.failedFuture(new VgfsException(ErrorCode.NOT_ACTIVE,
                "this master is stepping down; retry with the new one"))
            : Future.succeededFuture(old));
  }

  /** Completes when every mutation applied so far is durable; fails once stepped down. */
  Future<Void> barrier() {
    if (failed || !mayAcknowledge.getAsBoolean()) {
      return Future.failedFuture(new VgfsException(ErrorCode.NOT_ACTIVE,
          "this master is stepping down; retry with the new one"));
    }
    // With a master quorum a mutation is lost unless a quorum holds it, even once it is on disk
    // here (a retried commit returns at once if its file is already there).
    Future<Void> durable = shipper == null ? log.barrier()
        : log.barrier().compose(v -> shipper.barrier());
    // Waiting may have taken a while: a master replaced meanwhile must not answer.
    return durable.compose(v -> failed || !mayAcknowledge.getAsBoolean()
        ? Future.failedFuture(new VgfsException(ErrorCode.NOT_ACTIVE,
            "this master is stepping down; retry with the new one"))
        : Future.succeededFuture());
  }
}
