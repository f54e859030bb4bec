package io.vgfs.chunkserver;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The token bucket that throttles repair copies and scrubbing. */
class RateLimiterTest {

  private static final long MIB = 1 << 20;

  @Test
  @DisplayName("a rate of 0 never makes anyone wait")
  void unlimited() {
    RateLimiter r = new RateLimiter(0);
    for (int i = 0; i < 1000; i++) {
      assertThat(r.delayFor(64 * MIB)).isZero();
    }
  }

  @Test
  @DisplayName("after the burst, each further MiB at 10 MiB/s costs another 100 ms of waiting")
  void throttles() {
    RateLimiter r = new RateLimiter(10 * MIB);
    assertThat(r.delayFor(MIB)).as("the burst (1 MiB) goes at once").isZero();
    for (int k = 1; k <= 20; k++) {
      // Asked back to back without waiting, the debt grows by 1 MiB each time.
      assertThat((double) r.delayFor(MIB)).as("MiB %d past the burst", k)
          .isCloseTo(100.0 * k, within(15.0));
    }
  }

  @Test
  @DisplayName("the burst is a tenth of a second's worth at high rates, and tokens refill with time")
  void burstAndRefill() throws InterruptedException {
    RateLimiter r = new RateLimiter(100 * MIB);
    assertThat(r.delayFor(10 * MIB)).as("10 MiB burst at 100 MiB/s").isZero();
    assertThat(r.delayFor(10 * MIB)).as("the next 10 MiB wait ~100 ms").isBetween(90L, 115L);
    long waitUntil = System.nanoTime() + 300_000_000L; // the debt (100 ms) and a full burst
    while (System.nanoTime() < waitUntil) {
      Thread.sleep(20); // lets the bucket refill in real time: what is measured here
    }
    assertThat(r.delayFor(10 * MIB)).as("refilled: no wait").isZero();
  }
}
