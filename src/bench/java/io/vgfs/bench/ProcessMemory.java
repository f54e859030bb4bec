package io.vgfs.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The memory of another process while a workload runs: resident set size from
 * {@code /proc/PID/status} (VmRSS sampled, VmHWM as the kernel's own peak, reset beforehand
 * through {@code /proc/PID/clear_refs}) and Java heap in use from {@code jstat -gc PID 200}
 * (S0U + S1U + EU + OU: young and old generations, as the JVM reports them).
 */
final class ProcessMemory implements AutoCloseable {

  private final long pid;
  private final boolean peakReset;
  private final Process jstat;
  private final Thread jstatReader;
  private final Thread rssSampler;
  private volatile boolean running = true;
  private volatile long maxRssKb;
  private volatile long maxHeapUsedKb = -1;
  private volatile long maxHeapCommittedKb = -1;

  ProcessMemory(long pid) throws IOException {
    this.pid = pid;
    this.peakReset = resetPeak(pid);
    Path jstatBin = Path.of(System.getProperty("java.home"), "bin", "jstat");
    jstat = new ProcessBuilder(jstatBin.toString(), "-gc", String.valueOf(pid), "200")
        .redirectErrorStream(true).start();
    jstatReader = new Thread(this::readJstat, "bench-jstat-" + pid);
    jstatReader.setDaemon(true);
    jstatReader.start();
    rssSampler = new Thread(this::sampleRss, "bench-rss-" + pid);
    rssSampler.setDaemon(true);
    rssSampler.start();
  }

  /** Resets VmHWM to the current RSS (Linux 4.0+; our own child processes). */
  static boolean resetPeak(long pid) {
    try {
      Files.writeString(Path.of("/proc/" + pid + "/clear_refs"), "5");
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** A field of {@code /proc/PID/status} in KiB ({@code VmRSS}, {@code VmHWM}), or -1. */
  static long statusKb(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // the process is gone
    }
    return -1;
  }

  private void sampleRss() {
    while (running) {
      maxRssKb = Math.max(maxRssKb, statusKb(pid, "VmRSS"));
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void readJstat() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(jstat.getInputStream(),
        StandardCharsets.US_ASCII))) {
      List<String> header = null;
      String line;
      while ((line = in.readLine()) != null) {
        String[] cols = line.trim().split("\\s+");
        if (cols.length > 0 && cols[0].equals("S0C")) {
          header = Arrays.asList(cols);
          continue;
        }
        if (header == null || cols.length != header.size()) {
          continue;
        }
        try {
          double used = sum(header, cols, "S0U", "S1U", "EU", "OU");
          double committed = sum(header, cols, "S0C", "S1C", "EC", "OC");
          maxHeapUsedKb = Math.max(maxHeapUsedKb, (long) used);
          maxHeapCommittedKb = Math.max(maxHeapCommittedKb, (long) committed);
        } catch (NumberFormatException e) {
          // a line that is not a sample
        }
      }
    } catch (IOException e) {
      // jstat ended
    }
  }

  private static double sum(List<String> header, String[] cols, String... names) {
    double s = 0;
    for (String n : names) {
      s += Double.parseDouble(cols[header.indexOf(n)]);
    }
    return s;
  }

  /** The peak RSS in MiB: the kernel's VmHWM when it could be reset, else the sampled peak. */
  double peakRssMiB() {
    long hwm = statusKb(pid, "VmHWM");
    long kb = peakReset && hwm > 0 ? Math.max(hwm, maxRssKb) : maxRssKb;
    return kb / 1024.0;
  }

  double peakHeapUsedMiB() {
    return maxHeapUsedKb < 0 ? Double.NaN : maxHeapUsedKb / 1024.0;
  }

  double peakHeapCommittedMiB() {
    return maxHeapCommittedKb < 0 ? Double.NaN : maxHeapCommittedKb / 1024.0;
  }

  boolean peakFromKernel() {
    return peakReset;
  }

  @Override
  public void close() {
    running = false;
    rssSampler.interrupt();
    jstat.destroy();
    try {
      jstat.waitFor(5, TimeUnit.SECONDS);
      jstatReader.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (jstat.isAlive()) {
      jstat.destroyForcibly();
    }
  }
}
