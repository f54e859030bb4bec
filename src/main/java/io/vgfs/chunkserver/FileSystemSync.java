package io.vgfs.chunkserver;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code syncfs(2)}: makes every write to one file system durable with one call, where fsyncing
 * each file would cost one flush of the disk's cache per file. Linux only, through JNA; elsewhere
 * {@link #available()} is false and callers fsync file by file.
 */
final class FileSystemSync {

  private static final Logger log = LoggerFactory.getLogger(FileSystemSync.class);
  private static final int O_RDONLY = 0;

  /** The libc functions used. */
  interface LibC extends Library {
    int open(String path, int flags) throws LastErrorException;

    int syncfs(int fd) throws LastErrorException;

    int close(int fd) throws LastErrorException;
  }

  private static final LibC LIBC = load();

  private FileSystemSync() {
  }

  private static LibC load() {
    if (!Platform.isLinux()) {
      return null;
    }
    try {
      return Native.load("c", LibC.class);
    } catch (Throwable t) { // UnsatisfiedLinkError, or no JNA native for this platform
      log.warn("syncfs(2) is not available ({}); buffered chunks are fsynced one by one",
          t.toString());
      return null;
    }
  }

  /** Whether {@link #sync(Path)} can be used here. */
  static boolean available() {
    return LIBC != null;
  }

  /** Flushes the file system holding {@code path} to disk (blocking). */
  static void sync(Path path) throws IOException {
    if (LIBC == null) {
      throw new IOException("syncfs(2) is not available");
    }
    int fd;
    try {
      fd = LIBC.open(path.toString(), O_RDONLY);
    } catch (LastErrorException e) {
      throw new IOException("open " + path + " for syncfs: errno " + e.getErrorCode());
    }
    try {
      LIBC.syncfs(fd);
    } catch (LastErrorException e) {
      throw new IOException("syncfs " + path + ": errno " + e.getErrorCode());
    } finally {
      try {
        LIBC.close(fd);
      } catch (LastErrorException ignored) {
        // the sync's outcome is what matters
      }
    }
  }
}
