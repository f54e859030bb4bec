package io.vgfs.chunkserver;

/**
 * A token bucket in bytes per second, for background work (re-replication, scrubbing) that must
 * leave bandwidth to clients. {@link #delayFor(long)} says how long to wait before moving that
 * many bytes; callers wait with a timer, never by sleeping on an event loop. A rate of 0 means
 * unlimited. Not thread-safe: one owner.
 */
final class RateLimiter {

  private final double bytesPerNano;
  private final double burst;
  private double tokens;
  private long last = System.nanoTime();

  RateLimiter(long bytesPerSecond) {
    this.bytesPerNano = bytesPerSecond / 1e9;
    this.burst = Math.max(bytesPerSecond / 10.0, 1 << 20);
    this.tokens = burst;
  }

  /** Takes {@code bytes}; returns milliseconds to wait before using them (0: go ahead). */
  long delayFor(long bytes) {
    if (bytesPerNano <= 0) {
      return 0;
    }
    long now = System.nanoTime();
    tokens = Math.min(burst, tokens + (now - last) * bytesPerNano);
    last = now;
    tokens -= bytes;
    return tokens >= 0 ? 0 : (long) Math.ceil(-tokens / bytesPerNano / 1e6);
  }
}
