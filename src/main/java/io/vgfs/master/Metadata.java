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
 * its log record is on disk and the Hazelcast maps hold it. Reads pass a barrier first, so a read
 * never reports a mutation that could still be lost.
 */
final class Metadata {

  private final MetadataState state;
  private final MetaLog log;
  private final ClusterMirror mirror;
  private final Runnable onLogFailure;
  private boolean failed;

  Metadata(MetadataState state, MetaLog log, ClusterMirror mirror, Runnable onLogFailure) {
    this.state = state;
    this.log = log;
    this.mirror = mirror;
    this.onLogFailure = onLogFailure;
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
      case "delete" -> old == null ? Future.succeededFuture() : mirror.remove(old);
      case "epoch" -> mirror.putCluster("epoch", String.valueOf(record.getLong("epoch")));
      default -> Future.succeededFuture();
    };
    return Future.all(durable, mirrored)
        .recover(t -> Future.failedFuture(new VgfsException(ErrorCode.UNAVAILABLE,
            "metadata could not be made durable: " + t.getMessage(), t)))
        .map(v -> old);
  }

  /** Completes when every mutation applied so far is durable. */
  Future<Void> barrier() {
    return log.barrier();
  }
}
