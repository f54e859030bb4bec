package io.vgfs.protocol;

/** When a chunk write is acknowledged. */
public enum Durability {
  /** Every replica has fsynced the chunk data and its checksums (the default). */
  SYNC,
  /** Every replica has written the chunk to its OS page cache; fsync follows in the background. */
  BUFFERED;

  public static Durability parse(String s) {
    return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT));
  }
}
