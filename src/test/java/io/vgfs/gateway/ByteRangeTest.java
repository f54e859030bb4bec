package io.vgfs.gateway;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class ByteRangeTest {

  private static final long SIZE = 1000;

  private static ByteRange range(String header, long size) {
    ByteRange.Request r = ByteRange.parse(header, size);
    assertThat(r).as("parse(%s, %d)", header, size).isInstanceOf(ByteRange.Range.class);
    return ((ByteRange.Range) r).range();
  }

  @ParameterizedTest(name = "{0} of {1} bytes -> {2}-{3}")
  @CsvSource({
      "bytes=0-99,      1000, 0,   99",
      "bytes=0-0,       1000, 0,   0",
      "bytes=100-,      1000, 100, 999",
      "bytes=999-,      1000, 999, 999",
      "bytes=-10,       1000, 990, 999",
      "bytes=-1,        1000, 999, 999",
      "bytes=-1000,     1000, 0,   999",
      "bytes=-5000,     1000, 0,   999",
      "bytes=500-5000,  1000, 500, 999",
      "bytes=0-999,     1000, 0,   999",
      "bytes=0-1000,    1000, 0,   999",
      "BYTES=1-2,       1000, 1,   2",
      "Bytes=1-2,       1000, 1,   2",
      "'  bytes=1-2  ', 1000, 1,   2",
      "bytes=0-,        1,    0,   0",
      "bytes=-1,        1,    0,   0"
  })
  @DisplayName("single ranges resolve to first and last byte, clipped to the size")
  void ranges(String header, long size, long first, long last) {
    ByteRange r = range(header, size);
    assertThat(r.first()).isEqualTo(first);
    assertThat(r.last()).isEqualTo(last);
    assertThat(r.length()).isEqualTo(last - first + 1);
  }

  @ParameterizedTest(name = "{0} of {1} bytes")
  @CsvSource({
      "bytes=-0,      1000",
      "bytes=1000-,   1000",
      "bytes=1000-1000, 1000",
      "bytes=5000-6000, 1000",
      "bytes=0-,      0",
      "bytes=0-0,     0",
      "bytes=-5,      0",
      "bytes=-0,      0"
  })
  @DisplayName("suffix 0, a start at or past the end, and any range of an empty file: 416")
  void unsatisfiable(String header, long size) {
    assertThat(ByteRange.parse(header, size)).isInstanceOf(ByteRange.Unsatisfiable.class);
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"", "bytes", "bytes=", "bytes=-", "bytes=0-1,5-6", "bytes=-5,0-1",
      "bytes=0-99, 200-299", "items=0-1", "bytes 0-1", "bytes=abc", "bytes=a-b", "bytes=5",
      "bytes=5-1", "bytes=--5", "bytes=0x10-20", "bytes=1-2-3", "xbytes=0-1"})
  @DisplayName("multiple ranges, other units and garbage are ignored: the whole file")
  void whole(String header) {
    assertThat(ByteRange.parse(header, SIZE)).isInstanceOf(ByteRange.Whole.class);
  }

  @Test
  @DisplayName("no Range header: the whole file, also when empty")
  void noHeader() {
    assertThat(ByteRange.parse(null, SIZE)).isInstanceOf(ByteRange.Whole.class);
    assertThat(ByteRange.parse(null, 0)).isInstanceOf(ByteRange.Whole.class);
    assertThat(ByteRange.parse("bytes=0-1,2-3", 0)).isInstanceOf(ByteRange.Whole.class);
  }

  @Test
  @DisplayName("contentRange is 'bytes first-last/size'")
  void contentRange() {
    assertThat(range("bytes=0-99", SIZE).contentRange(SIZE)).isEqualTo("bytes 0-99/1000");
    assertThat(range("bytes=-10", SIZE).contentRange(SIZE)).isEqualTo("bytes 990-999/1000");
    assertThat(range("bytes=900-", SIZE).contentRange(SIZE)).isEqualTo("bytes 900-999/1000");
    long big = 5L << 30;
    assertThat(range("bytes=4294967296-", big).contentRange(big))
        .isEqualTo("bytes 4294967296-5368709119/5368709120");
  }

  @Test
  @DisplayName("ranges are value objects")
  void values() {
    assertThat(new ByteRange(3, 7)).isEqualTo(new ByteRange(3, 7));
    assertThat(new ByteRange(3, 7).length()).isEqualTo(5);
    assertThat(ByteRange.parse("bytes=3-7", SIZE))
        .isEqualTo(new ByteRange.Range(new ByteRange(3, 7)));
  }
}
