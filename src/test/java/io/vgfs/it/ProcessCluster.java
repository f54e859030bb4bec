package io.vgfs.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * vgfs roles as separate OS processes started from {@code target/vgfs.jar}, each with its own
 * cluster name, ports and directories; output goes to a log file per process. {@link #close()}
 * kills every process it started by PID, whatever happened in the test.
 */
public final class ProcessCluster implements AutoCloseable {

  /**
   * How long a process may take to print its ready line. Usually 5-15 s; but a chunkserver or
   * gateway whose join hangs on a saturated host gives up after 30 s and joins again, for up to
   * two minutes (the launcher's join retry window), and a test that waits less fails on a slow
   * path that the product is built to survive.
   */
  public static final long READY_TIMEOUT_MS = 150_000;

  private static final Pattern HTTP = Pattern.compile("http://[^:]+:(\\d+)");

  /** One started process. */
  public final class Proc {
    final String name;
    final List<String> args;
    final Map<String, String> env;
    final Path log;
    final Path out;
    Process process;

    Proc(String name, List<String> args) {
      this(name, args, Map.of());
    }

    Proc(String name, List<String> args, Map<String, String> env) {
      this.name = name;
      this.args = args;
      this.env = Map.copyOf(env);
      this.log = dir.resolve(name + ".log");
      this.out = dir.resolve(name + ".out");
    }

    public long pid() {
      return process.pid();
    }

    public String name() {
      return name;
    }

    public boolean alive() {
      return process.isAlive();
    }

    /** The ready line, once printed. */
    public String readyLine() {
      try {
        return Files.exists(out) ? Files.readString(out).lines()
            .filter(l -> l.startsWith("vgfs ")).findFirst().orElse(null) : null;
      } catch (IOException e) {
        return null;
      }
    }

    /** Waits up to {@link #READY_TIMEOUT_MS} for the ready line. */
    public void awaitReady() {
      awaitReady(READY_TIMEOUT_MS);
    }

    public void awaitReady(long timeoutMs) {
      TestSupport.poll(timeoutMs, () -> {
        if (!process.isAlive()) {
          throw new AssertionError(name + " exited with " + process.exitValue() + "; log:\n" + tail());
        }
        return readyLine() != null;
      }, () -> name + " (pid " + pid() + ") to print its ready line; its log ends:\n" + tail());
    }

    public void kill9() {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** Starts the process again with the same arguments (a restart keeps its data). */
    public Proc restart() {
      if (process != null && process.isAlive()) {
        throw new IllegalStateException(name + " is still running (pid " + pid() + ")");
      }
      return launch(this);
    }

    public String fullLog() {
      try {
        return Files.readString(log);
      } catch (IOException e) {
        return "";
      }
    }

    public String tail() {
      try {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
      } catch (IOException e) {
        return "(no log)";
      }
    }
  }

  private final Path dir;
  private final Path jar;
  private final String clusterName = "ptest-" + UUID.randomUUID();
  private final int clusterBase;
  private final List<Proc> procs = new ArrayList<>();
  private final List<String> common;

  public ProcessCluster(Path dir, String... extraFlags) {
    this.dir = dir;
    this.jar = Path.of(System.getProperty("vgfs.jar", "target/vgfs.jar")).toAbsolutePath();
    if (!Files.exists(jar)) {
      throw new IllegalStateException(jar + " is missing: run mvn package first");
    }
    this.clusterBase = TestCluster.freePortRange(12);
    common = new ArrayList<>(List.of("--cluster-name", clusterName,
        "--cluster-port", String.valueOf(clusterBase),
        "--join", join()));
    common.addAll(List.of(extraFlags));
  }

  public Proc master(String name, String... flags) {
    return master(name, List.of(), flags);
  }

  public Proc master(String name, List<String> jvmFlags, String... flags) {
    return start(name, jvmFlags, "master", "--data-dir", dir.resolve(name).toString(), flags);
  }

  public Proc chunkserver(String name, String... flags) {
    return chunkserver(name, List.of(), flags);
  }

  public Proc chunkserver(String name, List<String> jvmFlags, String... flags) {
    return start(name, jvmFlags, "chunkserver", "--data-dir", dir.resolve(name).toString(), flags);
  }

  public Proc gateway(String name, List<String> jvmFlags, String... flags) {
    return start(name, jvmFlags, "gateway", "--http-port", "0", flags);
  }

  private Proc start(String name, List<String> jvm, String role, String k, String v, String... flags) {
    List<String> args = new ArrayList<>();
    args.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    args.addAll(jvm);
    args.addAll(List.of("-Djava.net.preferIPv4Stack=true", "-jar", jar.toString(), role, k, v));
    args.addAll(common);
    args.addAll(List.of(flags));
    Proc p = new Proc(name, args);
    procs.add(p);
    return launch(p);
  }

  /**
   * Starts {@code role} configured the way a container is configured: {@code env} holds
   * {@code VGFS_*} variables (added to this JVM's environment), {@code flags} the process's own
   * flags. The cluster's common flags (cluster name, cluster port, join, the constructor's extra
   * flags) are passed too, except those the process sets itself, by a flag or by the setting's
   * {@code VGFS_*} variable (a common flag would beat the variable). A restart keeps the
   * environment. Masters and chunkservers need a data directory: {@code --data-dir} or
   * {@code VGFS_DATA_DIR}, for example {@link #dataDir(String)}.
   */
  public Proc start(String name, String role, List<String> jvmFlags, Map<String, String> env,
                    String... flags) {
    java.util.Set<String> own = new java.util.HashSet<>();
    for (String f : flags) {
      if (f.startsWith("--")) {
        own.add(f.substring(2).split("=", 2)[0]);
      }
    }
    List<String> args = new ArrayList<>();
    args.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    args.addAll(jvmFlags);
    args.addAll(List.of("-Djava.net.preferIPv4Stack=true", "-jar", jar.toString(), role));
    for (int i = 0; i < common.size(); i++) {
      String f = common.get(i);
      boolean inline = f.contains("=");
      String flag = f.substring(2).split("=", 2)[0];
      boolean overridden = own.contains(flag) || env.containsKey(envOf(flag));
      if (!overridden) {
        args.add(f);
        if (!inline) {
          args.add(common.get(i + 1));
        }
      }
      if (!inline) {
        i++; // its value
      }
    }
    args.addAll(List.of(flags));
    Proc p = new Proc(name, args, env);
    procs.add(p);
    return launch(p);
  }

  /** The data directory {@link #master} and {@link #chunkserver} give a process of this name. */
  public Path dataDir(String name) {
    return dir.resolve(name);
  }

  /** The environment variable of a flag (without dashes): {@code VGFS_} and upper snake case. */
  private static String envOf(String flag) {
    return "VGFS_" + flag.toUpperCase(java.util.Locale.ROOT).replace('-', '_');
  }

  private Proc launch(Proc p) {
    try {
      Files.deleteIfExists(p.out);
      ProcessBuilder builder = new ProcessBuilder(p.args)
          .redirectOutput(p.out.toFile())
          .redirectError(ProcessBuilder.Redirect.appendTo(p.log.toFile()));
      builder.environment().putAll(p.env);
      p.process = builder.start();
      return p;
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + p.name, e);
    }
  }

  /** The Hazelcast cluster name the processes share (another JVM joins with the same). */
  public String clusterName() {
    return clusterName;
  }

  /** The first Hazelcast port of the cluster's range. */
  public int clusterPort() {
    return clusterBase;
  }

  /** The {@code --join} value the processes use. */
  public String join() {
    return "127.0.0.1:" + clusterBase + "-" + (clusterBase + 11);
  }

  /** The HTTP port a gateway printed in its ready line. */
  public static int httpPort(Proc gateway) {
    Matcher m = HTTP.matcher(gateway.readyLine());
    if (!m.find()) {
      throw new IllegalStateException("no port in " + gateway.readyLine());
    }
    return Integer.parseInt(m.group(1));
  }

  @Override
  public void close() {
    for (Proc p : procs) {
      if (p.process != null && p.process.isAlive()) {
        p.process.destroyForcibly();
      }
    }
    // Keep the logs where a failed run can be read: target/process-logs/<cluster>/.
    try {
      Path keep = Path.of("target", "process-logs", clusterName);
      Files.createDirectories(keep);
      for (Proc p : procs) {
        if (Files.exists(p.log)) {
          Files.copy(p.log, keep.resolve(p.name + ".log"),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      // best effort
    }
    for (Proc p : procs) {
      try {
        if (p.process != null) {
          p.process.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Settings for a test JVM that joins this cluster as a lite member (event-bus access). */
  public io.vgfs.launcher.Settings memberSettings() {
    Map<io.vgfs.launcher.Setting, String> flags = new java.util.EnumMap<>(io.vgfs.launcher.Setting.class);
    flags.put(io.vgfs.launcher.Setting.CLUSTER_NAME, clusterName);
    flags.put(io.vgfs.launcher.Setting.CLUSTER_PORT, String.valueOf(clusterBase));
    flags.put(io.vgfs.launcher.Setting.JOIN, "127.0.0.1:" + clusterBase + "-" + (clusterBase + 11));
    return new io.vgfs.launcher.Settings(flags, Map.of(), null);
  }

  /** The value of {@code key=} in a process's ready line. */
  public static String readyField(Proc p, String key) {
    Matcher m = Pattern.compile(key + "=(\\S+)").matcher(p.readyLine());
    if (!m.find()) {
      throw new IllegalStateException("no " + key + " in " + p.readyLine());
    }
    return m.group(1);
  }

  /** Sends SIGSTOP or SIGCONT to a process. */
  public static void signal(Proc p, String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(p.pid())).start();
      kill.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public Map<String, Proc> byName() {
    Map<String, Proc> m = new java.util.LinkedHashMap<>();
    procs.forEach(p -> m.put(p.name, p));
    return m;
  }
}
