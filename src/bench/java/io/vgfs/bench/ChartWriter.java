package io.vgfs.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code chart.png}: bar charts of the medians, vgfs (client and HTTP) next to HDFS, one panel
 * per unit (large-file MB/s, small-file files/s per size, stat and list ops/s, vgfs memory),
 * drawn by XChart without a display ({@code -Djava.awt.headless=true}). A bar of 0 is a figure
 * that was not measured (or failed).
 */
final class ChartWriter {

  private static final int W = 640;
  private static final int H = 420;
  private static final List<String[]> SERIES = List.of(
      new String[] {"vgfs-client", "vgfs (VgfsClient)"},
      new String[] {"vgfs-http", "vgfs (HTTP gateway)"},
      new String[] {"hdfs", "HDFS (MiniDFSCluster)"});

  private final BenchConfig config;
  private final Results results;

  ChartWriter(BenchConfig config, Results results) {
    this.config = config;
    this.results = results;
  }

  void write(Path file) throws IOException {
    List<CategoryChart> panels = new ArrayList<>();
    panels.add(panel("Large file (" + io.vgfs.launcher.Sizes.format(config.largeFile()) + ")",
        "MB/s", List.of("large-write", "large-read"), List.of("write", "read")));
    for (long s : config.smallSizes()) {
      String l = io.vgfs.launcher.Sizes.format(s);
      panels.add(panel("Small files " + l + ", " + config.concurrency() + " clients", "files/s",
          List.of("small-" + l + "-write", "small-" + l + "-read"), List.of("write", "read")));
    }
    panels.add(panel("stat, " + config.concurrency() + " clients", "ops/s",
        List.of("meta-stat"), List.of("stat")));
    panels.add(panel("list (pages of " + config.listLimit() + ")", "pages/s",
        List.of("meta-list"), List.of("list")));
    panels.add(memoryPanel());
    int cols = 3;
    int rows = (panels.size() + cols - 1) / cols;
    BufferedImage image = new BufferedImage(cols * W, rows * H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, image.getWidth(), image.getHeight());
    for (int i = 0; i < panels.size(); i++) {
      g.drawImage(BitmapEncoder.getBufferedImage(panels.get(i)), (i % cols) * W, (i / cols) * H,
          null);
    }
    g.dispose();
    ImageIO.write(image, "png", file.toFile());
  }

  private CategoryChart chart(String title, String unit) {
    CategoryChart c = new CategoryChartBuilder().width(W).height(H).title(title).yAxisTitle(unit)
        .build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    c.getStyler().setYAxisDecimalPattern("#,###");
    c.getStyler().setDecimalPattern("#,###");
    c.getStyler().setLabelsVisible(true);
    c.getStyler().setAvailableSpaceFill(0.8);
    return c;
  }

  /** Categories "write sync", "read sync", "write buffered", ...; one series per target. */
  private CategoryChart panel(String title, String unit, List<String> workloads,
                              List<String> labels) {
    CategoryChart c = chart(title, unit);
    List<String> categories = new ArrayList<>();
    List<String[]> cells = new ArrayList<>(); // {level, workload} per category, measured ones only
    for (String level : config.levels()) {
      for (int i = 0; i < workloads.size(); i++) {
        String w = workloads.get(i);
        boolean measured = SERIES.stream().anyMatch(s -> results.get(w, level, s[0]) != null);
        if (measured) {
          categories.add(labels.get(i) + " " + level);
          cells.add(new String[] {level, w});
        }
      }
    }
    if (categories.isEmpty()) {
      c.addSeries("not measured", List.of("-"), List.of(0.0));
      return c;
    }
    for (String[] s : SERIES) {
      List<Double> y = new ArrayList<>();
      boolean any = false;
      for (String[] cell : cells) {
        Results.Series r = results.get(cell[1], cell[0], s[0]);
        any |= r != null;
        y.add(r == null || r.values.isEmpty() ? 0.0 : Math.round(r.median() * 10) / 10.0);
      }
      if (any) {
        c.addSeries(s[1], categories, y);
      }
    }
    return c;
  }

  private CategoryChart memoryPanel() {
    CategoryChart c = chart("vgfs memory, " + config.memoryClients() + " streams of "
        + io.vgfs.launcher.Sizes.format(config.memoryStreamSize()), "MiB (peak)");
    List<String> categories = List.of("gateway RSS", "gateway heap", "chunkserver RSS",
        "chunkserver heap");
    List<String> names = List.of("memory-gateway-rss", "memory-gateway-heap",
        "memory-chunkserver-rss", "memory-chunkserver-heap");
    for (String level : config.levels()) {
      List<Double> y = new ArrayList<>();
      boolean any = false;
      for (String n : names) {
        Results.Series r = results.get(n, level, "vgfs-http");
        any |= r != null;
        y.add(r == null || r.values.isEmpty() ? 0.0 : Math.round(r.median() * 10) / 10.0);
      }
      if (any) {
        c.addSeries("vgfs " + level, categories, y);
      }
    }
    if (c.getSeriesMap().isEmpty()) {
      c.addSeries("not measured", categories, List.of(0.0, 0.0, 0.0, 0.0));
    }
    return c;
  }
}
