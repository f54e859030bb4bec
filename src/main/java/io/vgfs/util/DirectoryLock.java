package io.vgfs.util;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on a data directory ({@code .lock} inside it), held until {@link #close()} or
 * the process ends, so two servers can never share one directory. The OS drops it when the
 * process dies, even by {@code kill -9}.
 */
public final class DirectoryLock implements AutoCloseable {

  private final FileChannel channel;
  private final FileLock lock;

  private DirectoryLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Locks {@code dir} (creating it), or fails saying another process holds it. Blocking. */
  public static DirectoryLock acquire(Path dir) throws IOException {
    Files.createDirectories(dir);
    FileChannel ch = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      ch.close();
      throw new IOException("data directory " + dir.toAbsolutePath()
          + " is in use by another vgfs server");
    }
    return new DirectoryLock(ch, lock);
  }

  @Override
  public void close() throws IOException {
    lock.release();
    channel.close();
  }
}
