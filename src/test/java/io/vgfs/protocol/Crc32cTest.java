package io.vgfs.protocol;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Crc32cTest {

  @Test
  @DisplayName("the CRC of a concatenation is composed from the parts' CRCs")
  void combineMatchesDirectComputation() {
    Random r = new Random(42);
    for (int i = 0; i < 200; i++) {
      byte[] a = new byte[r.nextInt(3000)];
      byte[] b = new byte[r.nextInt(70_000)];
      r.nextBytes(a);
      r.nextBytes(b);
      byte[] ab = new byte[a.length + b.length];
      System.arraycopy(a, 0, ab, 0, a.length);
      System.arraycopy(b, 0, ab, a.length, b.length);
      int combined = Crc32c.combine(Crc32c.of(a, 0, a.length), Crc32c.of(b, 0, b.length), b.length);
      assertThat(combined).isEqualTo(Crc32c.of(ab, 0, ab.length));
    }
  }

  @Test
  @DisplayName("composition holds past 4 GiB: a 5 GiB run of zeros, and any split of huge lengths")
  void combineHugeLengths() {
    byte[] head = new byte[1000];
    new Random(3).nextBytes(head);
    byte[] zeros = new byte[1 << 20];
    CRC32C whole = new CRC32C();
    CRC32C tail = new CRC32C();
    whole.update(head);
    long tailLength = 5L << 30;
    for (long done = 0; done < tailLength; done += zeros.length) {
      whole.update(zeros);
      tail.update(zeros);
    }
    assertThat(Crc32c.combine(Crc32c.of(head, 0, head.length), (int) tail.getValue(), tailLength))
        .isEqualTo((int) whole.getValue());

    // (a . b) . c == a . (b . c) for lengths up to 2^60: every power in the table takes part.
    Random r = new Random(11);
    for (int i = 0; i < 1000; i++) {
      int a = r.nextInt();
      int b = r.nextInt();
      int c = r.nextInt();
      long lb = 1 + (r.nextLong() >>> (4 + r.nextInt(60)));
      long lc = 1 + (r.nextLong() >>> (4 + r.nextInt(60)));
      assertThat(Crc32c.combine(Crc32c.combine(a, b, lb), c, lc))
          .isEqualTo(Crc32c.combine(a, Crc32c.combine(b, c, lc), lb + lc));
    }
    assertThatThrownBy(() -> Crc32c.combine(1, 2, 1L << 61))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  @DisplayName("a buffer's CRC is computed without copying and equals the byte array's")
  void bufferAndSliceAndComposite() {
    byte[] data = new byte[100_000];
    new Random(7).nextBytes(data);
    Buffer buf = Buffer.buffer(data);
    assertThat(Crc32c.of(buf)).isEqualTo(Crc32c.of(data, 0, data.length));
    assertThat(Crc32c.of(buf.slice(10, 5000))).isEqualTo(Crc32c.of(data, 10, 4990));
    Buffer composite = io.vgfs.protocol.data.Frames.encode(io.vgfs.protocol.data.FrameType.DATA,
        buf.slice(0, 1000), 0);
    assertThat(Crc32c.of(composite, 12, 1000)).isEqualTo(Crc32c.of(data, 0, 1000));
    assertThat(Crc32c.hex(0x0a0b0c0d)).isEqualTo("0a0b0c0d");
    assertThat(Crc32c.parseHex("fa0b0c0d")).isEqualTo(0xfa0b0c0d);
  }
}
