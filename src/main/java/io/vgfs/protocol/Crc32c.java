package io.vgfs.protocol;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC32C (Castagnoli) helpers: checksums of {@link Buffer}s without copying, and composition of
 * the checksums of consecutive byte ranges into the checksum of their concatenation.
 *
 * <p>Composition is what makes vgfs's whole-content checksum (the ETag) free: a chunk's CRC is
 * composed from its 64 KiB block CRCs, a file's from its chunks' CRCs, and no byte is read twice.
 * It multiplies the CRC register by a power of x modulo the polynomial, the method of zlib's
 * {@code crc32_combine} since 1.2.12.
 */
public final class Crc32c {

  private static final int POLY = 0x82F63B78; // reflected Castagnoli polynomial

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
   *
   * <p>Appending {@code n} bytes multiplies the CRC register by x<sup>8n</sup> modulo the
   * polynomial; that power is built from the table of x<sup>2<sup>k</sup></sup>, one product per
   * set bit of {@code n}. No allocation, and any length costs the same handful of products.
   *
   * @throws IllegalArgumentException if {@code lengthB} is 2<sup>61</sup> bytes or more
   */
  public static int combine(int crcA, int crcB, long lengthB) {
    if (lengthB <= 0) {
      return crcA;
    }
    if (lengthB >= 1L << 61) {
      throw new IllegalArgumentException("length " + lengthB + " is beyond 2^61 bytes");
    }
    return multiply(xPow8n(lengthB), crcA) ^ crcB;
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

  // Polynomials over GF(2) in the reflected bit order of the CRC register: bit 31 is x^0.
  private static final int ONE = 0x80000000;
  /** X2K[k] = x^(2^k) modulo the polynomial; 8n for a length n below 2^61 has 64 bits at most. */
  private static final int[] X2K = new int[64];

  static {
    X2K[0] = ONE >>> 1; // x^1
    for (int k = 1; k < X2K.length; k++) {
      X2K[k] = multiply(X2K[k - 1], X2K[k - 1]);
    }
  }

  // x^(8n) modulo the polynomial: the product of x^(2^k) over the set bits k of 8n.
  private static int xPow8n(long n) {
    int p = ONE;
    int k = 3; // 8n = n << 3
    while (n != 0) {
      if ((n & 1) != 0) {
        p = multiply(X2K[k], p);
      }
      n >>>= 1;
      k++;
    }
    return p;
  }

  // a * b modulo the polynomial.
  private static int multiply(int a, int b) {
    int product = 0;
    while (a != 0) { // a's bits from x^0 up; b becomes b * x each step
      if ((a & ONE) != 0) {
        product ^= b;
      }
      a <<= 1;
      b = (b & 1) != 0 ? (b >>> 1) ^ POLY : b >>> 1;
    }
    return product;
  }
}
