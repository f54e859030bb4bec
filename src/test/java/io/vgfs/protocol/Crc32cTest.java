package io.vgfs.protocol;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

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
