package io.vgfs.gateway;

/**
 * A single HTTP byte range ({@code Range: bytes=a-b}, {@code a-}, {@code -n}) resolved against a
 * file size. Pure logic.
 *
 * @param first first byte, inclusive
 * @param last  last byte, inclusive
 */
public record ByteRange(long first, long last) {

  /** What a Range header asks for. */
  public sealed interface Request permits Whole, Range, Unsatisfiable {
  }

  /** No usable Range header: serve the whole file (RFC 9110: ignore what cannot be parsed). */
  public record Whole() implements Request {
  }

  /** Serve this range with 206. */
  public record Range(ByteRange range) implements Request {
  }

  /** Answer 416. */
  public record Unsatisfiable() implements Request {
  }

  public long length() {
    return last - first + 1;
  }

  /** The {@code Content-Range} value for a file of {@code size} bytes. */
  public String contentRange(long size) {
    return "bytes " + first + "-" + last + "/" + size;
  }

  /**
   * Resolves a {@code Range} header. Only single ranges are served; several ranges, other units
   * and malformed headers are ignored (the whole file is sent), as the RFC allows.
   */
  public static Request parse(String header, long size) {
    if (header == null) {
      return new Whole();
    }
    String h = header.trim();
    if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
      return new Whole();
    }
    String spec = h.substring(6).trim();
    if (spec.contains(",")) {
      return new Whole();
    }
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return new Whole();
    }
    String a = spec.substring(0, dash).trim();
    String b = spec.substring(dash + 1).trim();
    if (!a.chars().allMatch(Character::isDigit) || !b.chars().allMatch(Character::isDigit)
        || !(a + b).chars().allMatch(c -> c < 128)) {
      return new Whole();
    }
    if (b.length() > 18) {
      b = String.valueOf(Long.MAX_VALUE); // a last byte beyond any file: clipped to the end below
    }
    try {
      if (a.isEmpty()) {
        if (b.isEmpty()) {
          return new Whole();
        }
        long n = Long.parseLong(b);
        if (n < 0) {
          return new Whole();
        }
        if (n == 0 || size == 0) {
          return new Unsatisfiable();
        }
        return new Range(new ByteRange(Math.max(0, size - n), size - 1));
      }
      long first = Long.parseLong(a);
      long last = b.isEmpty() ? Long.MAX_VALUE : Long.parseLong(b);
      if (first < 0 || last < first) {
        return new Whole();
      }
      if (first >= size) {
        return new Unsatisfiable();
      }
      return new Range(new ByteRange(first, Math.min(last, size - 1)));
    } catch (NumberFormatException e) {
      return new Whole();
    }
  }
}
