package io.vgfs.protocol;

/**
 * Every failure vgfs reports, on the event bus as {@code message.fail(code(), text)} and over
 * HTTP as {@code {"error": name(), "message": text}} with {@link #httpStatus()}.
 *
 * <p>{@link #retryable()} failures leave nothing changed and may succeed if tried again later
 * (HTTP 503 with {@code Retry-After}); the others will fail the same way again.
 */
public enum ErrorCode {
  BAD_REQUEST(4000, 400, false),
  INVALID_PATH(4001, 400, false),
  INVALID_RANGE(4002, 416, false),
  /** An HTTP request without a token the gateway accepts ({@code --auth-tokens}). */
  UNAUTHORIZED(4010, 401, false),
  NOT_FOUND(4040, 404, false),
  CONFLICT(4090, 409, false),
  PRECONDITION_FAILED(4120, 412, false),
  TOO_LARGE(4130, 413, false),
  /**
   * A request carried a master epoch older than one the receiver has already seen: it comes from
   * (or was prepared by) a master that has been replaced. Retrying reaches the new one.
   */
  STALE_EPOCH(5034, 503, true),
  /** The receiver is a master that is not (or no longer) the active one. */
  NOT_ACTIVE(5031, 503, true),
  NOT_ENOUGH_CHUNKSERVERS(5032, 503, true),
  UNAVAILABLE(5030, 503, true),
  /** Every replica of a chunk failed to deliver correct bytes. */
  DATA_UNAVAILABLE(5033, 503, true),
  /** An append does not fit in the file's last chunk: the writer asks for a new one. */
  CHUNK_FULL(4092, 409, true),
  /** The chunkserver holds no valid append lease for the chunk: ask the master again. */
  NOT_PRIMARY(5035, 503, true),
  IO_ERROR(5000, 500, false),
  INTERNAL(5001, 500, false);

  private final int code;
  private final int httpStatus;
  private final boolean retryable;

  ErrorCode(int code, int httpStatus, boolean retryable) {
    this.code = code;
    this.httpStatus = httpStatus;
    this.retryable = retryable;
  }

  /** The failure code carried by a failed event-bus reply. */
  public int code() {
    return code;
  }

  public int httpStatus() {
    return httpStatus;
  }

  public boolean retryable() {
    return retryable;
  }

  /** The code for an event-bus failure code, or {@code null} when it is not one of ours. */
  public static ErrorCode ofCode(int code) {
    for (ErrorCode c : values()) {
      if (c.code == code) {
        return c;
      }
    }
    return null;
  }

  /** Parses a name, or {@link #INTERNAL} when unknown. */
  public static ErrorCode ofName(String name) {
    try {
      return valueOf(name);
    } catch (RuntimeException e) {
      return INTERNAL;
    }
  }
}
