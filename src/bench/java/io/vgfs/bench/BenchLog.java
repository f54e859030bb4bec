package io.vgfs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;

/** Progress lines: on the console (Maven shows them) and in {@code bench.log}. */
final class BenchLog {

  private static Path file;

  private BenchLog() {
  }

  static synchronized void to(Path logFile) {
    file = logFile;
  }

  static synchronized void info(String format, Object... args) {
    String line = "[bench " + LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + "] "
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
