package io.vgfs.chunkserver;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetSocket;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.ServerAddress;
import io.vgfs.protocol.data.DataChannel;
import io.vgfs.protocol.data.DataChannelPool;
import io.vgfs.protocol.data.ErrorFrame;
import io.vgfs.protocol.data.Frame;
import io.vgfs.protocol.data.FrameType;
import io.vgfs.protocol.data.Frames;
import io.vgfs.protocol.data.ReadHeader;
import io.vgfs.protocol.data.ReadRequest;
import io.vgfs.protocol.data.ReplicaException;
import io.vgfs.protocol.data.WriteEnd;
import io.vgfs.protocol.data.WriteOpen;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;

/**
 * The server side of one data connection: a small state machine that runs one exchange at a
 * time (a chunk write or a range read) and returns to idle, so clients can reuse the connection.
 * Any protocol violation or failure sends an ERROR frame and closes the connection.
 */
final class DataConnection {

  private static final Logger log = LoggerFactory.getLogger(DataConnection.class);

  private enum State { IDLE, WRITING, FINISHING, READING, APPENDING, CLOSED }

  /** Forwarded batches are at most a few records; this bounds what one connection may hold. */
  private static final long MAX_FORWARD = 256L * 1024 * 1024;

  private final Vertx vertx;
  private final ChunkStore store;
  private final DataChannelPool pool;
  private final EpochFence fence;
  private final AppendService appends;
  private final DataChannel channel;
  private final ServingStats stats;
  private State state = State.IDLE;
  private ChunkWriteSession write;

  DataConnection(Vertx vertx, ChunkStore store, DataChannelPool pool, EpochFence fence,
                 AppendService appends, ServingStats stats, NetSocket socket) {
    this.vertx = vertx;
    this.stats = stats;
    this.store = store;
    this.pool = pool;
    this.fence = fence;
    this.appends = appends;
    socket.setWriteQueueMaxSize(DataChannelPool.WRITE_QUEUE_BYTES);
    ServerAddress peer = new ServerAddress("client", socket.remoteAddress().host(),
        socket.remoteAddress().port());
    this.channel = new DataChannel(socket, peer, true).handlers(this::onFrame, this::onFailure);
    stats.connections.incrementAndGet();
    channel.closedHandler(v -> stats.connections.decrementAndGet());
  }

  // DATA frames hold pooled memory: a write session takes them over, anything else gives them back.
  private void onFrame(Frame frame) {
    boolean handedOver = false;
    try {
      switch (state) {
        case IDLE -> {
          switch (frame.type()) {
            case WRITE_OPEN -> beginWrite(WriteOpen.fromJson(frame.json()));
            case READ -> read(ReadRequest.fromJson(frame.json()));
            case APPEND -> append(frame.json(), false);
            case APPEND_FWD -> append(frame.json(), true);
            default -> protocolError("unexpected " + frame.type() + " on an idle connection");
          }
        }
        case WRITING -> {
          switch (frame.type()) {
            case DATA -> {
              handedOver = true;
              write.data(frame);
            }
            case WRITE_END -> {
              state = State.FINISHING;
              write.end(WriteEnd.fromJson(frame.json()));
            }
            default -> protocolError("unexpected " + frame.type() + " while writing a chunk");
          }
        }
        default -> protocolError("unexpected " + frame.type() + " during " + state);
      }
    } catch (RuntimeException e) {
      // A JSON body that does not parse or lacks a field: the peer speaks something else.
      protocolError("malformed " + frame.type() + " frame: " + e.getMessage());
    } finally {
      if (!handedOver) {
        frame.release();
      }
    }
  }

  private void beginWrite(WriteOpen open) {
    if (!fence.admit(open.epoch())) {
      replyError(new ReplicaException(ErrorCode.STALE_EPOCH, "write from master epoch "
          + open.epoch() + " refused: epoch " + fence.highest() + " has taken over",
          store.serverId()));
      return;
    }
    if (store.replica(open.chunkId()) != null) {
      replyError(new ReplicaException(ErrorCode.CONFLICT, "chunk "
          + ChunkStore.hex(open.chunkId()) + " already exists here", store.serverId()));
      return;
    }
    state = State.WRITING;
    write = new ChunkWriteSession(vertx, store, pool, open, channel.decoder());
    write.result().onComplete(ar -> {
      if (state == State.CLOSED) {
        return;
      }
      if (ar.succeeded()) {
        state = State.IDLE;
        write = null;
        channel.send(FrameType.WRITE_ACK, ar.result().toJson());
      } else {
        replyError(ar.cause());
      }
    });
    write.start();
  }

