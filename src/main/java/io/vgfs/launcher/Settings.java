package io.vgfs.launcher;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/**
 * Resolved settings of one process: for each {@link Setting}, the flag if given, else the
 * environment variable, else the config file's key, else the default.
 */
public final class Settings {

  private final Map<Setting, String> flags;
  private final Map<String, String> env;
  private final JsonObject file;

  public Settings(Map<Setting, String> flags, Map<String, String> env, JsonObject file) {
    this.flags = new EnumMap<>(Setting.class);
    this.flags.putAll(flags);
    this.env = env;
    this.file = file == null ? new JsonObject() : file;
  }

  /** Reads the config file named by {@code --conf} or {@code VGFS_CONF}, if any. */
  public static Settings load(Map<Setting, String> flags, String confFlag, Map<String, String> env) {
    String conf = confFlag != null ? confFlag : env.get("VGFS_CONF");
    JsonObject file = new JsonObject();
    if (conf != null && !conf.isBlank()) {
      try {
        file = new JsonObject(Files.readString(Path.of(conf)));
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read config file " + conf + ": " + e.getMessage());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("config file " + conf + " is not a JSON object: "
            + e.getMessage());
      }
      for (String key : file.fieldNames()) {
        boolean known = false;
        for (Setting s : Setting.values()) {
          known |= s.key().equals(key);
        }
        if (!known) {
          throw new IllegalArgumentException("config file " + conf + ": unknown key '" + key + "'");
        }
      }
    }
    return new Settings(flags, env, file);
  }

  /** The value, as a string (empty when unset and without default). */
  public String get(Setting s) {
    String v = flags.get(s);
    if (v == null) {
      v = env.get(s.env());
    }
    if (v == null && file.containsKey(s.key())) {
      v = String.valueOf(file.getValue(s.key()));
    }
    return v == null ? s.defaultValue() : v;
  }

  /** Whether the value was given anywhere rather than defaulted. */
  public boolean isSet(Setting s) {
    return flags.get(s) != null || env.get(s.env()) != null || file.containsKey(s.key());
  }

  public String string(Setting s) {
    String v = get(s);
    return v == null || v.isBlank() ? null : v.trim();
  }

  public int integer(Setting s) {
    try {
      return Integer.parseInt(get(s).trim());
    } catch (NumberFormatException e) {
      throw invalid(s, "a whole number");
    }
  }

  public boolean bool(Setting s) {
    String v = get(s).trim().toLowerCase(java.util.Locale.ROOT);
    return switch (v) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> throw invalid(s, "true or false");
    };
  }

  public long bytes(Setting s) {
    try {
      return Sizes.parseBytes(get(s));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--" + s.flag() + ": " + e.getMessage());
    }
  }

  public long millis(Setting s) {
    try {
      return Sizes.parseMillis(get(s));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--" + s.flag() + ": " + e.getMessage());
    }
  }

  public Path path(Setting s) {
    return Path.of(get(s));
  }

  private IllegalArgumentException invalid(Setting s, String what) {
    return new IllegalArgumentException("--" + s.flag() + " must be " + what + ", got '" + get(s)
        + "'");
  }
}
