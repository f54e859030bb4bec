package io.vgfs.client.impl;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/** An in-memory buffer as a {@link ReadStream}, in slices of 64 KiB, honouring pause. */
final class BufferReadStream implements ReadStream<Buffer> {

  private static final int SLICE = 64 * 1024;

  private final Context context;
  private final Buffer data;
  private int pos;
  private long demand = Long.MAX_VALUE;
  private boolean ended;
  private boolean scheduled;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;

  BufferReadStream(Context context, Buffer data) {
    this.context = context;
    this.data = data;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> h) {
    return this;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> h) {
    this.handler = h;
    schedule();
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    demand = 0;
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    demand = amount == Long.MAX_VALUE || demand + amount < 0 ? Long.MAX_VALUE : demand + amount;
    schedule();
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> h) {
    this.endHandler = h;
    return this;
  }

  private void schedule() {
    if (!scheduled && handler != null) {
      scheduled = true;
      context.runOnContext(v -> {
        scheduled = false;
        emit();
      });
    }
  }

  private void emit() {
    while (demand > 0 && pos < data.length() && handler != null) {
      int end = Math.min(data.length(), pos + SLICE);
      Buffer slice = data.slice(pos, end);
      pos = end;
      if (demand != Long.MAX_VALUE) {
        demand--;
      }
      handler.handle(slice);
    }
    if (pos >= data.length() && !ended && handler != null) {
      ended = true;
      if (endHandler != null) {
        endHandler.handle(null);
      }
    }
  }
}
