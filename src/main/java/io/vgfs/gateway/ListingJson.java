package io.vgfs.gateway;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vgfs.client.ListResult;
import io.vgfs.protocol.FileInfo;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The HTTP body of a listing page:
 * <pre>{"prefix": "a/", "files": [{"path", "size", "modified", "etag"}…], "truncated": false,
 *  "next": "a/z"}</pre>
 * ({@code prefix} only for the live namespace, {@code next} only when truncated). Written with
 * Jackson's streaming generator: a page of 1,000 files built as {@code JsonObject}s and then
 * encoded cost the gateway about as much as everything else it does for the request.
 */
final class ListingJson {

  private static final JsonFactory JSON = new JsonFactory();

  private ListingJson() {
  }

  /** The body for {@code page}; {@code prefix} is left out when null. */
  static Buffer render(String prefix, ListResult page) {
    ByteBufOutputStream out = new ByteBufOutputStream(Unpooled.buffer(64 + page.files().size() * 128));
    try (JsonGenerator g = JSON.createGenerator((java.io.OutputStream) out)) {
      g.writeStartObject();
      if (prefix != null) {
        g.writeStringField("prefix", prefix);
      }
      g.writeArrayFieldStart("files");
      for (FileInfo f : page.files()) {
        g.writeStartObject();
        g.writeStringField("path", f.path());
        g.writeNumberField("size", f.size());
        g.writeNumberField("modified", f.modified());
        g.writeStringField("etag", f.etag());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeBooleanField("truncated", page.truncated());
      if (page.next() != null) {
        g.writeStringField("next", page.next());
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // an in-memory buffer does not fail
    }
    return BufferInternal.buffer(out.buffer());
  }
}
