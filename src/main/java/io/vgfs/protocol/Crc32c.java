package io.vgfs.protocol;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;

/**
 * CRC32C (Castagnoli) helpers: checksums of {@link Buffer}s without copying, and composition of
 * the checksums of consecutive byte ranges into the checksum of their concatenation.
 *
 * <p>Composition is what makes vgfs's whole-content checksum (the ETag) free: a chunk's CRC is
 * composed from its 64 KiB block CRCs, a file's from its chunks' CRCs, and no byte is read twice.
 * It uses the GF(2) matrix method of zlib's {@code crc32_combine}, with the operator for the
 * common block length cached so that composing one block costs 32 table steps.
 */
public final class Crc32c {

  private static final int POLY = 0x82F63B78; // reflected Castagnoli polynomial
  private static final ConcurrentHashMap<Long, int[]> OPERATORS = new ConcurrentHashMap<>();

  private Crc32c() {
  }

  /** CRC32C of all readable bytes of {@code buffer}, computed on its NIO views (no copy). */
  public static int of(Buffer buffer) {
    return of(buffer, 0, buffer.length());
  }

  /** CRC32C of {@code buffer[from, from + length)}. */
  public static int of(Buffer buffer, int from, int length) {
    CRC32C crc = new CRC32C();
    update(crc, buffer, from, length);
    return (int) crc.getValue();
  }

  /** Feeds {@code buffer[from, from + length)} into {@code crc} without copying the bytes. */
  public static void update(CRC32C crc, Buffer buffer, int from, int length) {
    update(crc, ((BufferInternal) buffer).getByteBuf(), from, length);
  }

  /** CRC32C of {@code buf}'s readable bytes, without copying them. */
  public static int of(ByteBuf buf) {
    CRC32C crc = new CRC32C();
    update(crc, buf, 0, buf.readableBytes());
    return (int) crc.getValue();
  }

  private static void update(CRC32C crc, ByteBuf buf, int from, int length) {
    if (buf.nioBufferCount() == 1) {
      crc.update(buf.nioBuffer(buf.readerIndex() + from, length));
    } else {
      for (ByteBuffer part : buf.nioBuffers(buf.readerIndex() + from, length)) {
        crc.update(part);
      }
    }
  }

  /** CRC32C of a byte array range. */
  public static int of(byte[] bytes, int from, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, from, length);
    return (int) crc.getValue();
  }

  /**
   * The CRC32C of {@code A || B} given {@code crcA = crc(A)}, {@code crcB = crc(B)} and the length
   * of B. {@code combine(0, crcB, lenB) == crcB} because the CRC of the empty string is 0.
   */
  public static int combine(int crcA, int crcB, long lengthB) {
    if (lengthB <= 0) {
      return crcA;
    }
    int[] op = OPERATORS.get(lengthB);
    if (op == null) {
      op = operatorFor(lengthB);
      if (OPERATORS.size() < 64) {
        OPERATORS.put(lengthB, op);
      }
    }
    return times(op, crcA) ^ crcB;
  }

  /** Formats a CRC as 8 lower-case hex digits, the form used in JSON and ETags. */
  public static String hex(int crc) {
    String s = Integer.toHexString(crc);
    return "00000000".substring(s.length()) + s;
  }

  /** Parses {@link #hex(int)}. */
  public static int parseHex(String hex) {
    return Integer.parseUnsignedInt(hex, 16);
  }

  // The 32x32 GF(2) matrix (one int per column) that appends `length` zero bytes to a CRC register.
  private static int[] operatorFor(long length) {
    int[] odd = new int[32];
    int[] even = new int[32];
    odd[0] = POLY; // operator for one zero bit
    int row = 1;
    for (int n = 1; n < 32; n++) {
      odd[n] = row;
      row <<= 1;
    }
    square(even, odd); // two zero bits
    square(odd, even); // four zero bits
    int[] result = null;
    long len = length;
    // odd now appends 4 bits; each step squares, so the first squaring gives one byte.
    while (true) {
      square(even, odd);
      if ((len & 1) != 0) {
        result = result == null ? even.clone() : multiply(even, result);
      }
      len >>>= 1;
      if (len == 0) {
        break;
      }
      square(odd, even);
      if ((len & 1) != 0) {
        result = result == null ? odd.clone() : multiply(odd, result);
      }
      len >>>= 1;
      if (len == 0) {
        break;
      }
    }
    return result;
  }

  private static int times(int[] mat, int vec) {
    int sum = 0;
    int i = 0;
    while (vec != 0) {
      if ((vec & 1) != 0) {
        sum ^= mat[i];
      }
      vec >>>= 1;
      i++;
    }
    return sum;
  }

  private static void square(int[] square, int[] mat) {
    for (int n = 0; n < 32; n++) {
      square[n] = times(mat, mat[n]);
    }
  }

  // (a * b): apply b first, then a.
  private static int[] multiply(int[] a, int[] b) {
    int[] out = new int[32];
    for (int n = 0; n < 32; n++) {
      out[n] = times(a, b[n]);
    }
    return out;
  }
}
