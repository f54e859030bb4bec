package io.vgfs.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * What a vgfs path may be. A path is a sequence of segments joined by {@code /}, stored without a
 * leading slash ({@code "logs/2024/app.log"}). Segments are non-empty, never {@code .} or
 * {@code ..}, and hold no control characters; a path has at most {@value #MAX_PATH_BYTES} UTF-8
 * bytes and a segment at most {@value #MAX_SEGMENT_BYTES}.
 */
public final class PathRules {

  public static final int MAX_PATH_BYTES = 1024;
  public static final int MAX_SEGMENT_BYTES = 255;

  private PathRules() {
  }

  /**
   * Returns the canonical form of a file path (one leading slash is accepted and dropped) or
   * throws {@link VgfsException} with {@link ErrorCode#INVALID_PATH} saying what is wrong.
   */
  public static String file(String path) {
    if (path == null) {
      throw invalid("a path is required");
    }
    String p = path.startsWith("/") ? path.substring(1) : path;
    if (p.isEmpty()) {
      throw invalid("the path is empty");
    }
    if (p.endsWith("/")) {
      throw invalid("a file path must not end with '/': " + quote(path));
    }
    checkSegments(p, path);
    return p;
  }

  /**
   * Returns the canonical form of a listing prefix: empty (everything), or a string that files'
   * paths start with. A prefix ending in {@code /} names a directory; its segments follow the
   * same rules as a path's, except that the last one may be partial.
   */
  public static String prefix(String prefix) {
    if (prefix == null) {
      return "";
    }
    String p = prefix.startsWith("/") ? prefix.substring(1) : prefix;
    if (p.isEmpty()) {
      return "";
    }
    String body = p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    if (body.isEmpty()) {
      throw invalid("a prefix must not be '//'");
    }
    checkSegments(body, prefix);
    return p;
  }

  /**
   * Decodes a percent-encoded URL path (as received over HTTP) into a string, refusing bytes that
   * are not valid UTF-8 and malformed escapes. {@code +} stays a plus sign.
   */
  public static String urlDecode(String raw) {
    if (raw.indexOf('%') < 0) {
      return raw;
    }
    byte[] out = new byte[raw.length() * 3];
    int n = 0;
    for (int i = 0; i < raw.length(); ) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()) {
          throw invalid("malformed percent escape in " + quote(raw));
        }
        int hi = hexDigit(raw.charAt(i + 1));
        int lo = hexDigit(raw.charAt(i + 2));
        if (hi < 0 || lo < 0) {
          throw invalid("malformed percent escape in " + quote(raw));
        }
        out[n++] = (byte) (hi << 4 | lo);
        i += 3;
      } else {
        byte[] enc = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        if (Character.isHighSurrogate(c) && i + 1 < raw.length()) {
          enc = raw.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
          i++;
        }
        System.arraycopy(enc, 0, out, n, enc.length);
        n += enc.length;
        i++;
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(out, 0, n)).toString();
    } catch (CharacterCodingException e) {
      throw invalid("the path is not valid UTF-8");
    }
  }

  // ASCII only: Character.digit would also take Arabic-Indic or fullwidth digits.
  private static int hexDigit(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  private static void checkSegments(String p, String original) {
    if (p.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
      throw invalid("the path is longer than " + MAX_PATH_BYTES + " bytes");
    }
    int start = 0;
    while (start <= p.length()) {
      int end = p.indexOf('/', start);
      if (end < 0) {
        end = p.length();
      }
      String seg = p.substring(start, end);
      if (seg.isEmpty()) {
        throw invalid("empty segment ('//') in " + quote(original));
      }
      if (seg.equals(".") || seg.equals("..")) {
        throw invalid("'" + seg + "' segments are not allowed: " + quote(original));
      }
      if (seg.getBytes(StandardCharsets.UTF_8).length > MAX_SEGMENT_BYTES) {
        throw invalid("a segment is longer than " + MAX_SEGMENT_BYTES + " bytes");
      }
      for (int i = 0; i < seg.length(); i++) {
        char c = seg.charAt(i);
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
          throw invalid("control characters are not allowed in paths");
        }
        if (Character.isSurrogate(c)) {
          boolean paired = Character.isHighSurrogate(c) && i + 1 < seg.length()
              && Character.isLowSurrogate(seg.charAt(i + 1));
          if (!paired) {
            throw invalid("the path is not valid UTF-16/UTF-8");
          }
          i++;
        }
      }
      start = end + 1;
    }
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      b.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
    }
    return b.append('"').toString();
  }

  private static VgfsException invalid(String message) {
    return new VgfsException(ErrorCode.INVALID_PATH, message);
  }
}
