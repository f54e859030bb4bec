package io.vgfs.bench;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** What the run ran on: cores, memory, JDK, kernel, the disk under the results and its space. */
final class MachineInfo {

  private MachineInfo() {
  }

  static JsonObject describe(Path dir) {
    JsonObject m = new JsonObject()
        .put("date", Instant.now().toString())
        .put("cores", Runtime.getRuntime().availableProcessors())
        .put("cpu", firstValue("/proc/cpuinfo", "model name"))
        .put("memTotalMiB", kbField("/proc/meminfo", "MemTotal") / 1024)
        .put("memAvailableMiB", kbField("/proc/meminfo", "MemAvailable") / 1024)
        .put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
            + " (" + System.getProperty("java.vendor") + ")")
        .put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"))
        .put("kernel", read("/proc/sys/kernel/osrelease"))
        .put("loadAverage", read("/proc/loadavg"))
        .put("benchJvmArgs", String.join(" ",
            java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()));
    try {
      FileStore store = Files.getFileStore(dir);
      m.put("disk", new JsonObject().put("path", dir.toString()).put("store", store.name())
          .put("type", store.type()).put("totalGiB", store.getTotalSpace() >> 30)
          .put("freeGiB", store.getUsableSpace() >> 30));
    } catch (IOException e) {
      m.put("disk", new JsonObject().put("error", e.toString()));
    }
    return m;
  }

  /** The commit the jar was built from, {@code +dirty} when src/main has uncommitted changes. */
  static String gitCommit() {
    try {
      String head = run("git", "rev-parse", "--short", "HEAD");
      String dirty = run("git", "status", "--porcelain", "src/main");
      return head == null ? null : head + (dirty == null || dirty.isEmpty() ? "" : "+dirty");
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static String run(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      return p.waitFor() == 0 ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  static String read(String file) {
    try {
      return Files.readString(Path.of(file)).trim();
    } catch (IOException e) {
      return null;
    }
  }

  private static String firstValue(String file, String key) {
    try {
      for (String line : Files.readAllLines(Path.of(file))) {
        if (line.startsWith(key)) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return null;
  }

  private static long kbField(String file, String key) {
    String v = firstValue(file, key);
    return v == null ? -1 : Long.parseLong(v.split("\\s+")[0]);
  }
}
