package io.vgfs.client;

import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Durability;

/**
 * Settings of a {@link VgfsClient}, with the defaults in {@code DEFAULT_*}.
 */
public class VgfsClientOptions {

  /** How long one metadata request may wait for the master's answer. */
  public static final long DEFAULT_REQUEST_TIMEOUT_MS = 3_000;
  /** How long metadata requests are retried while no master answers (a failover). */
  public static final long DEFAULT_FAILOVER_TIMEOUT_MS = 15_000;
  /** A read from a replica that makes no progress for this long moves to another replica. */
  public static final long DEFAULT_READ_STALL_TIMEOUT_MS = 10_000;
  /**
   * A write whose replica chain makes no progress for this long fails (a replica frozen with its
   * sockets open would otherwise hold it forever), and an append attempt whose primary stays
   * silent this long is given up for the next attempt. Longer than the read one: a durable
   * chunk's end waits for every replica's fsync.
   */
  public static final long DEFAULT_WRITE_STALL_TIMEOUT_MS = 20_000;
  public static final int DEFAULT_MAX_IDLE_CONNECTIONS = 16;
  public static final Durability DEFAULT_DURABILITY = Durability.SYNC;

  private long requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS;
  private long failoverTimeoutMs = DEFAULT_FAILOVER_TIMEOUT_MS;
  private long readStallTimeoutMs = DEFAULT_READ_STALL_TIMEOUT_MS;
  private long writeStallTimeoutMs = DEFAULT_WRITE_STALL_TIMEOUT_MS;
  private int maxIdleConnections = DEFAULT_MAX_IDLE_CONNECTIONS;
  private Durability durability = DEFAULT_DURABILITY;

  public VgfsClientOptions() {
  }

  public VgfsClientOptions(VgfsClientOptions other) {
    this.requestTimeoutMs = other.requestTimeoutMs;
    this.failoverTimeoutMs = other.failoverTimeoutMs;
    this.readStallTimeoutMs = other.readStallTimeoutMs;
    this.writeStallTimeoutMs = other.writeStallTimeoutMs;
    this.maxIdleConnections = other.maxIdleConnections;
    this.durability = other.durability;
  }

  public VgfsClientOptions(JsonObject json) {
    this.requestTimeoutMs = json.getLong("requestTimeoutMs", DEFAULT_REQUEST_TIMEOUT_MS);
    this.failoverTimeoutMs = json.getLong("failoverTimeoutMs", DEFAULT_FAILOVER_TIMEOUT_MS);
    this.readStallTimeoutMs = json.getLong("readStallTimeoutMs", DEFAULT_READ_STALL_TIMEOUT_MS);
    this.writeStallTimeoutMs = json.getLong("writeStallTimeoutMs", DEFAULT_WRITE_STALL_TIMEOUT_MS);
    this.maxIdleConnections = json.getInteger("maxIdleConnections", DEFAULT_MAX_IDLE_CONNECTIONS);
    this.durability = Durability.parse(json.getString("durability", DEFAULT_DURABILITY.name()));
  }

  public long getRequestTimeoutMs() {
    return requestTimeoutMs;
  }

  public VgfsClientOptions setRequestTimeoutMs(long ms) {
    this.requestTimeoutMs = ms;
    return this;
  }

  public long getFailoverTimeoutMs() {
    return failoverTimeoutMs;
  }

  public VgfsClientOptions setFailoverTimeoutMs(long ms) {
    this.failoverTimeoutMs = ms;
    return this;
  }

  public long getReadStallTimeoutMs() {
    return readStallTimeoutMs;
  }

  public VgfsClientOptions setReadStallTimeoutMs(long ms) {
    this.readStallTimeoutMs = ms;
    return this;
  }

  public long getWriteStallTimeoutMs() {
    return writeStallTimeoutMs;
  }

  public VgfsClientOptions setWriteStallTimeoutMs(long ms) {
    this.writeStallTimeoutMs = ms;
    return this;
  }

  public int getMaxIdleConnections() {
    return maxIdleConnections;
  }

  public VgfsClientOptions setMaxIdleConnections(int n) {
    this.maxIdleConnections = n;
    return this;
  }

  public Durability getDurability() {
    return durability;
  }

  /** When writes are acknowledged: after every replica's fsync (SYNC) or its page cache. */
  public VgfsClientOptions setDurability(Durability durability) {
    this.durability = durability;
    return this;
  }
}
