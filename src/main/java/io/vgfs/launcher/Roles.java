package io.vgfs.launcher;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vgfs.chunkserver.ChunkServerOptions;
import io.vgfs.chunkserver.ChunkServerVerticle;
import io.vgfs.client.VgfsClient;
import io.vgfs.client.VgfsClientOptions;
import io.vgfs.gateway.EventBusApiVerticle;
import io.vgfs.gateway.GatewayOptions;
import io.vgfs.gateway.GatewayVerticle;
import io.vgfs.master.MasterOptions;
import io.vgfs.master.MasterVerticle;
import io.vgfs.protocol.Durability;
import io.vgfs.protocol.data.Frames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Deploys the role verticles of a process from its {@link Settings}. Each method completes when
 * its role is serving, with a one-line description for the ready message.
 */
public final class Roles {

  private static final Logger log = LoggerFactory.getLogger(Roles.class);

  private Roles() {
  }

  public static MasterOptions masterOptions(Settings s, Path dataDir) {
    long chunkSize = s.bytes(Setting.CHUNK_SIZE);
    if (chunkSize < 1024 || chunkSize > Frames.MAX_CHUNK_SIZE) {
      throw new IllegalArgumentException("--chunk-size must be between 1KiB and "
          + Sizes.format(Frames.MAX_CHUNK_SIZE) + ", got " + s.get(Setting.CHUNK_SIZE));
    }
    int replication = s.integer(Setting.REPLICATION);
    if (replication < 1 || replication > 16) {
      throw new IllegalArgumentException("--replication must be between 1 and 16");
    }
    int quorum = s.integer(Setting.MASTER_QUORUM);
    if (quorum < 1 || quorum > 9) {
      throw new IllegalArgumentException("--master-quorum must be between 1 and 9, got " + quorum);
    }
    return new MasterOptions(dataDir, chunkSize, replication, s.millis(Setting.HEARTBEAT_INTERVAL),
        s.integer(Setting.DEAD_AFTER), s.millis(Setting.UNCOMMITTED_TIMEOUT),
        s.bytes(Setting.SMALL_FILE_LIMIT), s.integer(Setting.CHECKPOINT_EVERY),
        s.millis(Setting.REPLICATION_TIMEOUT), s.millis(Setting.COLD_START_WAIT),
        s.millis(Setting.TRASH_RETENTION), s.integer(Setting.REPAIR_PARALLELISM),
        Double.parseDouble(s.get(Setting.BALANCE_SPREAD)), quorum);
  }

  /** Deploys a master; completes when it is active or waiting as a standby. */
  public static Future<MasterVerticle> master(Cluster.Node node, Settings s, Path dataDir) {
    MasterVerticle master = new MasterVerticle(masterOptions(s, dataDir), node.hazelcast());
    return node.vertx().deployVerticle(master).map(id -> master);
  }

  public static ChunkServerOptions chunkServerOptions(Settings s, Path dataDir, int port) {
    String publicHost = s.string(Setting.PUBLIC_HOST);
    if (publicHost == null) {
      String bind = s.string(Setting.BIND);
      publicHost = bind == null || bind.equals("0.0.0.0") ? s.string(Setting.CLUSTER_HOST) : bind;
    }
    return new ChunkServerOptions(dataDir, s.string(Setting.BIND), publicHost, port,
        s.string(Setting.RACK), s.millis(Setting.HEARTBEAT_INTERVAL), s.bytes(Setting.CAPACITY),
        s.millis(Setting.REPORT_INTERVAL), s.bytes(Setting.SCRUB_RATE), s.millis(Setting.SCRUB_PAUSE),
        s.bytes(Setting.REPAIR_RATE), s.millis(Setting.BUFFERED_SYNC),
        s.bool(Setting.CHECKSUM_ATTRIBUTES), s.millis(Setting.WRITE_STALL_TIMEOUT));
  }

  public static Future<ChunkServerVerticle> chunkServer(Vertx vertx, ChunkServerOptions options) {
    ChunkServerVerticle cs = new ChunkServerVerticle(options);
    return vertx.deployVerticle(cs).map(id -> cs);
  }

  public static VgfsClientOptions clientOptions(Settings s) {
    return new VgfsClientOptions().setDurability(Durability.parse(s.get(Setting.DURABILITY)))
        .setWriteStallTimeoutMs(s.millis(Setting.WRITE_STALL_TIMEOUT));
  }

  /** The gateway's bearer tokens: the setting split at commas, blanks dropped. */
  static List<String> authTokens(Settings s) {
    String v = s.string(Setting.AUTH_TOKENS);
    return v == null ? List.of() : java.util.Arrays.stream(v.split(",")).map(String::trim)
        .filter(t -> !t.isEmpty()).toList();
  }

  /** Deploys the HTTP gateway (several event loops) and the event-bus API; completes with the port. */
  public static Future<Integer> gateway(Vertx vertx, Settings s) {
    GatewayOptions options = new GatewayOptions(s.string(Setting.BIND), s.integer(Setting.HTTP_PORT),
        s.bytes(Setting.SMALL_FILE_LIMIT), clientOptions(s), authTokens(s));
    List<GatewayVerticle> deployed = new ArrayList<>();
    int instances = Math.max(1, s.integer(Setting.GATEWAY_INSTANCES));
    return vertx.deployVerticle(() -> {
          GatewayVerticle g = new GatewayVerticle(options);
          synchronized (deployed) {
            deployed.add(g);
          }
          return g;
        }, new DeploymentOptions().setInstances(instances))
        .compose(id -> vertx.deployVerticle(new EventBusApiVerticle(options.smallFileLimit(),
            options.client())))
        .map(id -> deployed.get(0).port());
  }

  /**
   * Warns when this process was given a cluster-wide setting that the active master overrides.
   * Runs in the background: the master may not be up yet.
   */
  public static void checkClusterSettings(Vertx vertx, Settings s) {
    if (!s.isSet(Setting.CHUNK_SIZE) && !s.isSet(Setting.REPLICATION)) {
      return;
    }
    VgfsClient client = VgfsClient.create(vertx, new VgfsClientOptions()
        .setFailoverTimeoutMs(120_000));
    client.clusterInfo().onSuccess(info -> {
      compare(s, Setting.CHUNK_SIZE, info, "chunkSize");
      compare(s, Setting.REPLICATION, info, "replication");
    }).eventually(client::close);
  }

  private static void compare(Settings s, Setting setting, JsonObject info, String key) {
    if (!s.isSet(setting)) {
      return;
    }
    long mine = setting == Setting.CHUNK_SIZE ? s.bytes(setting) : s.integer(setting);
    long cluster = info.getLong(key);
    if (mine != cluster) {
      log.warn("--{} {} is ignored: the active master {} decides it for the whole cluster and uses {}",
          setting.flag(), s.get(setting), info.getString("masterId"),
          setting == Setting.CHUNK_SIZE ? Sizes.format(cluster) : String.valueOf(cluster));
    }
  }
}
