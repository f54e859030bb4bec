package io.vgfs.master;

import com.hazelcast.core.HazelcastInstance;

import java.util.concurrent.TimeUnit;

/**
 * Notices that this process stopped running for a while (SIGSTOP, a VM freeze, a very long GC):
 * a thread ticks every 100 ms, and a gap between ticks longer than the threshold means everything
 * was stopped. A master that was stopped long enough may have been replaced, because the cluster
 * removes members that stop sending heartbeats; it must not act on anything until it knows
 * better. {@link #healthy()} is checked before every acknowledgement, so even the first event
 * handled after waking up cannot acknowledge anything.
 *
 * <p>A pause matters only if another master could have taken over, so it is reported only when
 * other data members (masters) were in the cluster before it.
 */
final class PauseGuard {

  private static final long TICK_MS = 100;

  private final long thresholdNanos;
  private final HazelcastInstance hazelcast;
  private final Runnable onPause;
  private final Thread ticker;
  private volatile long lastTick = System.nanoTime();
  private volatile boolean othersBefore;
  private volatile boolean stopped;
  private volatile boolean tripped; // a pause was seen: unhealthy for good

  PauseGuard(long thresholdMs, HazelcastInstance hazelcast, Runnable onPause) {
    this.thresholdNanos = TimeUnit.MILLISECONDS.toNanos(thresholdMs);
    this.hazelcast = hazelcast;
    this.onPause = onPause;
    this.ticker = new Thread(this::run, "vgfs-pause-guard");
    ticker.setDaemon(true);
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
   * the moment it wakes up (before this guard's thread has run again) and for good after.
   */
  boolean healthy() {
    return !tripped && (System.nanoTime() - lastTick < thresholdNanos || !othersBefore);
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
        tripped = true;
        lastTick = now;
        onPause.run();
        return; // one report; the master steps down and a new guard comes with the next term
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
