package io.vgfs.chunkserver;

import io.netty.util.internal.PlatformDependent;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds the network memory that chunk writes keep while their blocks wait for the disk. Blocks
 * arrive in Netty's pooled direct buffers and are written from them without a copy; a write
 * session may hold a few megabytes of them, so many concurrent writes could otherwise exhaust
 * the JVM's direct memory (its limit is the heap limit unless set). Past the budget a block is
 * copied to the heap and its network buffer given back at once, as before pooled buffers.
 *
 * <p>Thread-safe: taken on event loops, given back on workers.
 */
final class DirectBudget {

  /** One budget per JVM: direct memory is per JVM, however many chunkservers run in it. */
  static final DirectBudget SHARED = new DirectBudget(
      Math.max(16L * 1024 * 1024, PlatformDependent.maxDirectMemory() / 4));

  private final long limit;
  private final AtomicLong held = new AtomicLong();

  DirectBudget(long limit) {
    this.limit = limit;
  }

  /** Takes {@code bytes} from the budget; false (and nothing taken) when that would exceed it. */
  boolean tryTake(long bytes) {
    if (held.addAndGet(bytes) <= limit) {
      return true;
    }
    held.addAndGet(-bytes);
    return false;
  }

  void give(long bytes) {
    held.addAndGet(-bytes);
  }

  long held() {
    return held.get();
  }

  long limit() {
    return limit;
  }
}
