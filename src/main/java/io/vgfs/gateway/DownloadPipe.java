package io.vgfs.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vgfs.client.impl.FileReadStreamImpl;
import io.vgfs.protocol.data.OwnedBuffer;

/**
 * Streams a direct read ({@code VgfsClientImpl#readDirect}) into an HTTP response. Each buffer is
 * the data socket's own memory: the response writes it to its connection without a copy, and it
 * is released once that write has completed, whether it succeeded or not. The read is paused while
 * the response's queue is full, and cancelled when the response closes or fails first, so a client
 * that hangs up stops the reading from the chunkservers.
 */
final class DownloadPipe {

  private final FileReadStreamImpl stream;
  private final HttpServerResponse resp;
  private final Promise<Void> done = Promise.promise();

  private DownloadPipe(FileReadStreamImpl stream, HttpServerResponse resp) {
    this.stream = stream;
    this.resp = resp;
  }

  /** Completes once the response has ended; fails if the read or the connection fails first. */
  static Future<Void> pipe(FileReadStreamImpl stream, HttpServerResponse resp) {
    DownloadPipe p = new DownloadPipe(stream, resp);
    try {
      p.start();
    } catch (IllegalStateException e) { // the connection closed before the first byte
      p.stop(e);
    }
    return p.done.future();
  }

  private void start() {
    // A closed connection reaches the exception handler too (HttpClosedException).
    resp.exceptionHandler(this::stop);
    resp.drainHandler(v -> stream.resume());
    stream.exceptionHandler(done::tryFail);
    stream.endHandler(v -> resp.end().onComplete(done));
    stream.handler(this::write);
  }

  private void write(Buffer b) {
    if (done.future().isComplete()) {
      OwnedBuffer.release(b);
      return;
    }
    try {
      resp.write(b).onComplete(ar -> OwnedBuffer.release(b));
    } catch (IllegalStateException e) { // the response ended or closed meanwhile
      OwnedBuffer.release(b);
      stop(e);
      return;
    }
    if (resp.writeQueueFull()) {
      stream.pause();
    }
  }

  private void stop(Throwable cause) {
    if (done.tryFail(cause)) {
      stream.cancel();
    }
  }
}
