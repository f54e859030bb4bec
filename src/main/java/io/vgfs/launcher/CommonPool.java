package io.vgfs.launcher;

import java.util.concurrent.ForkJoinPool;

/**
 * Gives the JVM's common fork-join pool at least two threads in the server processes, unless the
 * operator sized it ({@code -Djava.util.concurrent.ForkJoinPool.common.parallelism}).
 *
 * <p>Hazelcast completes its asynchronous calls (each map operation of the master's metadata and
 * of Vert.x's cluster manager) on the common pool only if that pool has more than one thread;
 * otherwise it starts a new thread for every completion. The pool's default size is one less than
 * the number of cores, so on a 2-core host the master started and ended a thread per map
 * operation: about a tenth of its CPU while small files were written, more in the kernel
 * (async-profiler, BENCHMARKS.md).
 */
final class CommonPool {

  static final String PROPERTY = "java.util.concurrent.ForkJoinPool.common.parallelism";

  /** The size below which Hazelcast stops using the pool. */
  static final int MIN_PARALLELISM = 2;

  private CommonPool() {
  }

  /** Must run before anything uses the common pool: the JDK reads the property once. */
  static void ensureParallel() {
    ensureParallel(Runtime.getRuntime().availableProcessors());
  }

  static void ensureParallel(int cores) {
    if (System.getProperty(PROPERTY) == null && cores - 1 < MIN_PARALLELISM) {
      System.setProperty(PROPERTY, String.valueOf(MIN_PARALLELISM));
    }
  }

  /** The common pool's size in this JVM, for the start-up log. */
  static int inEffect() {
    return ForkJoinPool.getCommonPoolParallelism();
  }
}
