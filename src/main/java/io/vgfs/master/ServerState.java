package io.vgfs.master;

import io.vgfs.protocol.ServerAddress;

/**
 * What the master knows of one chunkserver. Mutable; owned by the master's event loop.
 */
public final class ServerState {

  /** A chunkserver's health as the master judges it. */
  public enum Health { ALIVE, SUSPECT, DEAD }

  final String id;
  ServerAddress address;
  String rack;
  String nodeId;
  long free;
  long capacity;
  long used;
  int chunkCount;
  int recentAllocations; // chunks placed here since its last heartbeat
  long lastHeartbeatNanos;
  boolean left; // its cluster node left: dead at once, whatever the heartbeats say

  ServerState(String id) {
    this.id = id;
  }

  public String id() {
    return id;
  }

  public ServerAddress address() {
    return address;
  }

  public String rack() {
    return rack;
  }

  public long free() {
    return free;
  }

  public long capacity() {
    return capacity;
  }

  public long used() {
    return used;
  }

  /** Fraction of capacity in use, 0 when capacity is unknown. */
  public double usage() {
    return capacity <= 0 ? 0 : (double) (capacity - free) / capacity;
  }

  public Health health(long nowNanos, long heartbeatNanos, int deadAfterMissed) {
    if (left) {
      return Health.DEAD;
    }
    long age = nowNanos - lastHeartbeatNanos;
    if (age > heartbeatNanos * deadAfterMissed) {
      return Health.DEAD;
    }
    // One missed heartbeat, with half an interval of slack for scheduling jitter.
    return age > heartbeatNanos * 3 / 2 ? Health.SUSPECT : Health.ALIVE;
  }
}
