package io.vgfs.launcher;

/**
 * Every setting of vgfs: its flag, its key in the JSON config file, its environment variable and
 * its default. Precedence: flag &gt; environment &gt; file &gt; default. The README's configuration
 * table lists the same rows.
 */
public enum Setting {
  DATA_DIR("data-dir", "dataDir", "./data", "directory for metadata (master) or chunks (chunkserver); dev puts master/ and chunkserver-N/ under it"),
  BIND("bind", "bind", "127.0.0.1", "interface the HTTP and data ports listen on (0.0.0.0 for all)"),
  HTTP_PORT("http-port", "httpPort", "8080", "gateway HTTP port"),
  AUTH_TOKENS("auth-tokens", "authTokens", "", "bearer tokens the gateway's HTTP API accepts, comma separated (every request but GET /health and the web page must send one); empty: no authentication. Prefer the environment or the config file: flags show in ps"),
  GATEWAY_INSTANCES("gateway-instances", "gatewayInstances", "2", "gateway event loops serving HTTP"),
  PORT("port", "port", "0", "chunkserver data port (0: any free port)"),
  PUBLIC_HOST("public-host", "publicHost", "", "address other processes use to reach this one (default: the cluster host)"),
  RACK("rack", "rack", "", "chunkserver failure-domain label"),
  CAPACITY("capacity", "capacity", "0", "bytes this chunkserver may fill, and what its disk use is measured against (0: its whole file system)"),
  REPORT_INTERVAL("report-interval", "reportInterval", "10m", "interval between a chunkserver's full chunk reports (besides the one at registration)"),
  SCRUB_RATE("scrub-rate", "scrubRate", "16MiB", "bytes per second a chunkserver verifies in the background (0: no scrubbing)"),
  SCRUB_PAUSE("scrub-pause", "scrubPause", "1h", "pause between two scrubbing passes over all chunks"),
  REPAIR_RATE("repair-rate", "repairRate", "64MiB", "bytes per second a chunkserver sends when copying replicas for repair, balancing or draining (0: no limit)"),
  REPAIR_PARALLELISM("repair-parallelism", "repairParallelism", "4", "chunk copies the master runs at once for repair, balancing and draining"),
  TRASH_RETENTION("trash-retention", "trashRetention", "24h", "how long a deleted file stays restorable"),
  BALANCE_SPREAD("balance-spread", "balanceSpread", "10", "percentage points of disk use between the fullest and the emptiest chunkserver that the balancer tolerates"),
  CHUNKSERVERS("chunkservers", "chunkservers", "3", "chunkservers started by dev"),
  CHUNK_SIZE("chunk-size", "chunkSize", "64MiB", "bytes per chunk (cluster-wide, the active master's value wins)"),
  REPLICATION("replication", "replication", "3", "replicas per chunk (cluster-wide, the active master's value wins)"),
  BUFFERED_SYNC("buffered-sync", "bufferedSync", "200ms", "how often a chunkserver makes the chunks acknowledged under buffered durability durable, with one syncfs for all of them: what a power loss can take at most, and how the disk writes are spread (longer: larger bursts that hold up other fsyncs)"),
  CHECKSUM_ATTRIBUTES("checksum-attributes", "checksumAttributes", "true", "a chunkserver keeps the checksums of a small chunk (up to 1 MiB) in an extended attribute of its data file where the file system has them, one file and one fsync per replica instead of two; false: a .meta file for every new chunk (chunks stored either way stay readable)"),
  DURABILITY("durability", "durability", "sync", "when writes are acknowledged: sync (every replica fsynced) or buffered (in every replica's page cache)"),
  WRITE_STALL_TIMEOUT("write-stall-timeout", "writeStallTimeout", "20s", "how long a write (an upload or an append attempt, through the gateway or the client, or a chunkserver's copy of a replica) may wait on a replica chain that makes no progress, such as a chunkserver frozen with its connections open, before it fails as retryable"),
  HEARTBEAT_INTERVAL("heartbeat-interval", "heartbeatInterval", "3s", "chunkserver heartbeat interval"),
  DEAD_AFTER("dead-after", "deadAfter", "5", "missed heartbeats before a chunkserver is dead"),
  UNCOMMITTED_TIMEOUT("uncommitted-timeout", "uncommittedTimeout", "10m", "age at which chunks of uploads never committed are collected"),
  SMALL_FILE_LIMIT("small-file-limit", "smallFileLimit", "4MiB", "largest file the event-bus API reads or writes whole"),
  REPLICATION_TIMEOUT("replication-timeout", "replicationTimeout", "2s", "how long a standby master may take to acknowledge the log before the active continues without it"),
  MASTER_QUORUM("master-quorum", "masterQuorum", "1", "masters that must be in the cluster for one to be active, and that must hold a metadata change before it is acknowledged: 2 with three masters makes a network partition between master hosts safe; 1 lets a lone master act"),
  COLD_START_WAIT("cold-start-wait", "coldStartWait", "10s", "when a whole cluster starts, how long a master waits for the other masters it knows before leading without them"),
  CHECKPOINT_EVERY("checkpoint-every", "checkpointEvery", "100000", "metadata log records between checkpoints"),
  CLUSTER_NAME("cluster-name", "clusterName", "vgfs", "Hazelcast cluster name: processes join only their own cluster"),
  CLUSTER_HOST("cluster-host", "clusterHost", "127.0.0.1", "address Hazelcast and the event bus bind to"),
  CLUSTER_PORT("cluster-port", "clusterPort", "5701", "first Hazelcast port tried (auto-increments)"),
  JOIN("join", "join", "127.0.0.1:5701-5710", "Hazelcast members to join: host:port or host:port-port, comma separated"),
  NATIVE_TRANSPORT("native-transport", "nativeTransport", "false", "use Linux epoll (Netty's native transport) for sockets where it loads: faster buffered large writes, slower durable writes, reads and small files here (BENCHMARKS.md); false: the JDK's NIO"),
  HAZELCAST_CONFIG("hazelcast-config", "hazelcastConfig", "", "a Hazelcast XML or YAML file replacing the built-in cluster configuration"),
  LOG_FILE("log-file", "logFile", "", "also log to this file");

  private final String flag;
  private final String key;
  private final String defaultValue;
  private final String description;

  Setting(String flag, String key, String defaultValue, String description) {
    this.flag = flag;
    this.key = key;
    this.defaultValue = defaultValue;
    this.description = description;
  }

  /** The command-line flag, without dashes. */
  public String flag() {
    return flag;
  }

  /** The key in the JSON config file. */
  public String key() {
    return key;
  }

  /** The environment variable: {@code VGFS_} and the flag in upper snake case. */
  public String env() {
    return "VGFS_" + flag.toUpperCase(java.util.Locale.ROOT).replace('-', '_');
  }

  public String defaultValue() {
    return defaultValue;
  }

  public String description() {
    return description;
  }
}
