package io.vgfs.gateway;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * The gateway's web page: {@code GET /} and its script, {@code GET /ui/app.js}, served from the
 * jar. The page holds no data (it calls the HTTP API, with the token the user enters), so both
 * are public even when the API needs a token ({@link #isPublic}). Both are a few KiB, read once
 * at start on a worker.
 */
final class WebPage {

  private static final Map<String, String> RESOURCES = Map.of(
      "/", "webui/index.html",
      "/ui/app.js", "webui/app.js");
  private static final Map<String, String> TYPES = Map.of(
      "/", "text/html; charset=utf-8",
      "/ui/app.js", "text/javascript; charset=utf-8");

  private final Map<String, Buffer> content;

  private WebPage(Map<String, Buffer> content) {
    this.content = content;
  }

  /** Reads the page's files from the classpath (on a worker). */
  static Future<WebPage> load(Vertx vertx) {
    return vertx.executeBlocking(() -> {
      Map<String, Buffer> m = new java.util.HashMap<>();
      for (Map.Entry<String, String> e : RESOURCES.entrySet()) {
        try (InputStream in = WebPage.class.getClassLoader().getResourceAsStream(e.getValue())) {
          if (in == null) {
            throw new IOException("missing from the jar: " + e.getValue());
          }
          m.put(e.getKey(), Buffer.buffer(in.readAllBytes()));
        }
      }
      return new WebPage(Map.copyOf(m));
    });
  }

  /** Whether a request path is part of the page rather than of the API. */
  static boolean isPublic(String path) {
    return RESOURCES.containsKey(path);
  }

  void mount(Router router) {
    for (String path : RESOURCES.keySet()) {
      router.get(path).handler(ctx -> serve(ctx, path));
    }
  }

  private void serve(RoutingContext ctx, String path) {
    ctx.response()
        .putHeader("Content-Type", TYPES.get(path))
        .putHeader("Cache-Control", "no-cache")
        .putHeader("X-Content-Type-Options", "nosniff")
        // Scripts only from this origin: a file name shown on the page can never run as code.
        .putHeader("Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        .end(content.get(path));
  }
}
