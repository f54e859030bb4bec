package io.vgfs.protocol.data;

import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.VgfsException;

/** A malformed frame on the wire; the connection it came on must be closed. */
public class FrameException extends VgfsException {
  public FrameException(String message) {
    super(ErrorCode.BAD_REQUEST, message);
  }
}
