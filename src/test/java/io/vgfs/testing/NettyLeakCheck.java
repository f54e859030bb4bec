package io.vgfs.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Fails a test class after which Netty's leak detector found a buffer that was never released:
 * the chunkservers and the gateway pass network buffers along without copying them, and a path
 * that forgets one leaks direct memory until the process dies.
 *
 * <p>JUnit registers this extension for every test class (junit-platform.properties), so its
 * detector factory is in place before the first buffer exists. The detector samples (one buffer in
 * 128 by default; {@code -Dio.netty.leakDetection.level=paranoid} tracks all) and finds a leaked
 * buffer only once it was garbage collected, so after each class this forces collections and
 * allocates until the detector has looked. A leak may thus be reported one class late; it is still
 * reported.
 */
public final class NettyLeakCheck implements AfterAllCallback {

  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

  static {
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
      @Override
      public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource,
                                                                 int samplingInterval,
                                                                 long maxActive) {
        return new ResourceLeakDetector<>(resource, samplingInterval) {
          @Override
          protected boolean needReport() {
            return true;
          }

          @Override
          protected void reportTracedLeak(String type, String records) {
            LEAKS.add(type + " leaked:" + records);
          }

          @Override
          protected void reportUntracedLeak(String type) {
            LEAKS.add(type + " leaked (run with -Dio.netty.leakDetection.level=advanced for where)");
          }
        };
      }
    });
  }

  @Override
  public void afterAll(ExtensionContext context) {
    ByteBufAllocator[] allocators = {ByteBufAllocator.DEFAULT, PooledByteBufAllocator.DEFAULT};
    for (int round = 0; round < 3; round++) {
      System.gc();
      for (int i = 0; i < 1024; i++) { // the detector looks for collected buffers on allocations
        ByteBuf b = allocators[i % 2].directBuffer(8);
        b.release();
      }
    }
    if (LEAKS.isEmpty()) {
      return;
    }
    List<String> found = new ArrayList<>(LEAKS);
    LEAKS.clear();
    throw new AssertionError(found.size() + " Netty buffer(s) leaked by the time "
        + context.getDisplayName() + " finished; the first: " + found.get(0));
  }
}
