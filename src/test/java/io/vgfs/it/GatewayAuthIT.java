package io.vgfs.it;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vgfs.launcher.Setting;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;

import static io.vgfs.it.TestSupport.await;
import static io.vgfs.it.TestSupport.http;
import static io.vgfs.it.TestSupport.randomBytes;
import static io.vgfs.it.TestSupport.sha256;
import static org.assertj.core.api.Assertions.assertThat;

/** The gateway with {@code --auth-tokens}: a request without an accepted token changes nothing. */
class GatewayAuthIT {

  @TempDir
  static Path dir;
  static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dir, 3, Map.of(Setting.CHUNK_SIZE, "64KiB",
        Setting.AUTH_TOKENS, " first-token , second-token,"));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static void assertUnauthorized(HttpResponse<byte[]> r) {
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"vgfs\"");
    JsonObject body = new JsonObject(Buffer.buffer(r.body()));
    assertThat(body.getString("error")).isEqualTo("UNAUTHORIZED");
    assertThat(body.getString("message")).isNotBlank();
  }

  @Test
  @DisplayName("uploads without a token or with a wrong one get a 401 and store nothing")
  void refused() {
    byte[] data = randomBytes(200_000, 41); // several chunks: the body is still arriving
    String url = cluster.url("/api/v1/files/auth/refused.bin");
    assertUnauthorized(http("PUT", url, data));
    assertUnauthorized(http("PUT", url, data, "Authorization", "Bearer third-token"));
    assertUnauthorized(http("PUT", url, data, "Authorization", "Basic Zmlyc3QtdG9rZW4="));
    assertUnauthorized(http("PUT", url, data, "Authorization", "Bearer first-token-and-more"));
    assertThat(http("GET", url, null, "Authorization", "Bearer first-token").statusCode())
        .isEqualTo(404);
    assertThat(await(cluster.client().list("auth/")).files()).isEmpty();
  }

  @Test
  @DisplayName("every configured token is accepted; reads, lists and deletes need one as well")
  void accepted() {
    byte[] data = randomBytes(150_000, 42);
    String url = cluster.url("/api/v1/files/auth/ok.bin");
    HttpResponse<byte[]> put = http("PUT", url, data, "Authorization", "Bearer first-token");
    assertThat(put.statusCode()).isEqualTo(201);

    assertUnauthorized(http("GET", url, null));
    assertUnauthorized(http("GET", cluster.url("/api/v1/files?prefix=auth/"), null));
    assertUnauthorized(http("DELETE", url, null, "Authorization", "Bearer nope"));
    assertUnauthorized(http("GET", cluster.url("/api/v1/cluster"), null));

    HttpResponse<byte[]> get = http("GET", url, null, "authorization", "bearer second-token");
    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(sha256(get.body())).isEqualTo(sha256(data));
    // The clustered event bus is the trust boundary of Vert.x clients: no token there.
    assertThat(sha256(await(cluster.client().readAll("auth/ok.bin")).getBytes()))
        .isEqualTo(sha256(data));

    assertThat(http("DELETE", url, null, "Authorization", "Bearer second-token").statusCode())
        .isEqualTo(204);
    assertThat(http("GET", url, null, "Authorization", "Bearer first-token").statusCode())
        .isEqualTo(404);
  }

  @Test
  @DisplayName("the web page and its script are served without a token; they hold no data")
  void webPage() {
    HttpResponse<byte[]> page = http("GET", cluster.url("/"), null);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(
        t -> assertThat(t).startsWith("text/html"));
    assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(
        t -> assertThat(t).contains("default-src 'self'"));
    assertThat(new String(page.body(), java.nio.charset.StandardCharsets.UTF_8))
        .contains("<title>vgfs</title>", "src=\"/ui/app.js\"");
    HttpResponse<byte[]> script = http("GET", cluster.url("/ui/app.js"), null);
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.headers().firstValue("Content-Type")).hasValueSatisfying(
        t -> assertThat(t).startsWith("text/javascript"));
    assertThat(new String(script.body(), java.nio.charset.StandardCharsets.UTF_8))
        .contains("/api/v1/files", "Authorization");
    assertUnauthorized(http("GET", cluster.url("/ui/other.js"), null));
  }

  @Test
  @DisplayName("GET /health answers without a token, for load balancers and orchestrators")
  void health() {
    assertThat(http("GET", cluster.url("/health"), null).statusCode()).isEqualTo(200);
  }
}