  // A record (from a writer, to this primary) or a batch (from a primary, to this secondary):
  // a header, then `length` raw bytes.
  private void append(JsonObject hdr, boolean forwarded) {
    long chunk = hdr.getLong("chunk");
    long version = hdr.getLong("version");
    long length = hdr.getLong("length");
    long limit = forwarded ? MAX_FORWARD : appends.maxRecord(chunk, version);
    if (limit < 0) {
      replyError(new ReplicaException(ErrorCode.NOT_PRIMARY, "no append lease for chunk "
          + ChunkStore.hex(chunk) + " version " + version + " here", store.serverId()));
      return;
    }
    if (length < 0 || length > limit) {
      replyError(new ReplicaException(ErrorCode.TOO_LARGE, "a record is at most " + limit
          + " bytes; this one has " + length, store.serverId()));
      return;
    }
    state = State.APPENDING;
    Buffer data = Buffer.buffer((int) length);
    Runnable complete = () -> {
      Future<JsonObject> done = forwarded ? appends.secondaryAppend(hdr, data)
          : appends.submit(chunk, version, hdr.getLong("epoch", 0L), hdr.getString("requestId"),
              data, hdr.getString("ifMatch"));
      done.onComplete(ar -> {
        if (state == State.CLOSED) {
          return;
        }
        if (ar.succeeded()) {
          state = State.IDLE;
          channel.send(FrameType.APPEND_OK, ar.result());
        } else {
          replyError(ar.cause());
        }
      });
    };
    if (length == 0) {
      complete.run();
      return;
    }
    channel.decoder().rawHandler(b -> {
      data.appendBuffer(b);
      if (data.length() == length) {
        complete.run();
      }
    });
    channel.decoder().expectRaw(length);
  }

  private void read(ReadRequest req) {
    ReplicaInfo replica = store.replica(req.chunkId());
    if (replica == null) {
      replyError(new ReplicaException(ErrorCode.NOT_FOUND, "no replica of chunk "
          + ChunkStore.hex(req.chunkId()) + " here", store.serverId()));
      return;
    }
    if (replica.version() < req.version()) {
      replyError(new ReplicaException(ErrorCode.NOT_FOUND, "replica of chunk "
          + ChunkStore.hex(req.chunkId()) + " is stale (version " + replica.version() + " < "
          + req.version() + ")", store.serverId()));
      return;
    }
    if (req.offset() < 0 || req.length() < 0 || req.offset() > replica.length()) {
      replyError(new ReplicaException(ErrorCode.INVALID_RANGE, "offset " + req.offset()
          + " is outside chunk of " + replica.length() + " bytes", store.serverId()));
      return;
    }
    state = State.READING;
    ChunkMeta cached = store.cachedMeta(req.chunkId());
    Future<ChunkMeta> meta = cached != null ? Future.succeededFuture(cached)
        : vertx.executeBlocking(() -> store.loadMeta(req.chunkId()), false);
    meta.compose(m -> sendRange(req, m)).onComplete(ar -> {
      if (state == State.CLOSED) {
        return;
      }
      if (ar.succeeded()) {
        state = State.IDLE;
      } else {
        replyError(ar.cause());
      }
    });
  }

  private Future<Void> sendRange(ReadRequest req, ChunkMeta meta) {
    int bs = meta.blockSize();
    long end = req.length() >= meta.length() - req.offset()
        ? meta.length() : req.offset() + req.length();
    int first = (int) (req.offset() / bs);
    int past = end == req.offset() ? first : (int) ((end + bs - 1) / bs);
    long start = (long) first * bs;
    long count = past == first ? 0 : Math.min(meta.length(), (long) past * bs) - start;
    ReadHeader header = new ReadHeader(start, count, meta.length(), bs,
        Arrays.copyOfRange(meta.crcs(), first, past));
    Future<Void> sent = channel.send(Frames.encode(FrameType.READ_OK, header.encode()));
    if (count == 0) {
      return sent;
    }
    return channel.socket().sendFile(store.dataPath(req.chunkId()).toString(), start, count)
        .onSuccess(v -> stats.served.add(count));
  }

  private void protocolError(String message) {
    replyError(new ReplicaException(ErrorCode.BAD_REQUEST, message, store.serverId()));
  }

  // Reports the failure to the peer, then closes: after an error the stream position is unknown.
  private void replyError(Throwable t) {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    if (write != null) {
      write.fail(t);
    }
    ErrorFrame err = ErrorFrame.of(t);
    if (err.code() == ErrorCode.INTERNAL || err.code() == ErrorCode.IO_ERROR) {
      log.warn("data request failed", t);
    } else {
      log.debug("data request refused: {}", err.message());
    }
    channel.send(FrameType.ERROR, err.toJson()).onComplete(ar -> channel.close());
  }

  private void onFailure(Throwable t) {
    // Transport failure or a malformed frame: nobody to answer to, or nothing sane to answer.
    if (state == State.CLOSED) {
      return;
    }
    if (t instanceof io.vgfs.protocol.data.FrameException) {
      replyError(t);
      return;
    }
    state = State.CLOSED;
    if (write != null) {
      write.fail(t);
    }
    channel.close();
  }
}
