package io.vgfs.launcher;

import java.math.BigDecimal;
import java.util.Locale;

/**
 * Byte sizes and durations as people write them: {@code 65536}, {@code 64KiB}, {@code 1MiB},
 * {@code 1.5GiB}, {@code 64MB} (decimal), {@code 64m} (binary, as in {@code -Xmx}); {@code 500ms},
 * {@code 3s}, {@code 10m}, {@code 24h}, {@code 7d} (a bare number of a duration is milliseconds).
 */
public final class Sizes {

  private Sizes() {
  }

  public static long parseBytes(String text) {
    String s = text.trim();
    int i = unitStart(s);
    String num = s.substring(0, i).trim();
    String unit = s.substring(i).trim().toLowerCase(Locale.ROOT);
    long mult = switch (unit) {
      case "", "b" -> 1L;
      case "k", "kib" -> 1L << 10;
      case "m", "mib" -> 1L << 20;
      case "g", "gib" -> 1L << 30;
      case "t", "tib" -> 1L << 40;
      case "kb" -> 1_000L;
      case "mb" -> 1_000_000L;
      case "gb" -> 1_000_000_000L;
      case "tb" -> 1_000_000_000_000L;
      default -> throw new IllegalArgumentException("unknown size unit '" + unit + "' in '" + text
          + "' (use B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)");
    };
    return scale(num, mult, text);
  }

  public static long parseMillis(String text) {
    String s = text.trim();
    int i = unitStart(s);
    String num = s.substring(0, i).trim();
    String unit = s.substring(i).trim().toLowerCase(Locale.ROOT);
    long mult = switch (unit) {
      case "", "ms" -> 1L;
      case "s" -> 1_000L;
      case "m", "min" -> 60_000L;
      case "h" -> 3_600_000L;
      case "d" -> 86_400_000L;
      default -> throw new IllegalArgumentException("unknown duration unit '" + unit + "' in '"
          + text + "' (use ms, s, m, h or d)");
    };
    return scale(num, mult, text);
  }

  /** Formats a size the way it is most likely written: {@code 64MiB}, {@code 1000B}. */
  public static String format(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    long v = bytes;
    while (u < units.length - 1 && v != 0 && v % 1024 == 0) {
      v /= 1024;
      u++;
    }
    return v + units[u];
  }

  private static int unitStart(String s) {
    int i = 0;
    while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
      i++;
    }
    return i;
  }

  private static long scale(String num, long mult, String text) {
    if (num.isEmpty()) {
      throw new IllegalArgumentException("'" + text + "' does not start with a number");
    }
    try {
      BigDecimal v = new BigDecimal(num).multiply(BigDecimal.valueOf(mult));
      if (v.signum() < 0 || v.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
        throw new IllegalArgumentException("'" + text + "' is out of range");
      }
      return v.setScale(0, java.math.RoundingMode.HALF_UP).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("'" + text + "' is not a number with a unit");
    }
  }
}
