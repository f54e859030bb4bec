package io.vgfs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/** Progress lines: on the console (Maven shows them) and in {@code bench.log}. */
final class BenchLog {

  // LocalTime.toString() drops the seconds when they are zero ("14:20"): keep lines aligned.
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");
  private static Path file;

  private BenchLog() {
  }

  static synchronized void to(Path logFile) {
    file = logFile;
  }

  static synchronized void info(String format, Object... args) {
    String line = "[bench " + TIME.format(LocalTime.now()) + "] "
        + String.format(java.util.Locale.ROOT, format, args);
    System.out.println(line);
    if (file != null) {
      try {
        Files.writeString(file, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        // the console line is enough
      }
    }
  }
}
