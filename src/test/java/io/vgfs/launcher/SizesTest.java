package io.vgfs.launcher;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link Sizes}, plus the other small launcher helpers: {@link Settings}, {@link Cluster#joinMembers}. */
class SizesTest {

  @Nested
  @DisplayName("Sizes.parseBytes")
  class Bytes {

    @ParameterizedTest(name = "\"{0}\" = {1}")
    @CsvSource(delimiter = '|', value = {
        "65536|65536",
        "0|0",
        "1B|1",
        "64KiB|65536",
        "1MiB|1048576",
        "64MiB|67108864",
        "1.5GiB|1610612736",
        "1TiB|1099511627776",
        "64MB|64000000",
        "64KB|64000",
        "2GB|2000000000",
        "1TB|1000000000000",
        "64m|67108864",
        "64k|65536",
        "2g|2147483648",
        "1 KiB|1024",
        "'  8 MiB  '|8388608",
        "64kib|65536",
        "64KIB|65536",
        "64mIb|67108864",
        "64Mb|64000000",
        "64M|67108864",
        "0.5KiB|512"
    })
    @DisplayName("numbers with binary and decimal units, any case, optional space")
    void parses(String text, long bytes) {
      assertThat(Sizes.parseBytes(text)).isEqualTo(bytes);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "   ", "abc", "12XB", "-5", "KiB", "1.2.3MiB", "12 K iB", "5 bytes",
        "1e3", "99999999999TiB"})
    @DisplayName("garbage, unknown units, negative and overflowing sizes are rejected")
    void rejects(String text) {
      assertThatThrownBy(() -> Sizes.parseBytes(text)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'");
    }

    @Test
    @DisplayName("an unknown unit is named in the message")
    void unknownUnitMessage() {
      assertThatThrownBy(() -> Sizes.parseBytes("12XB")).hasMessageContaining("xb")
          .hasMessageContaining("12XB");
    }
  }

  @Nested
  @DisplayName("Sizes.parseMillis")
  class Millis {

    @ParameterizedTest(name = "\"{0}\" = {1} ms")
    @CsvSource(delimiter = '|', value = {
        "500ms|500",
        "3s|3000",
        "10m|600000",
        "10min|600000",
        "24h|86400000",
        "7d|604800000",
        "250|250",
        "0|0",
        "1.5s|1500",
        "3 S|3000",
        "2H|7200000",
        "100 MS|100"
    })
    @DisplayName("durations with units; a bare number is milliseconds")
    void parses(String text, long ms) {
      assertThat(Sizes.parseMillis(text)).isEqualTo(ms);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "abc", "5w", "-5s", "s", "3 sec"})
    @DisplayName("garbage, unknown units and negative durations are rejected")
    void rejects(String text) {
      assertThatThrownBy(() -> Sizes.parseMillis(text))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  @DisplayName("format picks the largest whole binary unit and parses back to the same value")
  void format() {
    assertThat(Sizes.format(0)).isEqualTo("0B");
    assertThat(Sizes.format(1000)).isEqualTo("1000B");
    assertThat(Sizes.format(1024)).isEqualTo("1KiB");
    assertThat(Sizes.format(1536)).isEqualTo("1536B");
    assertThat(Sizes.format(65536)).isEqualTo("64KiB");
    assertThat(Sizes.format(64L << 20)).isEqualTo("64MiB");
    assertThat(Sizes.format(3L << 30)).isEqualTo("3GiB");
    assertThat(Sizes.format(1L << 40)).isEqualTo("1TiB");
    assertThat(Sizes.format(1L << 50)).isEqualTo("1024TiB");
    assertThat(Sizes.format(1025L << 20)).isEqualTo("1025MiB");
    for (long v : new long[] {0, 1, 1000, 4096, 5L << 20, 1L << 30, 7L << 40, 123_456_789}) {
      assertThat(Sizes.parseBytes(Sizes.format(v))).as("round trip of %d", v).isEqualTo(v);
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("Settings")
  class SettingsPrecedence {

    private Map<Setting, String> flags(Setting s, String v) {
      Map<Setting, String> m = new EnumMap<>(Setting.class);
      m.put(s, v);
      return m;
    }

    @Test
    @DisplayName("flag > environment > file > default")
    void precedence() {
      Setting s = Setting.HTTP_PORT;
      Map<String, String> env = Map.of(s.env(), "9001");
      JsonObject file = new JsonObject().put(s.key(), 9002);

      assertThat(new Settings(flags(s, "9000"), env, file).get(s)).isEqualTo("9000");
      assertThat(new Settings(Map.of(), env, file).get(s)).isEqualTo("9001");
      assertThat(new Settings(Map.of(), Map.of(), file).get(s)).isEqualTo("9002");
      assertThat(new Settings(Map.of(), Map.of(), new JsonObject()).get(s)).isEqualTo("8080");
      assertThat(new Settings(Map.of(), Map.of(), null).get(s)).isEqualTo("8080");
      assertThat(new Settings(flags(s, "9000"), Map.of(), file).integer(s)).isEqualTo(9000);
      assertThat(new Settings(Map.of(), Map.of(), file).integer(s)).isEqualTo(9002);
    }

    @Test
    @DisplayName("the chunkserver's buffered-sync interval comes from its setting, 200 ms by default")
    void bufferedSync() {
      Path dir = Path.of("data");
      assertThat(Roles.chunkServerOptions(new Settings(Map.of(), Map.of(), null), dir, 0)
          .bufferedSyncMs()).isEqualTo(200);
      assertThat(Roles.chunkServerOptions(new Settings(flags(Setting.BUFFERED_SYNC, "1s"),
          Map.of(), null), dir, 0).bufferedSyncMs()).isEqualTo(1000);
      assertThat(Roles.chunkServerOptions(new Settings(Map.of(),
          Map.of(Setting.BUFFERED_SYNC.env(), "50ms"), null), dir, 0).bufferedSyncMs())
          .isEqualTo(50);
    }

    @Test
    @DisplayName("checksums of small chunks go to attributes unless --checksum-attributes is false")
    void checksumAttributes() {
      Path dir = Path.of("data");
      assertThat(Roles.chunkServerOptions(new Settings(Map.of(), Map.of(), null), dir, 0)
          .checksumAttributes()).isTrue();
      assertThat(Roles.chunkServerOptions(new Settings(flags(Setting.CHECKSUM_ATTRIBUTES, "false"),
          Map.of(), null), dir, 0).checksumAttributes()).isFalse();
      assertThat(Roles.chunkServerOptions(new Settings(Map.of(),
          Map.of(Setting.CHECKSUM_ATTRIBUTES.env(), "off"), null), dir, 0).checksumAttributes())
          .isFalse();
    }

    @Test
    @DisplayName("settings resolve independently of one another")
    void independent() {
      Map<String, String> env = Map.of(Setting.CHUNK_SIZE.env(), "1MiB");
      JsonObject file = new JsonObject().put("replication", 2).put("heartbeatInterval", "500ms");
      Settings st = new Settings(flags(Setting.BIND, "0.0.0.0"), env, file);
      assertThat(st.get(Setting.BIND)).isEqualTo("0.0.0.0");
      assertThat(st.bytes(Setting.CHUNK_SIZE)).isEqualTo(1L << 20);
      assertThat(st.integer(Setting.REPLICATION)).isEqualTo(2);
      assertThat(st.millis(Setting.HEARTBEAT_INTERVAL)).isEqualTo(500);
      assertThat(st.integer(Setting.DEAD_AFTER)).isEqualTo(5);
      assertThat(st.millis(Setting.UNCOMMITTED_TIMEOUT)).isEqualTo(600_000);
      assertThat(st.path(Setting.DATA_DIR)).isEqualTo(Path.of("./data"));
    }

    @Test
    @DisplayName("environment variable names are VGFS_ + the flag in upper snake case")
    void envNames() {
      assertThat(Setting.HTTP_PORT.env()).isEqualTo("VGFS_HTTP_PORT");
      assertThat(Setting.DATA_DIR.env()).isEqualTo("VGFS_DATA_DIR");
      assertThat(Setting.JOIN.env()).isEqualTo("VGFS_JOIN");
    }

    @Test
    @DisplayName("isSet tells given values from defaults")
    void isSet() {
      Setting s = Setting.RACK;
      assertThat(new Settings(Map.of(), Map.of(), new JsonObject()).isSet(s)).isFalse();
      assertThat(new Settings(flags(s, "r1"), Map.of(), null).isSet(s)).isTrue();
      assertThat(new Settings(Map.of(), Map.of(s.env(), "r1"), null).isSet(s)).isTrue();
      assertThat(new Settings(Map.of(), Map.of(), new JsonObject().put("rack", "r1")).isSet(s))
          .isTrue();
      // A value equal to the default still counts as set.
      Setting port = Setting.HTTP_PORT;
      assertThat(new Settings(flags(port, "8080"), Map.of(), null).isSet(port)).isTrue();
      assertThat(new Settings(Map.of(), Map.of("VGFS_OTHER", "x"), null).isSet(port)).isFalse();
    }

    @Test
    @DisplayName("string() is null for blank values and trims others")
    void strings() {
      assertThat(new Settings(Map.of(), Map.of(), null).string(Setting.PUBLIC_HOST)).isNull();
      assertThat(new Settings(flags(Setting.PUBLIC_HOST, "  "), Map.of(), null)
          .string(Setting.PUBLIC_HOST)).isNull();
      assertThat(new Settings(flags(Setting.PUBLIC_HOST, " h1 "), Map.of(), null)
          .string(Setting.PUBLIC_HOST)).isEqualTo("h1");
    }

    @Test
    @DisplayName("bad numbers name the flag")
    void badValues() {
      Settings st = new Settings(Map.of(), Map.of(Setting.HTTP_PORT.env(), "eighty",
          Setting.CHUNK_SIZE.env(), "lots", Setting.HEARTBEAT_INTERVAL.env(), "3 weeks"), null);
      assertThatThrownBy(() -> st.integer(Setting.HTTP_PORT))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--http-port")
          .hasMessageContaining("eighty");
      assertThatThrownBy(() -> st.bytes(Setting.CHUNK_SIZE))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--chunk-size");
      assertThatThrownBy(() -> st.millis(Setting.HEARTBEAT_INTERVAL))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("--heartbeat-interval");
    }

    @Test
    @DisplayName("Settings.load reads the file named by --conf, with flags and env on top")
    void loadFile(@TempDir Path dir) throws IOException {
      Path conf = dir.resolve("vgfs.json");
      Files.writeString(conf, new JsonObject().put("httpPort", 9100).put("rack", "east")
          .put("chunkSize", "1MiB").encode());
      Settings st = Settings.load(flags(Setting.RACK, "west"), conf.toString(),
          Map.of(Setting.CHUNK_SIZE.env(), "2MiB"));
      assertThat(st.integer(Setting.HTTP_PORT)).isEqualTo(9100);
      assertThat(st.get(Setting.RACK)).isEqualTo("west");
      assertThat(st.bytes(Setting.CHUNK_SIZE)).isEqualTo(2L << 20);
    }

    @Test
    @DisplayName("Settings.load falls back to VGFS_CONF; --conf wins over it")
    void loadFromEnv(@TempDir Path dir) throws IOException {
      Path a = dir.resolve("a.json");
      Path b = dir.resolve("b.json");
      Files.writeString(a, "{\"httpPort\": 1111}");
      Files.writeString(b, "{\"httpPort\": 2222}");
      Map<String, String> env = Map.of("VGFS_CONF", a.toString());
      assertThat(Settings.load(Map.of(), null, env).integer(Setting.HTTP_PORT)).isEqualTo(1111);
      assertThat(Settings.load(Map.of(), b.toString(), env).integer(Setting.HTTP_PORT))
          .isEqualTo(2222);
      assertThat(Settings.load(Map.of(), null, Map.of()).integer(Setting.HTTP_PORT))
          .isEqualTo(8080);
      assertThat(Settings.load(Map.of(), "  ", Map.of()).integer(Setting.HTTP_PORT))
          .isEqualTo(8080);
    }

    @Test
    @DisplayName("Settings.load rejects unknown keys (a flag name is not a key)")
    void unknownKey(@TempDir Path dir) throws IOException {
      Path conf = dir.resolve("bad.json");
      Files.writeString(conf, "{\"httpPort\": 1, \"http-port\": 2}");
      assertThatThrownBy(() -> Settings.load(Map.of(), conf.toString(), Map.of()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("unknown key 'http-port'");
      Files.writeString(conf, "{\"replicaton\": 3}");
      assertThatThrownBy(() -> Settings.load(Map.of(), conf.toString(), Map.of()))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("replicaton");
    }

    @ParameterizedTest(name = "content [{0}]")
    @ValueSource(strings = {"httpPort = 1", "[1, 2]", "42", "{\"httpPort\": ", ""})
    @DisplayName("Settings.load rejects a file that is not a JSON object")
    void notJson(String content, @TempDir Path dir) throws IOException {
      Path conf = dir.resolve("conf.json");
      Files.writeString(conf, content);
      assertThatThrownBy(() -> Settings.load(Map.of(), conf.toString(), Map.of()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(conf.toString());
    }

    @Test
    @DisplayName("Settings.load reports a missing file")
    void missingFile(@TempDir Path dir) {
      Path conf = dir.resolve("nope.json");
      assertThatThrownBy(() -> Settings.load(Map.of(), conf.toString(), Map.of()))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot read");
    }

    @Test
    @DisplayName("every setting has a distinct flag, key and environment variable")
    void distinct() {
      Map<String, Setting> seen = new HashMap<>();
      for (Setting s : Setting.values()) {
        assertThat(seen.put("flag:" + s.flag(), s)).isNull();
        assertThat(seen.put("key:" + s.key(), s)).isNull();
        assertThat(seen.put("env:" + s.env(), s)).isNull();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("Cluster.joinMembers")
  class JoinMembers {

    @Test
    @DisplayName("expands port ranges and keeps single members and bare hosts")
    void expands() {
      assertThat(Cluster.joinMembers("127.0.0.1:5701-5703,host2:6000,host3")).containsExactly(
          "127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703", "host2:6000", "host3");
    }

    @Test
    @DisplayName("blank entries and spaces around entries are ignored")
    void blanks() {
      assertThat(Cluster.joinMembers(" a:1 , ,b:2-3,")).containsExactly("a:1", "b:2", "b:3");
      assertThat(Cluster.joinMembers("")).isEmpty();
      assertThat(Cluster.joinMembers("h:7-7")).containsExactly("h:7");
    }

    @Test
    @DisplayName("the default join list covers ten ports")
    void defaultJoin() {
      List<String> members = Cluster.joinMembers(Setting.JOIN.defaultValue());
      assertThat(members).hasSize(10).startsWith("127.0.0.1:5701").endsWith("127.0.0.1:5710");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"h:10-5", "h:1-300", "h:abc", "h:1-", "h:", "h:1:2"})
    @DisplayName("reversed, huge and unparseable ranges are rejected")
    void rejects(String join) {
      assertThatThrownBy(() -> Cluster.joinMembers(join))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--join");
    }
  }
}
