package io.vgfs.chunkserver;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** What a chunkserver's data connections have done, for operators and tests. */
final class ServingStats {

  /** Bytes of chunk data sent to readers. */
  final LongAdder served = new LongAdder();
  /** Data connections open now (clients, gateways and other chunkservers). */
  final AtomicInteger connections = new AtomicInteger();
}
