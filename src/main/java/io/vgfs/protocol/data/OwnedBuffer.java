package io.vgfs.protocol.data;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.buffer.impl.BufferImpl;

/**
 * A buffer over pooled network memory with one reference that its holder owns and gives back
 * exactly once ({@link #release(Buffer)}). Writing it to a Vert.x socket or HTTP response does not
 * copy it and does not release it: the writer releases it once the write has completed.
 *
 * <p>Only code that promises to release reads such buffers (the gateway's downloads); buffers that
 * {@code VgfsClient} hands to applications are ordinary heap buffers.
 */
public final class OwnedBuffer extends BufferImpl {

  public OwnedBuffer(ByteBuf owned) {
    super(owned);
  }

  /** Gives back {@code b}'s reference if it is an {@code OwnedBuffer}; other buffers are left. */
  public static void release(Buffer b) {
    if (b instanceof OwnedBuffer o) {
      o.byteBuf().release();
    }
  }
}
