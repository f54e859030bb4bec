package io.vgfs.client;

/** Options of {@link VgfsClient#append(String, io.vertx.core.buffer.Buffer, AppendOptions)}. */
public class AppendOptions extends WriteOptions {

  private String requestId;

  public String getRequestId() {
    return requestId;
  }

  /**
   * An id for this append (at most 200 characters; an HTTP {@code Idempotency-Key}). An append
   * retried with the same id, after a timeout or a crash, is applied once: the retry gets the first
   * one's result. Without one, the client makes up an id that its own retries share.
   */
  public AppendOptions setRequestId(String requestId) {
    this.requestId = requestId;
    return this;
  }

  @Override
  public AppendOptions setIfMatch(String etag) {
    super.setIfMatch(etag);
    return this;
  }

  @Override
  public AppendOptions setIfNoneMatch(String etag) {
    super.setIfNoneMatch(etag);
    return this;
  }
}
