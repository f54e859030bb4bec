package io.vgfs.gateway;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.client.VgfsClient;
import io.vgfs.client.VgfsClientOptions;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.Replies;
import io.vgfs.protocol.VgfsException;

/**
 * The public event-bus API for Vert.x applications that do not embed {@link VgfsClient} (other
 * JVM languages, polyglot apps behind an event-bus bridge): stat, list, delete, and whole-file
 * read and write of small files. See {@link Addresses} for the message shapes. Files above the
 * limit are refused with {@code TOO_LARGE}, pointing to the streaming client: bulk bytes do not
 * belong on the event bus.
 */
public class EventBusApiVerticle extends VerticleBase {

  private final long limit;
  private final VgfsClientOptions clientOptions;
  private VgfsClient client;

  public EventBusApiVerticle(long smallFileLimit, VgfsClientOptions clientOptions) {
    this.limit = smallFileLimit;
    this.clientOptions = clientOptions;
  }

  @Override
  public Future<?> start() {
    client = VgfsClient.create(vertx, clientOptions);
    EventBus bus = vertx.eventBus();
    bus.<JsonObject>consumer(Addresses.API_STAT, msg -> Replies.handle(msg,
        req -> client.stat(req.getString("path")).map(f -> f.summaryJson())));
    bus.<JsonObject>consumer(Addresses.API_LIST, msg -> Replies.handle(msg,
        req -> client.list(req.getString("prefix", ""), req.getString("after"),
            req.getInteger("limit", 1000)).map(r -> {
              JsonArray files = new JsonArray();
              r.files().forEach(f -> files.add(f.summaryJson()));
              JsonObject out = new JsonObject().put("files", files).put("truncated", r.truncated());
              return r.next() == null ? out : out.put("next", r.next());
            })));
    bus.<JsonObject>consumer(Addresses.API_DELETE, msg -> Replies.handle(msg,
        req -> client.delete(req.getString("path"))
            .map(v -> new JsonObject().put("path", req.getString("path")).put("deleted", true))));
    bus.<JsonObject>consumer(Addresses.API_READ, this::read);
    bus.<Buffer>consumer(Addresses.API_WRITE, this::write);
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    return client.close();
  }

  private void read(Message<JsonObject> msg) {
    String path = msg.body() == null ? null : msg.body().getString("path");
    client.stat(path).compose(f -> {
      if (f.size() > limit) {
        return Future.failedFuture(tooLarge(f.size()));
      }
      return client.readAll(path).map(content -> {
        msg.reply(content, new DeliveryOptions().addHeader("path", f.path())
            .addHeader("size", String.valueOf(f.size())).addHeader("etag", f.etag()));
        return null;
      });
    }).onFailure(t -> Replies.fail(msg, t));
  }

  private void write(Message<Buffer> msg) {
    String path = msg.headers().get("path");
    Buffer body = msg.body();
    if (body == null) {
      Replies.fail(msg, new VgfsException(ErrorCode.BAD_REQUEST, "the body must be a Buffer"));
      return;
    }
    if (body.length() > limit) {
      Replies.fail(msg, tooLarge(body.length()));
      return;
    }
    client.write(path, body).onSuccess(f -> msg.reply(f.summaryJson()))
        .onFailure(t -> Replies.fail(msg, t));
  }

  private VgfsException tooLarge(long size) {
    return new VgfsException(ErrorCode.TOO_LARGE, "the file has " + size
        + " bytes; the event-bus API carries files up to " + limit
        + " bytes: stream larger ones with io.vgfs.client.VgfsClient or the HTTP gateway");
  }
}
