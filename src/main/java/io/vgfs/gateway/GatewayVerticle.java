package io.vgfs.gateway;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vgfs.client.VgfsClient;
import io.vgfs.client.impl.VgfsClientImpl;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.PathRules;
import io.vgfs.protocol.VgfsException;


/**
 * The HTTP API. Uploads and downloads stream between the HTTP connection and the chunkservers
 * through {@link VgfsClient} with backpressure; the gateway never holds a whole file.
 *
 * <pre>
 * PUT    /api/v1/files/{path}   upload (201 {path, size, chunks, etag, ...})
 * GET    /api/v1/files/{path}   download; Range: bytes=a-b | a- | -n gives 206, unsatisfiable 416
 * HEAD   /api/v1/files/{path}   headers only
 * DELETE /api/v1/files/{path}   204
 * GET    /api/v1/files?prefix=dir/&amp;after=&amp;limit=   {files: [...], truncated, next}
 * GET    /api/v1/cluster        the master's cluster status
 * GET    /health                200 when an active master and enough chunkservers answer
 * GET    /                      a web page to list, upload, download and delete files
 * </pre>
 * With {@code --auth-tokens}, every request but {@code GET /health} and the page ({@link WebPage})
 * needs {@code Authorization: Bearer <token>} ({@link BearerAuth}); without, a 401.
 */
public class GatewayVerticle extends VerticleBase {

  static final String FILES = "/api/v1/files/";

  private final GatewayOptions options;
  private VgfsClientImpl client;
  private HttpServer server;

  public GatewayVerticle(GatewayOptions options) {
    this.options = options;
  }

