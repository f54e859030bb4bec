package io.vgfs.protocol;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class PathRulesTest {

  private static void assertInvalid(Runnable r) {
    VgfsException e = catchThrowableOfType(VgfsException.class, r::run);
    assertThat(e).as("expected an INVALID_PATH failure").isNotNull();
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_PATH);
  }

  private static void assertInvalidFile(String path) {
    assertInvalid(() -> PathRules.file(path));
  }

  // --- file() ----------------------------------------------------------------------------------

  @ParameterizedTest(name = "\"{0}\" -> \"{1}\"")
  @CsvSource(delimiter = '|', value = {
      "a|a",
      "a/b/c.txt|a/b/c.txt",
      "/a/b|a/b",
      "/x|x",
      "logs/2024/app.log|logs/2024/app.log",
      "with space/and  two|with space/and  two",
      "' lead and trail '|' lead and trail '",
      "ünïcödé/日本語/файл|ünïcödé/日本語/файл",
      "emoji/😀.png|emoji/😀.png",
      "...|...",
      "a/.hidden/..x|a/.hidden/..x",
      "a+b%20c|a+b%20c",
      "tab\\t-is-literal|tab\\t-is-literal"
  })
  @DisplayName("valid file paths are returned in canonical form (one leading slash dropped)")
  void validFiles(String in, String out) {
    assertThat(PathRules.file(in)).isEqualTo(out);
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"", "/", "//", "//a", "a//b", "a/./b", "./a", "a/.", "../x", "a/..",
      "a/../b", "..", ".", "a/", "/a/b/", "a/b//"})
  @DisplayName("empty paths, empty segments, dot segments and trailing slashes are INVALID_PATH")
  void invalidStructure(String path) {
    assertInvalidFile(path);
  }

  @Test
  @DisplayName("null is INVALID_PATH")
  void nullPath() {
    assertInvalidFile(null);
  }

  @ParameterizedTest(name = "U+{0}")
  @ValueSource(ints = {0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9f})
  @DisplayName("control characters (C0, DEL, C1) are INVALID_PATH")
  void controlCharacters(int c) {
    assertInvalidFile("a/b" + (char) c + "c");
    assertInvalidFile((char) c + "");
  }

  @Test
  @DisplayName("the first printable characters after the control ranges are allowed")
  void controlBoundaries() {
    assertThat(PathRules.file("a\u0020b")).isEqualTo("a b");
    assertThat(PathRules.file("a\u007eb")).isEqualTo("a~b");
    assertThat(PathRules.file("a\u00a0b")).isEqualTo("a\u00a0b");
  }

  @Test
  @DisplayName("paths of up to 1024 UTF-8 bytes are valid, longer ones are not")
  void pathLength() {
    String base = String.join("/", "x".repeat(200), "x".repeat(200), "x".repeat(200),
        "x".repeat(200), "x".repeat(200));
    String p1024 = base + "/" + "y".repeat(19);
    assertThat(p1024.getBytes(StandardCharsets.UTF_8)).hasSize(1024);
    assertThat(PathRules.file(p1024)).isEqualTo(p1024);
    assertInvalidFile(p1024 + "y");
    // A leading slash does not count.
    assertThat(PathRules.file("/" + p1024)).isEqualTo(p1024);
    // Counted in bytes, not chars: 'é' is two bytes.
    String e = "é".repeat(100);
    String multi = String.join("/", e, e, e, e, e, "é".repeat(10));
    assertThat(multi.length()).isLessThan(1024);
    assertThat(multi.getBytes(StandardCharsets.UTF_8)).hasSize(1025);
    assertInvalidFile(multi);
  }

  @Test
  @DisplayName("segments of up to 255 UTF-8 bytes are valid, longer ones are not")
  void segmentLength() {
    assertThat(PathRules.file("a/" + "s".repeat(255))).isEqualTo("a/" + "s".repeat(255));
    assertInvalidFile("a/" + "s".repeat(256));
    assertInvalidFile("s".repeat(256) + "/a");
    // 128 two-byte characters: 128 chars, 256 bytes.
    assertInvalidFile("ß".repeat(128));
    assertThat(PathRules.file("ß".repeat(127) + "s")).hasSize(128);
    // 64 four-byte emoji: 128 chars, 256 bytes.
    assertInvalidFile("😀".repeat(64));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"a\uD800b", "a\uDC00b", "\uD83D", "x/\uDE00", "a\uDE00\uD83D"})
  @DisplayName("lone or reversed surrogates are INVALID_PATH")
  void loneSurrogates(String path) {
    assertInvalidFile(path);
  }

  @Test
  @DisplayName("the failure message says what is wrong")
  void messages() {
    assertThatThrownBy(() -> PathRules.file("a//b")).hasMessageContaining("empty segment");
    assertThatThrownBy(() -> PathRules.file("a/../b")).hasMessageContaining("'..'");
    assertThatThrownBy(() -> PathRules.file("a/")).hasMessageContaining("end with '/'");
    assertThatThrownBy(() -> PathRules.file("a\nb")).hasMessageContaining("control");
  }

  // --- prefix() --------------------------------------------------------------------------------

  @ParameterizedTest(name = "\"{0}\" -> \"{1}\"")
  @CsvSource(delimiter = '|', value = {
      "''|''",
      "/|''",
      "logs|logs",
      "logs/|logs/",
      "/logs/|logs/",
      "/logs/20|logs/20",
      "a/b/c/|a/b/c/",
      "日本/|日本/"
  })
  @DisplayName("listing prefixes: empty means everything, a trailing slash is kept")
  void validPrefixes(String in, String out) {
    assertThat(PathRules.prefix(in)).isEqualTo(out);
  }

  @Test
  @DisplayName("a null prefix means everything")
  void nullPrefix() {
    assertThat(PathRules.prefix(null)).isEmpty();
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"//", "///", "a//", "a//b", "../", "a/../", "./", "a/./b/", "..",
      "a\u0000/", "a\nb"})
  @DisplayName("prefixes follow the path rules and are INVALID_PATH otherwise")
  void invalidPrefixes(String prefix) {
    assertInvalid(() -> PathRules.prefix(prefix));
  }

  @Test
  @DisplayName("prefix length limits are the path's")
  void prefixLength() {
    assertThat(PathRules.prefix("p".repeat(255) + "/")).hasSize(256);
    assertInvalid(() -> PathRules.prefix("p".repeat(256) + "/"));
    assertInvalid(() -> PathRules.prefix(("q".repeat(200) + "/").repeat(6)));
  }

  // --- urlDecode() -----------------------------------------------------------------------------

  @ParameterizedTest(name = "\"{0}\" -> \"{1}\"")
  @CsvSource(delimiter = '|', value = {
      "plain/path|plain/path",
      "a%20b|a b",
      "%41%42c|ABc",
      "%2F|/",
      "a%2fb|a/b",
      "%C3%A9|é",
      "%c3%a9t%c3%a9|été",
      "%E2%82%AC|€",
      "%F0%9F%98%80|😀",
      "a+b|a+b",
      "a+b%2B|a+b+",
      "%25|%",
      "%2520|%20",
      "é%20x|é x",
      "'😀%20'|'😀 '",
      "%E6%97%A5本|日本"
  })
  @DisplayName("percent escapes decode as UTF-8; '+' stays a plus sign")
  void urlDecodes(String raw, String decoded) {
    assertThat(PathRules.urlDecode(raw)).isEqualTo(decoded);
  }

  @Test
  @DisplayName("a string without '%' is returned unchanged")
  void noEscapes() {
    String s = "a b+c/é";
    assertThat(PathRules.urlDecode(s)).isSameAs(s);
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"%zz", "a%zzb", "%4", "a%4", "%", "abc%", "%%41", "%4g", "%g4", "% 41",
      "%-1"})
  @DisplayName("malformed and truncated escapes are INVALID_PATH")
  void malformedEscapes(String raw) {
    assertInvalid(() -> PathRules.urlDecode(raw));
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"%ff", "a%FFb", "%C3", "%C3%28", "%80", "%E2%82", "%C0%AF", "%ED%A0%80",
      "%F8%88%80%80%80", "%F4%90%80%80"})
  @DisplayName("bytes that are not valid UTF-8 (stray, truncated, overlong, surrogate) are INVALID_PATH")
  void invalidUtf8(String raw) {
    assertInvalid(() -> PathRules.urlDecode(raw));
  }

  @Test
  @DisplayName("only ASCII hex digits form an escape")
  void nonAsciiHexDigits() {
    assertInvalid(() -> PathRules.urlDecode("%\u0663\u0030"));
    assertInvalid(() -> PathRules.urlDecode("%\uFF14\uFF11"));
  }

  @Test
  @DisplayName("urlDecode then file(): an encoded control character or '..' is still refused")
  void decodeThenValidate() {
    assertInvalidFile(PathRules.urlDecode("a%00b"));
    assertInvalidFile(PathRules.urlDecode("a/%2E%2E/b"));
    assertThat(PathRules.file(PathRules.urlDecode("/dir%20one/f%C3%BCr.txt")))
        .isEqualTo("dir one/für.txt");
  }
}
