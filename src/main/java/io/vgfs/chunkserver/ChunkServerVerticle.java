package io.vgfs.chunkserver;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vgfs.protocol.data.DataChannelPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A chunkserver: stores chunk replicas on local disk ({@link ChunkStore}), serves the data
 * protocol on its own port ({@link DataConnection}), and keeps the master informed
 * ({@link MasterLink}). Deploy one instance per data directory.
 */
public class ChunkServerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(ChunkServerVerticle.class);

  private final ChunkServerOptions options;
  private ChunkStore store;
  private final EpochFence fence = new EpochFence();
  private DataChannelPool pool;
  private NetServer server;
  private MasterLink master;

  public ChunkServerVerticle(ChunkServerOptions options) {
    this.options = options;
  }

  @Override
  public Future<?> start() {
    store = new ChunkStore(options.dataDir());
    pool = new DataChannelPool(vertx, 16, 30_000);
    return vertx.executeBlocking(() -> {
      store.open();
      return null;
    }).compose(v -> {
      server = vertx.createNetServer(new NetServerOptions()
          .setHost(options.bindHost())
          .setPort(options.port())
          .setTcpNoDelay(true)
          .setReceiveBufferSize(1024 * 1024)
          .setSendBufferSize(1024 * 1024)
          .setIdleTimeout(300));
      server.connectHandler(socket -> new DataConnection(vertx, store, pool, fence, socket));
      return server.listen();
    }).compose(s -> {
      master = new MasterLink(vertx, store, fence, options, s.actualPort(), () -> { });
      return master.start();
    }).onSuccess(v -> log.info("chunkserver {} serving {} on {}:{}", store.serverId(),
        options.dataDir(), options.publicHost(), server.actualPort()));
  }

  @Override
  public Future<?> stop() {
    if (master != null) {
      master.stop();
    }
    return Future.all(server == null ? Future.succeededFuture() : server.close(), pool.close())
        .compose(v -> vertx.executeBlocking(() -> {
          store.close();
          return null;
        }));
  }

  /** The persistent id (valid once started). */
  public String serverId() {
    return store.serverId();
  }

  /** The data port actually bound (valid once started). */
  public int dataPort() {
    return server.actualPort();
  }

  /** Whether the master has accepted this server's registration. */
  public boolean registered() {
    return master != null && master.registered();
  }

  /** The local store, for tests and tools that inspect replicas on disk. */
  public ChunkStore store() {
    return store;
  }
}
