package io.vgfs.gateway;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.VgfsException;

import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Token authentication of the HTTP API: every request but {@code GET /health} and the web page
 * ({@link WebPage}, which holds no data) must carry
 * {@code Authorization: Bearer <token>} with one of the configured tokens, or it is answered
 * {@code 401 {"error": "UNAUTHORIZED", ...}} before anything else looks at it. With no tokens
 * configured every request passes (a single-host or firewalled deployment).
 *
 * <p>Tokens are compared as SHA-256 digests with {@link MessageDigest#isEqual}, whose time does
 * not depend on where two digests differ, so response times do not leak a token byte by byte.
 */
final class BearerAuth implements Handler<RoutingContext> {

  private static final String PREFIX = "Bearer ";

  private final List<byte[]> digests;

  BearerAuth(List<String> tokens) {
    this.digests = tokens.stream().map(BearerAuth::digest).toList();
  }

  /** Whether any token is configured, that is, whether requests are checked at all. */
  boolean enabled() {
    return !digests.isEmpty();
  }

  @Override
  public void handle(RoutingContext ctx) {
    String path = ctx.request().path();
    if (!enabled() || "/health".equals(path) || WebPage.isPublic(path)) {
      ctx.next();
      return;
    }
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (header != null && header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())
        && accepted(header.substring(PREFIX.length()).trim())) {
      ctx.next();
      return;
    }
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"vgfs\"");
    // An upload's body may be on its way: refused the way that lets its client read the answer.
    HttpErrors.refuseUpload(ctx, new VgfsException(ErrorCode.UNAUTHORIZED, header == null
        ? "this gateway needs a token: send Authorization: Bearer <token>"
        : "the token is not one this gateway accepts"));
  }

  /** Logs a warning when no token is needed and the API listens beyond loopback. */
  void warnIfOpen(String host, int port) {
    boolean loopback = host == null || host.equals("localhost") || host.startsWith("127.")
        || host.equals("::1");
    if (!enabled() && !loopback) {
      LoggerFactory.getLogger(BearerAuth.class).warn("the HTTP API on {}:{} accepts requests from "
          + "anyone who reaches it; set --auth-tokens (or VGFS_AUTH_TOKENS) to require a token",
          host, port);
    }
  }

  private boolean accepted(String token) {
    byte[] d = digest(token);
    boolean ok = false;
    for (byte[] t : digests) {
      ok |= MessageDigest.isEqual(t, d); // every token compared, whichever matches
    }
    return ok;
  }

  private static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
