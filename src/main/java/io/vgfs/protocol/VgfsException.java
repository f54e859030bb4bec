package io.vgfs.protocol;

import io.vertx.core.VertxException;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/** A failure with an {@link ErrorCode}; what every vgfs API fails its Futures with. */
public class VgfsException extends VertxException {

  private final ErrorCode code;

  public VgfsException(ErrorCode code, String message) {
    super(message, true);
    this.code = code;
  }

  public VgfsException(ErrorCode code, String message, Throwable cause) {
    super(message, cause, true);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  public boolean retryable() {
    return code.retryable();
  }

  /**
   * Maps any failure to a {@link VgfsException}: ours stay as they are, event-bus failures with one
   * of our codes keep it, timeouts and missing handlers become {@link ErrorCode#UNAVAILABLE}.
   */
  public static VgfsException of(Throwable t) {
    if (t instanceof VgfsException v) {
      return v;
    }
    if (t instanceof ReplyException r) {
      if (r.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
        ErrorCode c = ErrorCode.ofCode(r.failureCode());
        if (c != null) {
          return new VgfsException(c, r.getMessage());
        }
        return new VgfsException(ErrorCode.INTERNAL, String.valueOf(r.getMessage()));
      }
      return new VgfsException(ErrorCode.UNAVAILABLE,
          "master unreachable (" + r.failureType() + "): " + r.getMessage());
    }
    return new VgfsException(ErrorCode.INTERNAL, String.valueOf(t.getMessage()), t);
  }
}