  @Override
  public Future<?> start() {
    client = new VgfsClientImpl(vertx, options.client(), true); // direct reads for downloads
    Router router = Router.router(vertx);
    BearerAuth auth = new BearerAuth(options.authTokens());
    router.route().handler(auth);
    router.route().handler(this::rejectDotSegments);
    router.get("/health").handler(this::health);
    router.get("/api/v1/cluster").handler(ctx -> client.clusterStatus()
        .onSuccess(json -> json(ctx.response(), 200, json))
        .onFailure(t -> HttpErrors.send(ctx, t)));
    router.get("/api/v1/files").handler(this::list);
    router.put(FILES + "*").handler(this::upload);
    router.post(FILES + "*").handler(this::post);
    router.post("/api/v1/snapshots").handler(this::createSnapshot);
    router.get("/api/v1/snapshots").handler(ctx -> client.snapshots()
        .onSuccess(arr -> json(ctx.response(), 200, new JsonObject().put("snapshots", arr)))
        .onFailure(t -> HttpErrors.send(ctx, t)));
    router.delete("/api/v1/snapshots/:name").handler(ctx -> client.deleteSnapshot(
        ctx.pathParam("name")).onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(t -> HttpErrors.send(ctx, t)));
    router.get("/api/v1/snapshots/:name/files").handler(this::listSnapshot);
    router.get("/api/v1/snapshots/:name/files/*").handler(this::downloadSnapshot);
    router.get(FILES + "*").handler(this::download);
    router.head(FILES + "*").handler(this::head);
    router.delete(FILES + "*").handler(this::delete);
    router.get("/api/v1/trash").handler(ctx -> client.trash(ctx.request().getParam("prefix", ""))
        .onSuccess(files -> json(ctx.response(), 200, new JsonObject().put("files", files)))
        .onFailure(t -> HttpErrors.send(ctx, t)));
    router.post("/api/v1/trash/*").handler(this::restore);
    router.post("/api/v1/cluster/chunkservers/:id/drain").handler(ctx -> drain(ctx, true));
    router.delete("/api/v1/cluster/chunkservers/:id/drain").handler(ctx -> drain(ctx, false));
    router.errorHandler(404, ctx -> HttpErrors.send(ctx.response(), ErrorCode.NOT_FOUND,
        "no such endpoint: " + ctx.request().method() + " " + ctx.request().path()));
    router.errorHandler(405, ctx -> HttpErrors.send(ctx.response(), ErrorCode.BAD_REQUEST,
        ctx.request().method() + " is not allowed on " + ctx.request().path()));
    router.errorHandler(500, ctx -> HttpErrors.send(ctx, ctx.failure() == null
        ? new VgfsException(ErrorCode.INTERNAL, "internal error") : ctx.failure()));
    Future<WebPage> page = WebPage.load(vertx).onSuccess(p -> p.mount(router));
    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(options.host())
        .setPort(options.port())
        .setMaxChunkSize(64 * 1024)
        .setHandle100ContinueAutomatically(true)
        .setTcpNoDelay(true)
        .setCompressionSupported(false));
    return page.compose(p -> server.requestHandler(router).listen())
        .onSuccess(s -> auth.warnIfOpen(options.host(), s.actualPort()));
  }

  /** The port actually bound. */
  public int port() {
    return server.actualPort();
  }

  @Override
  public Future<?> stop() {
    return Future.all(server == null ? Future.succeededFuture() : server.close(),
        client == null ? Future.succeededFuture() : client.close());
  }

  // Vert.x Web routes on the normalized path, which silently resolves "..": check the raw one.
  private void rejectDotSegments(RoutingContext ctx) {
    String raw = ctx.request().path();
    if (raw != null && raw.startsWith("/api/v1/files")) {
      String decoded;
      try {
        decoded = PathRules.urlDecode(raw);
      } catch (VgfsException e) {
        HttpErrors.send(ctx, e);
        return;
      }
      for (String seg : decoded.split("/", -1)) {
        if (seg.equals("..") || seg.equals(".")) {
          HttpErrors.send(ctx.response(), ErrorCode.INVALID_PATH,
              "'" + seg + "' segments are not allowed in paths");
          return;
        }
      }
    }
    ctx.next();
  }

  private static String filePath(RoutingContext ctx) {
    String raw = ctx.request().path();
    return PathRules.file(PathRules.urlDecode(raw.substring(FILES.length())));
  }

  // A directory's path as it ends in the URL: {dir}/, never the root.
  private static String directoryPath(RoutingContext ctx) {
    String raw = ctx.request().path();
    String dir = PathRules.prefix(PathRules.urlDecode(raw.substring(FILES.length())));
    if (dir.isEmpty()) {
      throw new VgfsException(ErrorCode.INVALID_PATH, "the root cannot be renamed");
    }
    return dir;
  }

  private void upload(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String path;
    try {
      path = filePath(ctx);
    } catch (VgfsException e) {
      HttpErrors.refuseUpload(ctx, e);
      return;
    }
    io.vgfs.client.WriteOptions conditions = new io.vgfs.client.WriteOptions()
        .setIfMatch(req.getHeader(HttpHeaders.IF_MATCH))
        .setIfNoneMatch(req.getHeader(HttpHeaders.IF_NONE_MATCH));
    client.write(path, req, conditions).onComplete(ar -> {
      if (ar.succeeded()) {
        FileInfo f = ar.result();
        ctx.response().putHeader(HttpHeaders.ETAG, f.etag())
            .putHeader(HttpHeaders.LOCATION, FILES + path);
        json(ctx.response(), 201, f.summaryJson().put("chunks", f.chunks().size()));
      } else {
        HttpErrors.refuseUpload(ctx, ar.cause());
      }
    });
  }

  private void download(RoutingContext ctx) {
    String path;
    try {
      path = filePath(ctx);
    } catch (VgfsException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    FileResponse.serve(ctx, path, client.readDirect(null, path));
  }

  // GET /api/v1/snapshots/{name}/files/{path}: a file as it was when the snapshot was taken.
  private void downloadSnapshot(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    String prefix = "/api/v1/snapshots/" + name + "/files/";
    String path;
    try {
      path = PathRules.file(PathRules.urlDecode(ctx.request().path().substring(prefix.length())));
    } catch (VgfsException | IndexOutOfBoundsException e) {
      HttpErrors.send(ctx, e instanceof VgfsException v ? v
          : new VgfsException(ErrorCode.INVALID_PATH, "bad snapshot file path"));
      return;
    }
    FileResponse.serve(ctx, path, client.readDirect(name, path));
  }

  private void listSnapshot(RoutingContext ctx) {
    int limit;
    try {
      limit = Integer.parseInt(ctx.request().getParam("limit", "1000"));
    } catch (NumberFormatException e) {
      HttpErrors.send(ctx.response(), ErrorCode.BAD_REQUEST, "limit must be a number");
      return;
    }
    client.listSnapshot(ctx.pathParam("name"), ctx.request().getParam("prefix", ""),
        ctx.request().getParam("after"), limit).onComplete(ar -> {
          if (ar.failed()) {
            HttpErrors.send(ctx, ar.cause());
            return;
          }
          json(ctx.response(), 200, ListingJson.render(null, ar.result()));
        });
  }

  // POST /api/v1/snapshots {"source": "dir/", "name": "before-migration"}
  private void createSnapshot(RoutingContext ctx) {
    readBody(ctx, 64 * 1024).onComplete(ar -> {
      if (ar.failed()) {
        HttpErrors.send(ctx, ar.cause());
        return;
      }
      JsonObject req;
      try {
        req = new JsonObject(ar.result());
      } catch (RuntimeException e) {
        HttpErrors.send(ctx.response(), ErrorCode.BAD_REQUEST,
            "the body must be JSON {\"source\", \"name\"}");
        return;
      }
      client.snapshot(req.getString("source", ""), req.getString("name"))
          .onSuccess(j -> json(ctx.response(), 201, j))
          .onFailure(t -> HttpErrors.send(ctx, t));
    });
  }

  // POST /api/v1/files/{path}?append | ?rename-to=new[&overwrite=true]
  private void post(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    // {dir}/?rename-to names a directory only, even where a file has the same name without '/'.
    boolean directory = req.getParam("rename-to") != null && req.path().endsWith("/");
    String path;
    try {
      path = directory ? directoryPath(ctx) : filePath(ctx);
    } catch (VgfsException e) {
      HttpErrors.refuseUpload(ctx, e);
      return;
    }
    if (req.getParam("rename-to") != null) {
      String raw = req.getParam("rename-to");
      client.rename(path, raw, Boolean.parseBoolean(req.getParam("overwrite", "false")))
          .onSuccess(n -> json(ctx.response(), 200, new JsonObject().put("from", path)
              .put("to", raw).put("moved", n)))
          .onFailure(t -> HttpErrors.send(ctx, t));
      return;
    }
    if (req.getParam("append") == null) {
      HttpErrors.refuseUpload(ctx, new VgfsException(ErrorCode.BAD_REQUEST,
          "POST a file with ?append or ?rename-to=<new path>"));
      return;
    }
    String key = req.getHeader("Idempotency-Key");
    if (key != null && (key.isEmpty() || key.length() > 200)) {
      HttpErrors.refuseUpload(ctx, new VgfsException(ErrorCode.BAD_REQUEST,
          "Idempotency-Key must have 1 to 200 characters"));
      return;
    }
    req.pause();
    client.clusterInfo().onComplete(info -> {
      long max = info.succeeded() ? info.result().getLong("maxRecord", 16L << 20) : 16L << 20;
      String declared = req.getHeader(HttpHeaders.CONTENT_LENGTH);
      if (declared != null && Long.parseLong(declared) > max) {
        HttpErrors.refuseUpload(ctx, new VgfsException(ErrorCode.TOO_LARGE,
            "an append is at most " + max + " bytes (a quarter of the chunk size); split larger data into several appends"));
        return;
      }
      readBody(ctx, max).compose(body -> client.append(path, body,
              new io.vgfs.client.AppendOptions().setRequestId(key)
                  .setIfMatch(req.getHeader(HttpHeaders.IF_MATCH))
                  .setIfNoneMatch(req.getHeader(HttpHeaders.IF_NONE_MATCH))))
          .onSuccess(r -> json(ctx.response(), 200, new JsonObject().put("path", path)
              .put("offset", r.offset()).put("length", r.length()).put("size", r.size())))
          .onFailure(t -> HttpErrors.refuseUpload(ctx, t));
    });
  }

  // A small request body, refused beyond `max` bytes.
  private static io.vertx.core.Future<io.vertx.core.buffer.Buffer> readBody(RoutingContext ctx,
                                                                            long max) {
    io.vertx.core.Promise<io.vertx.core.buffer.Buffer> p = io.vertx.core.Promise.promise();
    io.vertx.core.buffer.Buffer body = io.vertx.core.buffer.Buffer.buffer();
    HttpServerRequest req = ctx.request();
    req.handler(b -> {
      if (body.length() + b.length() > max) {
        p.tryFail(new VgfsException(ErrorCode.TOO_LARGE, "the body is larger than " + max
            + " bytes"));
        return;
      }
      if (!p.future().isComplete()) {
        body.appendBuffer(b);
      }
    });
    req.exceptionHandler(p::tryFail);
    req.endHandler(v -> p.tryComplete(body));
    req.resume();
    return p.future();
  }

  private void head(RoutingContext ctx) {
    String path;
    try {
      path = filePath(ctx);
    } catch (VgfsException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    client.stat(path).onComplete(ar -> {
      if (ar.failed()) {
        VgfsException e = VgfsException.of(ar.cause());
        ctx.response().setStatusCode(e.code().httpStatus()).end();
        return;
      }
      HttpServerResponse resp = ctx.response();
      FileResponse.headers(resp, ar.result());
      if (FileResponse.notModified(ctx, ar.result())) {
        resp.setStatusCode(304).end();
        return;
      }
      resp.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(ar.result().size())).end();
    });
  }

  private void delete(RoutingContext ctx) {
    String path;
    try {
      path = filePath(ctx);
    } catch (VgfsException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    if (ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH) != null) {
      // Ignoring a precondition would delete what the caller meant to keep.
      HttpErrors.send(ctx.response(), ErrorCode.BAD_REQUEST,
          "If-None-Match is not supported on DELETE; use If-Match: <etag>");
      return;
    }
    client.delete(path, ctx.request().getHeader(HttpHeaders.IF_MATCH))
        .onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(t -> HttpErrors.send(ctx, t));
  }

  private void list(RoutingContext ctx) {
    String prefix = ctx.request().getParam("prefix", "");
    String after = ctx.request().getParam("after");
    int limit;
    try {
      limit = Integer.parseInt(ctx.request().getParam("limit", "1000"));
    } catch (NumberFormatException e) {
      HttpErrors.send(ctx.response(), ErrorCode.BAD_REQUEST, "limit must be a number");
      return;
    }
    client.list(prefix, after, limit).onComplete(ar -> {
      if (ar.failed()) {
        HttpErrors.send(ctx, ar.cause());
        return;
      }
      json(ctx.response(), 200, ListingJson.render(PathRules.prefix(prefix), ar.result()));
    });
  }

  // POST /api/v1/trash/{path}/restore
  private void restore(RoutingContext ctx) {
    String raw = ctx.request().path().substring("/api/v1/trash/".length());
    if (!raw.endsWith("/restore")) {
      HttpErrors.send(ctx.response(), ErrorCode.NOT_FOUND, "use POST /api/v1/trash/{path}/restore");
      return;
    }
    String path;
    try {
      path = PathRules.file(PathRules.urlDecode(raw.substring(0, raw.length() - 8)));
    } catch (VgfsException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    client.restore(path).onSuccess(f -> json(ctx.response(), 200, f.summaryJson()))
        .onFailure(t -> HttpErrors.send(ctx, t));
  }

  private void drain(RoutingContext ctx, boolean on) {
    client.drain(ctx.pathParam("id"), on).onSuccess(j -> json(ctx.response(), 200, j))
        .onFailure(t -> HttpErrors.send(ctx, t));
  }

  private void health(RoutingContext ctx) {
    vertx.eventBus().<JsonObject>request(Addresses.STATUS, new JsonObject(),
        new DeliveryOptions().setSendTimeout(2000)).onComplete(ar -> {
          if (ar.failed()) {
            HttpErrors.send(ctx.response(), ErrorCode.UNAVAILABLE,
                "no active master: " + ar.cause().getMessage());
            return;
          }
          JsonObject st = ar.result().body();
          int live = st.getInteger("liveChunkservers", 0);
          int needed = st.getInteger("replication", 1);
          JsonObject body = new JsonObject().put("status", live >= needed ? "ok" : "degraded")
              .put("activeMaster", st.getString("activeMaster")).put("epoch", st.getLong("epoch"))
              .put("liveChunkservers", live).put("replication", needed);
          if (live < needed) {
            HttpErrors.send(ctx.response(), ErrorCode.NOT_ENOUGH_CHUNKSERVERS, live
                + " live chunkservers, replication " + needed + " needs " + needed);
          } else {
            json(ctx.response(), 200, body);
          }
        });
  }

  private static void json(HttpServerResponse resp, int status, JsonObject body) {
    json(resp, status, body.toBuffer());
  }

  private static void json(HttpServerResponse resp, int status, Buffer body) {
    resp.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body);
  }
}
