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
 * Linux calls that Java does not offer, through JNA; elsewhere {@link #available()} is false and
 * callers fall back to plain fsyncs.
 * <ul>
 *   <li>{@code syncfs(2)}: makes every write to one file system durable with one call, where
 *       fsyncing each file would cost one flush of the disk's cache per file;</li>
 *   <li>{@code sync_file_range(2)} with {@code SYNC_FILE_RANGE_WRITE}: starts writing a range of a
 *       file to disk without waiting for it, so that the fsync at the end of a chunk finds little
 *       left to write (what {@code dfs.datanode.sync.behind.writes} does in HDFS).</li>
 * </ul>
 */
final class FileSystemSync {

  private static final Logger log = LoggerFactory.getLogger(FileSystemSync.class);
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int SYNC_FILE_RANGE_WRITE = 2;

  /** The libc functions used. */
  interface LibC extends Library {
    int open(String path, int flags) throws LastErrorException;

    int syncfs(int fd) throws LastErrorException;

    int sync_file_range(int fd, long offset, long nbytes, int flags) throws LastErrorException;

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

  /** Opens {@code path} for {@link #startWriteback}; -1 if that is not available (blocking). */
  static int openForWriteback(Path path) {
    if (LIBC == null) {
      return -1;
    }
    try {
      return LIBC.open(path.toString(), O_RDONLY | O_CLOEXEC);
    } catch (LastErrorException e) {
      return -1;
    }
  }

  /**
   * Starts writing {@code [offset, offset + length)} of the file open as {@code fd} to disk and
   * returns without waiting (blocking only while the disk's queue is full). Best effort: the
   * fsync at the end is what makes the bytes durable, so a failure is only reported (false).
   */
  static boolean startWriteback(int fd, long offset, long length) {
    if (LIBC == null || fd < 0) {
      return false;
    }
    try {
      return LIBC.sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE) == 0;
    } catch (LastErrorException e) {
      return false; // the final fsync still covers these bytes
    }
  }

  /** Closes a descriptor from {@link #openForWriteback}. */
  static void close(int fd) {
    if (LIBC == null || fd < 0) {
      return;
    }
    try {
      LIBC.close(fd);
    } catch (LastErrorException ignored) {
      // nothing was written through it
    }
  }
}
