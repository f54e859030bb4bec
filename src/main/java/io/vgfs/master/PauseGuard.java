package io.vgfs.master;

import com.hazelcast.core.HazelcastInstance;

import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * Notices that this process stopped running for a while (SIGSTOP, a VM freeze, a very long GC):
 * a thread ticks every 100 ms, and a gap between ticks longer than the threshold means everything
 * was stopped. A master that was stopped long enough may have been replaced, because the cluster
 * removes members that stop sending heartbeats; it must not act on anything until it knows
 * better. {@link #healthy()} is checked before every acknowledgement, so even the first event
 * handled after waking up cannot acknowledge anything.
 *
 * <p>A pause matters only if another master could have taken over, so it is reported only when
 * other data members (masters) were in the cluster before it. An active master's guard
 * ({@link #latching}) reports one pause and stays unhealthy; a standby's ({@link #watching})
 * reports every pause and is unhealthy for {@value #RECENT_MS} ms after each.
 */
final class PauseGuard {

  private static final long TICK_MS = 100;
  static final long RECENT_MS = 10_000;

  private final long thresholdNanos;
  private final HazelcastInstance hazelcast;
  private final LongConsumer onPause;
  private final boolean latch;
  private final Thread ticker;
  private volatile long lastTick = System.nanoTime();
  private volatile long lastPause = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(RECENT_MS);
  private volatile boolean othersBefore;
  private volatile boolean stopped;
  private volatile boolean tripped; // a pause was seen by a latching guard: unhealthy for good

  private PauseGuard(long thresholdMs, HazelcastInstance hazelcast, LongConsumer onPause,
                     boolean latch) {
    this.thresholdNanos = TimeUnit.MILLISECONDS.toNanos(thresholdMs);
    this.hazelcast = hazelcast;
    this.onPause = onPause;
    this.latch = latch;
    this.ticker = new Thread(this::run, "vgfs-pause-guard");
    ticker.setDaemon(true);
  }

  /** An active master's guard: {@code onPause} gets the pause in ms, once; unhealthy after. */
  static PauseGuard latching(long thresholdMs, HazelcastInstance hazelcast, LongConsumer onPause) {
    return new PauseGuard(thresholdMs, hazelcast, onPause, true);
  }

  /** A standby's guard: {@code onPause} gets every pause in ms. */
  static PauseGuard watching(long thresholdMs, HazelcastInstance hazelcast, LongConsumer onPause) {
    return new PauseGuard(thresholdMs, hazelcast, onPause, false);
  }

  void start() {
    ticker.start();
  }

  void stop() {
    stopped = true;
    ticker.interrupt();
  }

  /**
   * False when this process was stopped for longer than the threshold and others could act, from
   * the moment it wakes up (before this guard's thread has run again); for good after a latching
   * guard's report, for {@value #RECENT_MS} ms after a watching guard's.
   */
  boolean healthy() {
    long now = System.nanoTime();
    return !tripped && (now - lastTick < thresholdNanos || !othersBefore)
        && now - lastPause >= TimeUnit.MILLISECONDS.toNanos(RECENT_MS);
  }

  private void run() {
    while (!stopped) {
      try {
        Thread.sleep(TICK_MS);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      long gap = now - lastTick;
      if (gap >= thresholdNanos && othersBefore) {
        tripped = latch;
        lastPause = now;
        lastTick = now;
        onPause.accept(TimeUnit.NANOSECONDS.toMillis(gap));
        if (latch) {
          return; // the master steps down and a new guard comes with the next term
        }
      }
      lastTick = now;
      othersBefore = otherDataMembers();
    }
  }

  private boolean otherDataMembers() {
    try {
      return hazelcast.getCluster().getMembers().stream()
          .anyMatch(m -> !m.isLiteMember() && !m.localMember());
    } catch (RuntimeException e) {
      return othersBefore;
    }
  }
}
