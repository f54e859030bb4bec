package io.vgfs.launcher;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.FileAppender;
import org.slf4j.LoggerFactory;

/** Adds a per-role file appender when {@code --log-file} is set; the console stays as configured. */
final class Logging {

  private Logging() {
  }

  static void configure(String logFile, String role) {
    System.setProperty("vgfs.role", role);
    if (logFile == null) {
      return;
    }
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(ctx);
    encoder.setPattern("%d{ISO8601} %-5level [" + role + "] [%thread] %logger{36} - %msg%n");
    encoder.start();
    FileAppender<ch.qos.logback.classic.spi.ILoggingEvent> file = new FileAppender<>();
    file.setContext(ctx);
    file.setName("file");
    file.setFile(logFile);
    file.setEncoder(encoder);
    file.start();
    ctx.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(file);
  }
}
