package io.vgfs.launcher;

/**
 * Chooses Netty's pooled buffer allocator for the server processes, unless the operator chose one
 * ({@code -Dio.netty.allocator.type}).
 *
 * <p>Netty 4.2's default, the adaptive allocator, pools no buffer larger than 16.5 KiB in a JVM
 * whose maximum heap is 512 MiB or less, which is every gateway ({@code -Xmx128m}) and chunkserver
 * ({@code -Xmx512m}) that {@code ./vgfs} starts. There each socket read of up to 64 KiB took a
 * fresh direct buffer, zeroed by the JDK and faulted in page by page: about 30 % of a
 * chunkserver's CPU during a large write (async-profiler, BENCHMARKS.md). The pooled allocator
 * reuses its memory whatever the heap size.
 */
final class NettyAllocator {

  static final String PROPERTY = "io.netty.allocator.type";

  private NettyAllocator() {
  }

  /** Must run before any Netty buffer class is initialised: Netty reads the property once. */
  static void choosePooled() {
    if (System.getProperty(PROPERTY) == null) {
      System.setProperty(PROPERTY, "pooled");
    }
  }

  /** The allocator Netty's channels use in this JVM, for the start-up log. */
  static String inEffect() {
    return io.netty.buffer.ByteBufAllocator.DEFAULT.getClass().getSimpleName();
  }
}
