package io.vgfs.client;

/**
 * Conditions on a write or delete, checked atomically by the master against the file's current
 * ETag when the operation takes effect; a condition that does not hold fails the operation with
 * {@code PRECONDITION_FAILED} and changes nothing.
 */
public class WriteOptions {

  private String ifMatch;
  private String ifNoneMatch;

  public String getIfMatch() {
    return ifMatch;
  }

  /** Only if the file exists with this ETag ({@code *}: exists at all). */
  public WriteOptions setIfMatch(String etag) {
    this.ifMatch = etag;
    return this;
  }

  public String getIfNoneMatch() {
    return ifNoneMatch;
  }

  /** {@code *}: only if there is no file at the path (create, never overwrite). */
  public WriteOptions setIfNoneMatch(String etag) {
    this.ifNoneMatch = etag;
    return this;
  }

  /** Adds the conditions to a master request. */
  public io.vertx.core.json.JsonObject applyTo(io.vertx.core.json.JsonObject req) {
    if (ifMatch != null) {
      req.put("ifMatch", ifMatch);
    }
    if (ifNoneMatch != null) {
      req.put("ifNoneMatch", ifNoneMatch);
    }
    return req;
  }
}
