package io.vgfs.launcher;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vgfs.chunkserver.ChunkServerVerticle;
import io.vgfs.master.MasterVerticle;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code java -jar vgfs.jar dev|master|chunkserver|gateway [flags]}. Every command accepts every
 * flag of {@link Setting} (so one set of flags can start any role) plus {@code --conf FILE}.
 */
public final class Main {

  private static final String[] ROLES = {"dev", "master", "chunkserver", "gateway"};
  /** The Vert.x instance to close on shutdown (a master replaces its node after stepping down). */
  private static final java.util.concurrent.atomic.AtomicReference<Cluster.Node> CURRENT =
      new java.util.concurrent.atomic.AtomicReference<>();

  private Main() {
  }

  public static void main(String[] args) {
    System.setProperty("vertx.logger-delegate-factory-class-name",
        "io.vertx.core.logging.SLF4JLogDelegateFactory");
    System.setProperty("hazelcast.logging.type", "slf4j");
    NettyAllocator.choosePooled();
    CommonPool.ensureParallel();
    CommandLine cli = commandLine();
    ParseResult parsed;
    try {
      parsed = cli.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      System.err.println("vgfs: " + e.getMessage());
      e.getCommandLine().usage(System.err);
      System.exit(2);
      return;
    }
    if (CommandLine.printHelpIfRequested(parsed)) {
      System.exit(0);
    }
    if (!parsed.hasSubcommand()) {
      cli.usage(System.err);
      System.exit(2);
    }
    ParseResult sub = parsed.subcommand();
    String role = sub.commandSpec().name();
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      if (sub.hasMatchedOption("--" + s.flag())) {
        flags.put(s, sub.matchedOptionValue("--" + s.flag(), (String) null));
      }
    }
    Settings settings;
    try {
      settings = Settings.load(flags, sub.matchedOptionValue("--conf", (String) null), System.getenv());
      Logging.configure(settings.string(Setting.LOG_FILE), role);
    } catch (IllegalArgumentException e) {
      System.err.println("vgfs: " + e.getMessage());
      System.exit(2);
      return;
    }
    org.slf4j.LoggerFactory.getLogger(Main.class).info("Netty buffers: {}; common pool: {} threads",
        NettyAllocator.inEffect(), CommonPool.inEffect());
    run(role, settings);
  }

  private static void run(String role, Settings settings) {
    Promise<Vertx> started = Promise.promise();
    Future<String> ready;
    try {
      ready = switch (role) {
        case "dev" -> dev(settings, started);
        case "master" -> master(settings, started);
        case "chunkserver" -> retryingJoin(role, () -> chunkserver(settings, started));
        case "gateway" -> retryingJoin(role, () -> gateway(settings, started));
        default -> throw new IllegalStateException(role);
      };
    } catch (IllegalArgumentException e) {
      System.err.println("vgfs: " + e.getMessage());
      System.exit(2);
      return;
    }
    ready.onComplete(ar -> {
      if (ar.succeeded()) {
        System.out.println(ar.result());
        System.out.flush();
      } else {
        System.err.println("vgfs " + role + " failed to start: " + ar.cause().getMessage());
        org.slf4j.LoggerFactory.getLogger(Main.class).error("start-up failed", ar.cause());
        started.future().onComplete(v -> {
          if (v.succeeded()) {
            v.result().close();
          }
        });
        Runtime.getRuntime().halt(1);
      }
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      Cluster.Node node = CURRENT.get();
      if (node != null) {
        CountDownLatch closed = new CountDownLatch(1);
        node.close().onComplete(ar -> closed.countDown());
        try {
          closed.await(15, TimeUnit.SECONDS);
        } catch (InterruptedException ignored) {
          Thread.currentThread().interrupt();
        }
      }
    }, "vgfs-shutdown"));
    awaitExit();
  }

  /**
   * Keeps the main thread until the JVM exits (a signal runs the shutdown hook; a failed start
   * halts), as nothing else is sure to keep it alive meanwhile: a chunkserver or gateway joins the
   * cluster on the common fork-join pool, whose threads are daemons, and a master that steps down
   * closes its Vert.x before starting the next. Without this such a process ended at once with
   * status 0 on hosts of three or more cores.
   */
  private static void awaitExit() {
    try {
      new CountDownLatch(1).await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Future<String> dev(Settings s, Promise<Vertx> started) {
    Path dir = s.path(Setting.DATA_DIR);
    int n = s.integer(Setting.CHUNKSERVERS);
    int basePort = s.integer(Setting.PORT);
    Roles.masterOptions(s, dir.resolve("master")); // validate before starting anything
    return Cluster.start(s, true).compose(node -> {
      CURRENT.set(node);
      started.complete(node.vertx());
      return Roles.master(node, s, dir.resolve("master")).compose(master ->
          master.whenActive().compose(epoch -> {
            List<Future<ChunkServerVerticle>> servers = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
              servers.add(Roles.chunkServer(node.vertx(), Roles.chunkServerOptions(s,
                  dir.resolve("chunkserver-" + i), basePort == 0 ? 0 : basePort + i - 1)));
            }
            return Future.all(servers).compose(all -> whenRegistered(node.vertx(), servers))
                .compose(v -> Roles.gateway(node.vertx(), s))
                .map(port -> {
                  StringBuilder ports = new StringBuilder();
                  servers.forEach(f -> ports.append(ports.length() == 0 ? "" : ",")
                      .append(f.result().dataPort()));
                  return "vgfs dev ready: http://" + displayHost(s) + ":" + port
                      + " master=" + master.masterId() + " epoch=" + epoch
                      + " chunkservers=" + n + " (data ports " + ports + ")"
                      + " chunk-size=" + Sizes.format(s.bytes(Setting.CHUNK_SIZE))
                      + " replication=" + s.integer(Setting.REPLICATION)
                      + " data=" + dir.toAbsolutePath().normalize()
                      + " cluster=" + s.get(Setting.CLUSTER_NAME) + node.members();
                });
          }));
    });
  }

  private static Future<String> master(Settings s, Promise<Vertx> started) {
    Path dir = s.path(Setting.DATA_DIR);
    Roles.masterOptions(s, dir);
    return startMaster(s, dir, started).map(m -> {
      String role = m.master().whenActive().isComplete()
          ? "active epoch=" + m.master().whenActive().result() : "standby";
      return "vgfs master ready: id=" + m.master().masterId() + " role=" + role
          + " data=" + dir.toAbsolutePath().normalize()
          + " cluster=" + s.get(Setting.CLUSTER_NAME) + m.node().members();
    });
  }

  private record RunningMaster(Cluster.Node node, MasterVerticle master) {
  }

  /**
   * Starts a cluster node with a master; when the master steps down (it was replaced while
   * paused, or its cluster merged), the node is closed and a fresh one joins as a standby, so that
   * no state of the old term (Hazelcast partitions included) survives into the new one.
   */
  private static Future<RunningMaster> startMaster(Settings s, Path dir, Promise<Vertx> started) {
    return Cluster.start(s, true).compose(node -> {
      CURRENT.set(node);
      started.tryComplete(node.vertx());
      return Roles.master(node, s, dir).compose(m -> {
        m.whenDeposed().onSuccess(reason -> {
          org.slf4j.LoggerFactory.getLogger(Main.class).warn(
              "master {} stepped down ({}); rejoining the cluster as a standby", m.masterId(), reason);
          // Give replies already decided a moment to leave, then drop everything of this term.
          node.vertx().setTimer(500, tid -> node.close().onComplete(closed -> startMaster(s, dir, started)
              .onFailure(t -> {
                System.err.println("vgfs master failed to restart: " + t.getMessage());
                Runtime.getRuntime().halt(1);
              })));
        });
        // A free leader lock is taken at once; a held one means another master is active.
        Promise<Void> decided = Promise.promise();
        long timer = node.vertx().setTimer(3000, id -> decided.tryComplete());
        m.whenActive().onComplete(ar -> {
          node.vertx().cancelTimer(timer);
          decided.tryComplete();
        });
        return decided.future().map(v -> new RunningMaster(node, m));
      });
    });
  }

  private static Future<String> chunkserver(Settings s, Promise<Vertx> started) {
    Path dir = s.path(Setting.DATA_DIR);
    return Cluster.start(s, false).compose(node -> {
      CURRENT.set(node);
      started.tryComplete(node.vertx());
      return closeOnFailure(node, Roles.chunkServer(node.vertx(),
              Roles.chunkServerOptions(s, dir, s.integer(Setting.PORT)))
          .map(cs -> {
            Roles.checkClusterSettings(node.vertx(), s);
            return "vgfs chunkserver ready: id=" + cs.serverId() + " data-port="
                + cs.dataPort() + " data=" + dir.toAbsolutePath().normalize()
                + " cluster=" + s.get(Setting.CLUSTER_NAME) + node.members();
          }));
    });
  }

  private static Future<String> gateway(Settings s, Promise<Vertx> started) {
    return Cluster.start(s, false).compose(node -> {
      CURRENT.set(node);
      started.tryComplete(node.vertx());
      return closeOnFailure(node, Roles.gateway(node.vertx(), s).map(port -> {
        Roles.checkClusterSettings(node.vertx(), s);
        return "vgfs gateway ready: http://" + displayHost(s) + ":" + port
            + " cluster=" + s.get(Setting.CLUSTER_NAME) + node.members();
      }));
    });
  }

  /**
   * Starts a chunkserver or gateway again when joining failed because of the cluster (for example
   * the only master was suspected and dropped while many processes started at once on a busy
   * host): a user starting a whole cluster with one command should not have to restart the odd
   * process by hand. Configuration errors (a locked data directory, a port in use) fail at once.
   */
  private static Future<String> retryingJoin(String role, Supplier<Future<String>> attempt) {
    return retryingJoin(role, attempt, 1, System.nanoTime() + JOIN_RETRY_WINDOW_NANOS);
  }

  private static Future<String> retryingJoin(String role, Supplier<Future<String>> attempt,
                                             int n, long deadline) {
    return attempt.get().recover(t -> {
      if (!isClusterFailure(t) || System.nanoTime() > deadline) {
        return Future.failedFuture(t);
      }
      long delay = Math.min(5000, 1000L * n);
      org.slf4j.LoggerFactory.getLogger(Main.class).warn(
          "{} could not join the cluster ({}); trying again in {} ms", role, t.getMessage(), delay);
      Promise<Void> waited = Promise.promise();
      Thread t2 = new Thread(() -> {
        try {
          Thread.sleep(delay); // no Vert.x instance is running between attempts
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        waited.complete();
      }, "vgfs-join-retry");
      t2.setDaemon(false);
      t2.start();
      return waited.future().compose(v -> retryingJoin(role, attempt, n + 1, deadline));
    });
  }

  private static final long JOIN_RETRY_WINDOW_NANOS = TimeUnit.MINUTES.toNanos(2);

  static boolean isClusterFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof com.hazelcast.core.HazelcastException) {
        return true;
      }
    }
    return false;
  }

  private static <T> Future<T> closeOnFailure(Cluster.Node node, Future<T> f) {
    return f.recover(t -> {
      CURRENT.compareAndSet(node, null);
      return node.close().transform(ar -> Future.<T>failedFuture(t));
    });
  }

  private static Future<Void> whenRegistered(Vertx vertx, List<Future<ChunkServerVerticle>> servers) {
    Promise<Void> p = Promise.promise();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    vertx.setPeriodic(20, id -> {
      boolean all = servers.stream().allMatch(f -> f.result().registered());
      if (all || System.nanoTime() > deadline) {
        vertx.cancelTimer(id);
        p.complete();
      }
    });
    return p.future();
  }

  private static String displayHost(Settings s) {
    String bind = s.string(Setting.BIND);
    return bind == null || bind.equals("0.0.0.0") || bind.equals("127.0.0.1") ? "localhost" : bind;
  }

  static CommandLine commandLine() {
    CommandSpec top = CommandSpec.create().name("vgfs").mixinStandardHelpOptions(true)
        .version("vgfs 0.1.0");
    top.usageMessage().description("A GFS-style distributed file system on Vert.x.");
    CommandLine cli = new CommandLine(top);
    for (String role : ROLES) {
      CommandSpec spec = CommandSpec.create().name(role).mixinStandardHelpOptions(true);
      spec.usageMessage().description(switch (role) {
        case "dev" -> "One JVM with a master, chunkservers and the HTTP gateway.";
        case "master" -> "A master (active, or standby if another is active).";
        case "chunkserver" -> "A chunkserver storing chunks in --data-dir.";
        default -> "The HTTP gateway and the event-bus API.";
      });
      spec.addOption(OptionSpec.builder("--conf").paramLabel("FILE").type(String.class)
          .description("JSON config file (env VGFS_CONF)").build());
      for (Setting s : Setting.values()) {
        spec.addOption(OptionSpec.builder("--" + s.flag()).paramLabel("VALUE").type(String.class)
            .description(s.description() + (s.defaultValue().isEmpty() ? ""
                : " (default " + s.defaultValue() + ")") + "; env " + s.env())
            .build());
      }
      cli.addSubcommand(role, new CommandLine(spec));
    }
    return cli;
  }
}
