package io.vgfs.protocol.data;

import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.VgfsException;

/** A data-protocol failure, naming the replica at fault when it is known ({@code null} if not). */
public class ReplicaException extends VgfsException {

  private final String server;

  public ReplicaException(ErrorCode code, String message, String server) {
    super(code, message);
    this.server = server;
  }

  public String server() {
    return server;
  }
}
