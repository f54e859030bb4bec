package io.vgfs.client;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vgfs.protocol.FileInfo;

/**
 * The content of a file, or a range of it, as a stream with backpressure. Every byte it emits has
 * passed its block checksum; a replica that fails, stalls or returns corrupt bytes is replaced by
 * another one from the same offset without the reader noticing.
 */
public interface FileReadStream extends ReadStream<Buffer> {

  /** The file being read, as it was when the read began. */
  FileInfo info();

  /** The first byte of the range. */
  long offset();

  /** How many bytes the stream will emit. */
  long length();

  /**
   * Narrows the stream to {@code length} bytes from {@code offset} of the file, before it starts
   * (no handler set yet): one lookup serves a request whose range depends on the file's size, such
   * as an HTTP suffix range.
   *
   * @throws IllegalStateException when the stream already started or the range is not in the file
   */
  FileReadStream range(long offset, long length);

  @Override
  FileReadStream exceptionHandler(Handler<Throwable> handler);

  @Override
  FileReadStream handler(Handler<Buffer> handler);

  @Override
  FileReadStream pause();

  @Override
  FileReadStream resume();

  @Override
  FileReadStream fetch(long amount);

  @Override
  FileReadStream endHandler(Handler<Void> endHandler);
}
