package io.vgfs.protocol.data;

/** The frame types of the chunk data protocol; see {@link package-info} for the exchanges. */
public enum FrameType {
  /** JSON {@link WriteOpen}: start writing a chunk, forwarding it down a chain of replicas. */
  WRITE_OPEN(1, true),
  /** One checksum block of chunk data (raw bytes); the header CRC is the block's CRC32C. */
  DATA(2, false),
  /** JSON {@link WriteEnd}: all data sent; finish the chunk and acknowledge. */
  WRITE_END(3, true),
  /** JSON {@link WriteAck}: the chunk is durable (per its durability) on every replica. */
  WRITE_ACK(4, true),
  /** JSON {@link ReadRequest}: send a byte range of a chunk. */
  READ(5, true),
  /** Binary {@link ReadHeader}, followed on the wire by the raw bytes it announces. */
  READ_OK(6, false),
  /** JSON {@link ErrorFrame}: the exchange failed; the sender closes the connection after it. */
  ERROR(7, true),
  /**
   * JSON {@code {chunk, version, epoch, requestId, length, ifMatch?}} to a chunk's primary,
   * followed on the wire by {@code length} raw bytes: one record to append.
   */
  APPEND(8, true),
  /**
   * JSON {@code {chunk, version, epoch, offset, length}} from the primary to a secondary, followed
   * by {@code length} raw bytes: records to append at exactly {@code offset}.
   */
  APPEND_FWD(9, true),
  /** JSON {@code {offset, size}}: the record landed at file offset {@code offset}. */
  APPEND_OK(10, true);

  private final int code;
  private final boolean json;

  FrameType(int code, boolean json) {
    this.code = code;
    this.json = json;
  }

  public int code() {
    return code;
  }

  /** Whether the payload is a UTF-8 JSON object. */
  public boolean json() {
    return json;
  }

  private static final FrameType[] BY_CODE = new FrameType[16];

  static {
    for (FrameType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  /** The type for a wire code, or {@code null}. */
  public static FrameType of(int code) {
    return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
