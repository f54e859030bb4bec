package io.vgfs.chunkserver;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The highest master epoch this chunkserver has seen. A request from an older epoch comes from a
 * master that has been replaced (a paused or partitioned old leader) and is refused.
 */
public final class EpochFence {

  private final AtomicLong highest = new AtomicLong();

  /**
   * Records {@code epoch}; false when it is older than one already seen. Epoch 0 (no master has
   * spoken yet) is admitted only while no epoch is known.
   */
  public boolean admit(long epoch) {
    if (epoch == 0) {
      return highest.get() == 0;
    }
    long seen = highest.accumulateAndGet(epoch, Math::max);
    return epoch >= seen;
  }

  public long highest() {
    return highest.get();
  }
}
