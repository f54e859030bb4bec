package io.vgfs.gateway;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import io.vgfs.client.impl.FileReadStreamImpl;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.FileInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The response to a download: validators ({@code ETag}, {@code Last-Modified}), conditional GET
 * ({@code If-None-Match} gives 304), ranges ({@code Range}, {@code If-Range}; 206 or 416), then
 * the bytes through a {@link DownloadPipe}.
 */
final class FileResponse {

  private static final Logger log = LoggerFactory.getLogger(FileResponse.class);
  /**
   * Bytes a download may queue towards its HTTP connection before the replica is paused. Netty's
   * default (64 KiB) pauses the pipe after every body piece; 256 KiB, like the data sockets', keeps
   * the kernel's send buffer fed at a bounded cost in direct memory per download.
   */
  private static final int RESPONSE_QUEUE_BYTES = 256 * 1024;
  private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME
      .withZone(ZoneOffset.UTC);

  private FileResponse() {
  }

  /** Answers a GET of {@code path} with the file {@code opened}, or with why it did not open. */
  static void serve(RoutingContext ctx, String path, Future<FileReadStreamImpl> opened) {
    opened.onComplete(ar -> {
      if (ar.failed()) {
        HttpErrors.send(ctx, ar.cause());
        return;
      }
      FileReadStreamImpl stream = ar.result();
      FileInfo f = stream.info();
      HttpServerResponse resp = ctx.response();
      headers(resp, f);
      if (notModified(ctx, f)) {
        resp.setStatusCode(304).end();
        return;
      }
      String rangeHeader = ctx.request().getHeader("Range");
      String ifRange = ctx.request().getHeader("If-Range");
      if (ifRange != null && !ifRange.equals(f.etag())) {
        rangeHeader = null; // the client's partial copy is of another version: send it whole
      }
      ByteRange.Request range = ByteRange.parse(rangeHeader, f.size());
      if (range instanceof ByteRange.Unsatisfiable) {
        resp.putHeader("Content-Range", "bytes */" + f.size());
        HttpErrors.send(resp, ErrorCode.INVALID_RANGE, "range " + rangeHeader
            + " is not satisfiable for " + f.size() + " bytes");
        return;
      }
      if (range instanceof ByteRange.Range r) {
        stream.range(r.range().first(), r.range().length());
        resp.setStatusCode(206).putHeader("Content-Range", r.range().contentRange(f.size()));
      }
      resp.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(stream.length()));
      resp.setWriteQueueMaxSize(RESPONSE_QUEUE_BYTES);
      DownloadPipe.pipe(stream, resp).onFailure(t -> {
        log.warn("download of {} failed after {} headers were sent: {}", path,
            resp.headWritten() ? "its" : "no", t.getMessage());
        if (!resp.headWritten()) {
          HttpErrors.send(ctx, t);
        } else {
          resp.reset();
        }
      });
    });
  }

  /** The headers of any response that describes the file (GET, HEAD). */
  static void headers(HttpServerResponse resp, FileInfo f) {
    resp.putHeader(HttpHeaders.ETAG, f.etag())
        .putHeader(HttpHeaders.LAST_MODIFIED, HTTP_DATE.format(Instant.ofEpochMilli(f.modified())))
        .putHeader(HttpHeaders.ACCEPT_RANGES, "bytes")
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream");
  }

  /** Whether the client's copy is current ({@code If-None-Match}): then a 304 answers. */
  static boolean notModified(RoutingContext ctx, FileInfo f) {
    String inm = ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH);
    if (inm == null) {
      return false;
    }
    for (String tag : inm.split(",")) {
      String t = tag.trim();
      if (t.equals("*") || t.equals(f.etag()) || t.equals("W/" + f.etag())) {
        return true;
      }
    }
    return false;
  }
}
