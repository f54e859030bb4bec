package io.vgfs.protocol.data;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Crc32c;
import io.vgfs.protocol.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link FrameDecoder} fed by hand, in the style of Vert.x's {@code RecordParserTest}: the same
 * byte stream cut into pieces in every way must decode to the same frames and raw bytes.
 */
class FrameDecoderTest {

  // ---------------------------------------------------------------------------------------------
  // What the decoder hands out, and a stream builder that knows what it should hand out.

  /** A decoded frame ({@code type != null}) or a run of raw bytes ({@code type == null}). */
  record Event(FrameType type, byte[] bytes) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Event e && e.type == type && Arrays.equals(e.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return 31 * (type == null ? 0 : type.hashCode()) + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
      return (type == null ? "RAW" : type.name()) + "[" + bytes.length + " bytes, crc "
          + Crc32c.hex(Crc32c.of(bytes, 0, bytes.length)) + "]";
    }
  }

  /** Builds a wire byte stream and the events a correct decoder produces from it. */
  static final class Stream {
    final ByteArrayOutputStream wire = new ByteArrayOutputStream();
    final List<Event> expected = new ArrayList<>();
    final Random random;

    Stream(long seed) {
      random = new Random(seed);
    }

    Stream control(FrameType type, JsonObject json) {
      Buffer payload = json.toBuffer();
      wire.writeBytes(Frames.encode(type, json).getBytes());
      expected.add(new Event(type, payload.getBytes()));
      return this;
    }

    Stream data(int length) {
      byte[] block = new byte[length];
      random.nextBytes(block);
      wire.writeBytes(Frames.encode(FrameType.DATA, Buffer.buffer(block)).getBytes());
      expected.add(new Event(FrameType.DATA, block));
      return this;
    }

    /** A READ_OK header announcing {@code count} raw bytes, followed by them. */
    Stream readOk(int count, int blockSize) {
      byte[] raw = new byte[count];
      random.nextBytes(raw);
      int n = (count + blockSize - 1) / blockSize;
      int[] crcs = new int[n];
      for (int i = 0; i < n; i++) {
        int from = i * blockSize;
        crcs[i] = Crc32c.of(raw, from, Math.min(blockSize, count - from));
      }
      Buffer header = new ReadHeader(0, count, count, blockSize, crcs).encode();
      wire.writeBytes(Frames.encode(FrameType.READ_OK, header).getBytes());
      expected.add(new Event(FrameType.READ_OK, header.getBytes()));
      wire.writeBytes(raw);
      if (count > 0) {
        expected.add(new Event(null, raw));
      }
      return this;
    }

    byte[] bytes() {
      return wire.toByteArray();
    }
  }

  /** A decoder and everything it emitted; READ_OK frames announce their raw bytes. */
  static final class Recorder {
    final FrameDecoder decoder;
    final boolean pooled;
    /** Pooled mode: every network buffer fed, to check that all were given back. */
    final List<ByteBuf> fed = new ArrayList<>();
    final List<Event> events = new ArrayList<>();
    final List<Frame> frames = new ArrayList<>();
    final List<Throwable> errors = new ArrayList<>();
    /** Events seen after the first error: must stay empty. */
    final List<Event> afterError = new ArrayList<>();

    Recorder() {
      this(false);
    }

    /** A pooled recorder gives back each frame once it has recorded it. */
    Recorder(boolean pooled) {
      this(pooled, false);
    }

    /**
     * @param ownedRuns a {@link FrameDecoder#pooledRuns} decoder whose raw runs go to an owned
     *                  raw handler, which records and releases them
     */
    Recorder(boolean pooled, boolean ownedRuns) {
      this.pooled = pooled || ownedRuns;
      decoder = ownedRuns ? FrameDecoder.pooledRuns(null)
          : pooled ? FrameDecoder.pooled(null) : new FrameDecoder(null);
      decoder.frameHandler(f -> {
        if (!this.pooled) {
          frames.add(f);
        }
        assertThat(f.pooled() != null).as("pooled payload").isEqualTo(
            pooled && !ownedRuns && f.type() == FrameType.DATA);
        record(new Event(f.type(), f.payload().getBytes()));
        if (f.type() == FrameType.READ_OK) {
          decoder.expectRaw(ReadHeader.decode(f.payload()).count());
        }
        f.release();
      });
      decoder.rawHandler(b -> raw(b.getBytes()));
      if (ownedRuns) {
        decoder.ownedRawHandler(b -> {
          assertThat(b.isDirect()).as("a run of the network buffer itself").isTrue();
          byte[] bytes = new byte[b.readableBytes()];
          b.getBytes(b.readerIndex(), bytes);
          b.release();
          raw(bytes);
        });
      }
      decoder.exceptionHandler(errors::add);
    }

    private void raw(byte[] bytes) {
      int last = events.size() - 1;
      if (last >= 0 && events.get(last).type() == null && errors.isEmpty()) {
        // Raw bytes may arrive in any number of runs: merge adjacent ones.
        byte[] prev = events.get(last).bytes();
        byte[] merged = Arrays.copyOf(prev, prev.length + bytes.length);
        System.arraycopy(bytes, 0, merged, prev.length, bytes.length);
        events.set(last, new Event(null, merged));
      } else {
        record(new Event(null, bytes));
      }
    }

    private void record(Event e) {
      (errors.isEmpty() ? events : afterError).add(e);
    }

    Recorder feed(byte[] wire, int from, int to) {
      if (to > from && pooled) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(to - from);
        b.writeBytes(wire, from, to - from);
        fed.add(b);
        decoder.handleOwned(b);
      } else if (to > from) {
        decoder.handle(Buffer.buffer(Arrays.copyOfRange(wire, from, to)));
      }
      return this;
    }

    /** Closes the decoder and checks that no network buffer is still referenced. */
    void assertAllReleased() {
      decoder.close();
      for (ByteBuf b : fed) {
        assertThat(b.refCnt()).as("reference count of a fed buffer").isZero();
      }
    }

    /** Feeds the whole stream in pieces of 1 to {@code maxPiece} bytes. */
    Recorder feedInPieces(byte[] wire, Random random, int maxPiece) {
      for (int pos = 0; pos < wire.length; ) {
        int end = Math.min(wire.length, pos + 1 + random.nextInt(maxPiece));
        feed(wire, pos, end);
        pos = end;
      }
      return this;
    }

    Recorder feedAll(byte[] wire) {
      return feed(wire, 0, wire.length);
    }
  }

  /** Control frames, DATA frames of 0..64 KiB and READ_OK headers with raw bytes. */
  static Stream bigStream(long seed) {
    return new Stream(seed)
        .control(FrameType.WRITE_OPEN, new JsonObject().put("chunk", 42L).put("version", 1)
            .put("chain", new io.vertx.core.json.JsonArray().add("a:1").add("b:2")))
        .data(0)
        .data(1)
        .data(4096)
        .data(Frames.BLOCK_SIZE)
        .data(Frames.BLOCK_SIZE - 1)
        .data(12_345)
        .control(FrameType.WRITE_END, new JsonObject().put("length", 151_326L).put("crc32c", "0a0b0c0d"))
        .control(FrameType.WRITE_ACK, new JsonObject().put("chunk", 42L).put("unicode", "é€😀"))
        .control(FrameType.READ, new JsonObject().put("chunk", 42L).put("offset", 0).put("length", 9))
        .readOk(Frames.BLOCK_SIZE * 2 + 17, Frames.BLOCK_SIZE)
        .readOk(0, Frames.BLOCK_SIZE)
        .readOk(5, Frames.BLOCK_SIZE)
        .control(FrameType.ERROR, new JsonObject().put("code", "NOT_FOUND").put("message", "x"))
        .data(Frames.BLOCK_SIZE);
  }

  /** The same variety at a size that can be split at every offset in reasonable time. */
  static Stream smallStream(long seed) {
    return new Stream(seed)
        .control(FrameType.WRITE_OPEN, new JsonObject().put("chunk", 7L).put("token", ""))
        .data(0)
        .data(1)
        .data(13)
        .data(1500)
        .readOk(3000, 1024)
        .control(FrameType.READ, new JsonObject().put("chunk", 7L))
        .readOk(0, 1024)
        .readOk(1, 1024)
        .data(700)
        .control(FrameType.WRITE_END, new JsonObject().put("length", 2214L))
        .readOk(2048, 1024)
        .control(FrameType.ERROR, new JsonObject().put("code", "IO_ERROR"));
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("a well-formed stream")
  class WellFormed {

    @Test
    @DisplayName("fed whole yields every frame, payload and raw byte in order")
    void whole() {
      Stream s = bigStream(1);
      Recorder r = new Recorder().feedAll(s.bytes());
      assertThat(r.errors).isEmpty();
      assertThat(r.events).containsExactlyElementsOf(s.expected);
      assertThat(r.decoder.buffered()).isZero();
      assertThat(r.decoder.rawRemaining()).isZero();
    }

    @Test
    @DisplayName("decoded frames carry the header CRC, flags 0 and parseable JSON payloads")
    void frameFields() {
      Stream s = bigStream(2);
      Recorder r = new Recorder().feedAll(s.bytes());
      assertThat(r.frames).isNotEmpty();
      for (Frame f : r.frames) {
        assertThat(f.flags()).isZero();
        assertThat(f.crc()).isEqualTo(Crc32c.of(f.payload()));
      }
      assertThat(r.frames.get(0).type()).isEqualTo(FrameType.WRITE_OPEN);
      assertThat(r.frames.get(0).json().getLong("chunk")).isEqualTo(42L);
      assertThat(r.frames.get(0).json().getJsonArray("chain")).containsExactly("a:1", "b:2");
      Frame ack = r.frames.stream().filter(f -> f.type() == FrameType.WRITE_ACK).findFirst()
          .orElseThrow();
      assertThat(ack.json().getString("unicode")).isEqualTo("é€😀");
    }

    @Test
    @DisplayName("split into two pieces at every offset yields the same events")
    void everySplit() {
      Stream s = smallStream(3);
      byte[] wire = s.bytes();
      assertThat(wire.length).isGreaterThan(7000);
      for (int cut = 0; cut <= wire.length; cut++) {
        Recorder r = new Recorder().feed(wire, 0, cut).feed(wire, cut, wire.length);
        assertThat(r.errors).as("split at %d", cut).isEmpty();
        assertThat(r.events).as("split at %d", cut).containsExactlyElementsOf(s.expected);
        assertThat(r.decoder.buffered()).as("split at %d", cut).isZero();
      }
    }

    @Test
    @DisplayName("split at every offset around each frame boundary of the 64 KiB stream")
    void everySplitNearBoundaries() {
      Stream s = bigStream(4);
      byte[] wire = s.bytes();
      // Offsets where frames start and end, +- a header, including inside 64 KiB frames.
      List<Integer> cuts = new ArrayList<>();
      int pos = 0;
      for (Event e : s.expected) {
        int len = e.type() == null ? e.bytes().length : Frames.HEADER_SIZE + e.bytes().length;
        for (int d = -Frames.HEADER_SIZE - 1; d <= Frames.HEADER_SIZE + 1; d++) {
          cuts.add(pos + d);
        }
        pos += len;
      }
      assertThat(pos).isEqualTo(wire.length);
      for (int cut : cuts) {
        if (cut < 0 || cut > wire.length) {
          continue;
        }
        Recorder r = new Recorder().feed(wire, 0, cut).feed(wire, cut, wire.length);
        assertThat(r.errors).as("split at %d", cut).isEmpty();
        assertThat(r.events).as("split at %d", cut).containsExactlyElementsOf(s.expected);
      }
    }

    @Test
    @DisplayName("fed in random piece sizes (seeded) yields the same events")
    void randomPieces() {
      for (long seed = 0; seed < 40; seed++) {
        Stream s = bigStream(100 + seed);
        byte[] wire = s.bytes();
        Random random = new Random(seed);
        // Alternate between tiny pieces (header-sized) and large ones (several frames).
        int maxPiece = seed % 2 == 0 ? 20 : 150_000;
        Recorder r = new Recorder().feedInPieces(wire, random, maxPiece);
        assertThat(r.errors).as("seed %d", seed).isEmpty();
        assertThat(r.events).as("seed %d", seed).containsExactlyElementsOf(s.expected);
        assertThat(r.decoder.buffered()).as("seed %d", seed).isZero();
      }
    }

    @Test
    @DisplayName("fed one byte at a time yields the same events")
    void byteByByte() {
      Stream s = bigStream(5);
      byte[] wire = s.bytes();
      Recorder r = new Recorder();
      for (int i = 0; i < wire.length; i++) {
        r.feed(wire, i, i + 1);
      }
      assertThat(r.errors).isEmpty();
      assertThat(r.events).containsExactlyElementsOf(s.expected);
    }

    @Test
    @DisplayName("frames fed as the composite buffers Frames.encode returns decode the same")
    void compositeBuffers() {
      byte[] block = new byte[Frames.BLOCK_SIZE];
      new Random(6).nextBytes(block);
      Recorder r = new Recorder();
      r.decoder.handle(Frames.encode(FrameType.DATA, Buffer.buffer(block)));
      r.decoder.handle(Frames.encode(FrameType.DATA, Buffer.buffer(block).slice(0, 100),
          Crc32c.of(block, 0, 100)));
      r.decoder.handle(Frames.encode(FrameType.WRITE_END, new JsonObject().put("length", 5)));
      assertThat(r.errors).isEmpty();
      assertThat(r.events).containsExactly(
          new Event(FrameType.DATA, block),
          new Event(FrameType.DATA, Arrays.copyOf(block, 100)),
          new Event(FrameType.WRITE_END, new JsonObject().put("length", 5).toBuffer().getBytes()));
    }

    @Test
    @DisplayName("an empty buffer is ignored")
    void emptyBuffer() {
      Recorder r = new Recorder();
      r.decoder.handle(Buffer.buffer());
      assertThat(r.events).isEmpty();
      assertThat(r.errors).isEmpty();
      assertThat(r.decoder.buffered()).isZero();
    }

    @Test
    @DisplayName("a DATA frame of exactly 64 KiB and a control frame of exactly 1 MiB are accepted")
    void limitsInclusive() {
      byte[] control = new byte[Frames.MAX_CONTROL_PAYLOAD];
      Arrays.fill(control, (byte) ' ');
      control[0] = '{';
      control[control.length - 1] = '}';
      byte[] block = new byte[Frames.BLOCK_SIZE];
      ByteArrayOutputStream wire = new ByteArrayOutputStream();
      wire.writeBytes(Frames.encode(FrameType.WRITE_OPEN, Buffer.buffer(control)).getBytes());
      wire.writeBytes(Frames.encode(FrameType.DATA, Buffer.buffer(block)).getBytes());
      Recorder r = new Recorder().feedAll(wire.toByteArray());
      assertThat(r.errors).isEmpty();
      assertThat(r.events).containsExactly(new Event(FrameType.WRITE_OPEN, control),
          new Event(FrameType.DATA, block));
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("malformed input")
  class Malformed {

    private byte[] goodFrame() {
      return Frames.encode(FrameType.WRITE_END, new JsonObject().put("length", 1)).getBytes();
    }

    private byte[] concat(byte[]... parts) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (byte[] p : parts) {
        out.writeBytes(p);
      }
      return out.toByteArray();
    }

    /** good frame, bad frame, good frame: fed whole and byte by byte. */
    private void assertFailsOnce(byte[] bad, String messagePart) {
      byte[] wire = concat(goodFrame(), bad, goodFrame());
      Recorder whole = new Recorder().feedAll(wire).feedAll(goodFrame());
      Recorder bytes = new Recorder();
      for (int i = 0; i < wire.length; i++) {
        bytes.feed(wire, i, i + 1);
      }
      bytes.feedAll(goodFrame());
      for (Recorder r : List.of(whole, bytes)) {
        assertThat(r.errors).hasSize(1);
        assertThat(r.errors.get(0)).isInstanceOf(FrameException.class)
            .hasMessageContaining(messagePart);
        assertThat(((FrameException) r.errors.get(0)).code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(r.events).hasSize(1);
        assertThat(r.events.get(0).type()).isEqualTo(FrameType.WRITE_END);
        assertThat(r.afterError).isEmpty();
        assertThat(r.decoder.buffered()).isZero();
      }
    }

    @Test
    @DisplayName("bad magic: one FrameException, nothing after it")
    void badMagic() {
      byte[] bad = goodFrame();
      bad[0] = 0x00;
      assertFailsOnce(bad, "magic");
    }

    @Test
    @DisplayName("bad version: one FrameException, nothing after it")
    void badVersion() {
      byte[] bad = goodFrame();
      bad[1] = 2;
      assertFailsOnce(bad, "version");
    }

    @ParameterizedTest(name = "type code {0}")
    @ValueSource(ints = {0, 11, 15, 16, 127, 255})
    @DisplayName("unknown frame type: one FrameException, nothing after it")
    void unknownType(int code) {
      byte[] bad = goodFrame();
      bad[2] = (byte) code;
      assertFailsOnce(bad, "unknown frame type");
    }

    @Test
    @DisplayName("CRC mismatch in the payload: one FrameException, nothing after it")
    void crcMismatchPayload() {
      byte[] bad = goodFrame();
      bad[Frames.HEADER_SIZE + 2] ^= 0x01;
      assertFailsOnce(bad, "CRC");
    }

    @Test
    @DisplayName("CRC mismatch in the header's CRC field: one FrameException")
    void crcMismatchHeader() {
      byte[] bad = Frames.encode(FrameType.DATA, Buffer.buffer(new byte[100])).getBytes();
      bad[11] ^= (byte) 0x80;
      assertFailsOnce(bad, "CRC");
    }

    private byte[] header(FrameType type, long length) {
      Buffer h = Buffer.buffer().appendByte(Frames.MAGIC).appendByte(Frames.VERSION)
          .appendByte((byte) type.code()).appendByte((byte) 0)
          .appendUnsignedInt(length).appendInt(0);
      return h.getBytes();
    }

    @Test
    @DisplayName("DATA length > 64 KiB fails as soon as the header is seen, without buffering")
    void dataTooLong() {
      Recorder r = new Recorder();
      r.feedAll(goodFrame());
      r.feedAll(header(FrameType.DATA, Frames.BLOCK_SIZE + 1));
      assertThat(r.errors).hasSize(1);
      assertThat(r.errors.get(0)).isInstanceOf(FrameException.class).hasMessageContaining("DATA");
      assertThat(r.decoder.buffered()).isZero();
      r.feedAll(new byte[Frames.BLOCK_SIZE + 1]).feedAll(goodFrame());
      assertThat(r.errors).hasSize(1);
      assertThat(r.events).hasSize(1);
      assertThat(r.afterError).isEmpty();
      assertThat(r.decoder.buffered()).isZero();
    }

    @Test
    @DisplayName("control length > 1 MiB fails as soon as the header is seen, without buffering")
    void controlTooLong() {
      for (FrameType t : FrameType.values()) {
        if (t == FrameType.DATA) {
          continue;
        }
        Recorder r = new Recorder();
        r.feedAll(header(t, Frames.MAX_CONTROL_PAYLOAD + 1L));
        assertThat(r.errors).as("%s", t).hasSize(1);
        assertThat(r.errors.get(0)).isInstanceOf(FrameException.class)
            .hasMessageContaining("exceeds");
        assertThat(r.decoder.buffered()).isZero();
        r.feedAll(new byte[4096]);
        assertThat(r.errors).hasSize(1);
        assertThat(r.decoder.buffered()).isZero();
      }
    }

    @Test
    @DisplayName("a length with the top bit set (u32 4 GiB - 1) is rejected, not wrapped")
    void unsignedLength() {
      Recorder r = new Recorder().feedAll(header(FrameType.READ, 0xFFFF_FFFFL));
      assertThat(r.errors).hasSize(1);
      assertThat(r.errors.get(0)).hasMessageContaining("4294967295");
    }

    @Test
    @DisplayName("headers at exactly the limits wait for their payload instead of failing")
    void limitsWait() {
      Recorder data = new Recorder().feedAll(header(FrameType.DATA, Frames.BLOCK_SIZE));
      Recorder control = new Recorder()
          .feedAll(header(FrameType.WRITE_OPEN, Frames.MAX_CONTROL_PAYLOAD));
      for (Recorder r : List.of(data, control)) {
        assertThat(r.errors).isEmpty();
        assertThat(r.events).isEmpty();
        assertThat(r.decoder.buffered()).isEqualTo(Frames.HEADER_SIZE);
      }
    }

    @Test
    @DisplayName("an error inside a split stream stops decoding: later valid frames are dropped")
    void errorMidStream() {
      Stream s = smallStream(9);
      byte[] good = s.bytes();
      byte[] bad = goodFrame();
      bad[0] = 0x55;
      byte[] wire = concat(good, bad, good);
      Random random = new Random(9);
      Recorder r = new Recorder().feedInPieces(wire, random, 700);
      assertThat(r.errors).hasSize(1);
      assertThat(r.events).containsExactlyElementsOf(s.expected);
      assertThat(r.afterError).isEmpty();
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("in pooled mode (Netty's buffers, reference counted)")
  class Pooled {

    @ParameterizedTest(name = "owned raw runs: {0}")
    @ValueSource(booleans = {false, true})
    @DisplayName("split at every offset yields the same events and gives every buffer back")
    void everySplit(boolean ownedRuns) {
      Stream s = smallStream(ownedRuns ? 40 : 30);
      byte[] wire = s.bytes();
      for (int cut = 0; cut <= wire.length; cut++) {
        Recorder r = new Recorder(true, ownedRuns).feed(wire, 0, cut).feed(wire, cut, wire.length);
        assertThat(r.errors).as("split at %d", cut).isEmpty();
        assertThat(r.events).as("split at %d", cut).containsExactlyElementsOf(s.expected);
        assertThat(r.decoder.buffered()).as("split at %d", cut).isZero();
        r.assertAllReleased();
      }
    }

    @ParameterizedTest(name = "owned raw runs: {0}")
    @ValueSource(booleans = {false, true})
    @DisplayName("random piece sizes and single bytes yield the same events, all given back")
    void randomPieces(boolean ownedRuns) {
      for (long seed = 0; seed < 12; seed++) {
        Stream s = bigStream((ownedRuns ? 400 : 300) + seed);
        byte[] wire = s.bytes();
        Random random = new Random(seed);
        int maxPiece = seed % 3 == 0 ? 7 : seed % 3 == 1 ? 20 : 150_000;
        Recorder r = new Recorder(true, ownedRuns).feedInPieces(wire, random, maxPiece);
        assertThat(r.errors).as("seed %d", seed).isEmpty();
        assertThat(r.events).as("seed %d", seed).containsExactlyElementsOf(s.expected);
        r.assertAllReleased();
      }
    }

    @Test
    @DisplayName("a DATA payload taken over stays readable after its input was consumed")
    void takenPayloadOutlivesInput() {
      Stream s = new Stream(31).data(Frames.BLOCK_SIZE).data(Frames.BLOCK_SIZE).data(100);
      byte[] wire = s.bytes();
      Recorder r = new Recorder(true);
      List<ByteBuf> taken = new ArrayList<>();
      r.decoder.frameHandler(f -> taken.add(f.takePayload()));
      // Pieces that cut every frame, so payloads span pieces (composites) and share them.
      for (int pos = 0; pos < wire.length; pos += 40_000) {
        r.feed(wire, pos, Math.min(wire.length, pos + 40_000));
      }
      assertThat(taken).hasSize(3);
      r.decoder.close();
      for (int i = 0; i < 3; i++) {
        byte[] got = new byte[taken.get(i).readableBytes()];
        taken.get(i).getBytes(taken.get(i).readerIndex(), got);
        assertThat(new Event(FrameType.DATA, got)).isEqualTo(s.expected.get(i));
      }
      assertThat(r.fed).anyMatch(b -> b.refCnt() > 0);
      taken.forEach(ByteBuf::release);
      r.assertAllReleased();
    }

    @Test
    @DisplayName("a malformed frame, or closing while paused, gives back everything held")
    void failureAndClose() {
      Stream s = smallStream(32);
      byte[] wire = s.bytes();
      byte[] bad = Arrays.copyOf(wire, wire.length + 20);
      bad[wire.length] = 0x11; // not the magic byte
      Recorder r = new Recorder(true).feed(bad, 0, 5000).feed(bad, 5000, bad.length);
      assertThat(r.errors).hasSize(1);
      assertThat(r.events).containsExactlyElementsOf(s.expected);
      r.feed(wire, 0, 100); // ignored after the failure, and given back
      r.assertAllReleased();

      Recorder p = new Recorder(true);
      p.decoder.pause();
      p.feed(wire, 0, 3000).feed(wire, 3000, wire.length);
      assertThat(p.decoder.buffered()).isEqualTo(wire.length);
      p.decoder.close();
      assertThat(p.decoder.buffered()).isZero();
      p.feed(wire, 0, 10);
      p.assertAllReleased();
      assertThat(p.events).isEmpty();
    }
  }

  @Nested
  @DisplayName("pooled runs (chunk reads passed on without a copy)")
  class PooledRuns {

    @Test
    @DisplayName("runs kept by their handler outlive their input; a raw handler set later gets copies")
    void keptRuns() {
      Stream s = new Stream(41).readOk(3 * Frames.BLOCK_SIZE, Frames.BLOCK_SIZE);
      byte[] wire = s.bytes();
      Recorder r = new Recorder(false, true);
      List<ByteBuf> kept = new ArrayList<>();
      r.decoder.ownedRawHandler(kept::add);
      for (int pos = 0; pos < wire.length; pos += 50_000) {
        r.feed(wire, pos, Math.min(wire.length, pos + 50_000));
      }
      r.decoder.close();
      assertThat(r.fed).anyMatch(b -> b.refCnt() > 0);
      java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
      for (ByteBuf b : kept) {
        byte[] bytes = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), bytes);
        got.writeBytes(bytes);
        b.release();
      }
      assertThat(new Event(null, got.toByteArray())).isEqualTo(s.expected.get(1));
      r.assertAllReleased();

      // rawHandler replaces the owned handler: heap copies, nothing left referenced.
      Recorder h = new Recorder(false, true);
      h.decoder.rawHandler(b -> assertThat(((io.vertx.core.internal.buffer.BufferInternal) b)
          .getByteBuf().isDirect()).isFalse());
      h.feedAll(wire);
      h.assertAllReleased();
    }

    @Test
    @DisplayName("a heap decoder refuses an owned raw handler")
    void heapDecoderRefuses() {
      FrameDecoder d = new FrameDecoder(null);
      assertThat(d.isPooled()).isFalse();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> d.ownedRawHandler(b -> { }))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("pause and resume")
  class PauseResume {

    @Test
    @DisplayName("while paused nothing is emitted; resume emits everything in order")
    void pausedBeforeData() {
      Stream s = smallStream(10);
      byte[] wire = s.bytes();
      Recorder r = new Recorder();
      r.decoder.pause();
      assertThat(r.decoder.isPaused()).isTrue();
      r.feed(wire, 0, wire.length / 2).feed(wire, wire.length / 2, wire.length);
      assertThat(r.events).isEmpty();
      assertThat(r.decoder.buffered()).isEqualTo(wire.length);
      r.decoder.resume();
      assertThat(r.decoder.isPaused()).isFalse();
      assertThat(r.events).containsExactlyElementsOf(s.expected);
      assertThat(r.decoder.buffered()).isZero();
    }

    @Test
    @DisplayName("pausing inside the frame handler stops at that frame, also for later input")
    void pauseFromHandler() {
      Stream s = smallStream(11);
      byte[] wire = s.bytes();
      Recorder r = new Recorder();
      List<Event> seen = new ArrayList<>();
      // Pause after every frame and raw run; resume from the test, one event at a time.
      r.decoder.frameHandler(f -> {
        seen.add(new Event(f.type(), f.payload().getBytes()));
        if (f.type() == FrameType.READ_OK) {
          r.decoder.expectRaw(ReadHeader.decode(f.payload()).count());
        }
        r.decoder.pause();
      });
      r.decoder.rawHandler(b -> {
        seen.add(new Event(null, b.getBytes()));
        r.decoder.pause();
      });
      r.feedAll(wire);
      assertThat(seen).hasSize(1).containsExactly(s.expected.get(0));
      // More input while paused: still nothing.
      r.feedAll(goodEnd());
      assertThat(seen).hasSize(1);
      int guard = 0;
      while (r.decoder.buffered() > 0 && guard++ < 1000) {
        int before = seen.size();
        r.decoder.resume();
        assertThat(seen).hasSize(before + 1);
      }
      // Raw runs are whole here (one input buffer), so events map one to one.
      List<Event> want = new ArrayList<>(s.expected);
      want.add(new Event(FrameType.WRITE_END, new JsonObject().put("length", 1).toBuffer()
          .getBytes()));
      assertThat(seen).containsExactlyElementsOf(want);
      assertThat(r.errors).isEmpty();
    }

    @Test
    @DisplayName("raw bytes are held while paused and released on resume")
    void rawWhilePaused() {
      Stream s = new Stream(12).readOk(5000, 1024).control(FrameType.READ, new JsonObject());
      byte[] wire = s.bytes();
      Recorder r = new Recorder();
      r.decoder.frameHandler(f -> {
        r.events.add(new Event(f.type(), f.payload().getBytes()));
        if (f.type() == FrameType.READ_OK) {
          r.decoder.expectRaw(ReadHeader.decode(f.payload()).count());
          r.decoder.pause();
        }
      });
      r.feedAll(wire);
      assertThat(r.events).hasSize(1);
      assertThat(r.decoder.rawRemaining()).isEqualTo(5000);
      r.decoder.resume();
      assertThat(r.events).containsExactlyElementsOf(s.expected);
      assertThat(r.decoder.rawRemaining()).isZero();
    }

    private byte[] goodEnd() {
      return Frames.encode(FrameType.WRITE_END, new JsonObject().put("length", 1)).getBytes();
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("ReadHeader")
  class ReadHeaders {

    @Test
    @DisplayName("encode/decode round trip keeps every field")
    void roundTrip() {
      int[] crcs = {0x01020304, 0xfffffffe, 0, 0x7fffffff};
      ReadHeader h = new ReadHeader(65_536L * 3, 65_536L * 3 + 5, 1L << 30, 65_536, crcs);
      Buffer encoded = h.encode();
      assertThat(encoded.length()).isEqualTo(32 + 16);
      ReadHeader d = ReadHeader.decode(encoded);
      assertThat(d.start()).isEqualTo(h.start());
      assertThat(d.count()).isEqualTo(h.count());
      assertThat(d.chunkLength()).isEqualTo(1L << 30);
      assertThat(d.blockSize()).isEqualTo(65_536);
      assertThat(d.crcs()).containsExactly(crcs);
      // Big-endian layout as documented.
      assertThat(encoded.getLong(0)).isEqualTo(65_536L * 3);
      assertThat(encoded.getInt(28)).isEqualTo(4);
      assertThat(encoded.getInt(32 + 4)).isEqualTo(0xfffffffe);
    }

    @Test
    @DisplayName("a header announcing zero bytes has no checksums")
    void empty() {
      ReadHeader d = ReadHeader.decode(new ReadHeader(0, 0, 0, 1024, new int[0]).encode());
      assertThat(d.count()).isZero();
      assertThat(d.crcs()).isEmpty();
    }

    @Test
    @DisplayName("inconsistent or truncated headers are rejected with FrameException")
    void rejects() {
      Buffer good = new ReadHeader(0, 2048, 4096, 1024, new int[] {1, 2}).encode();
      assertThat(ReadHeader.decode(good).crcs()).containsExactly(1, 2);

      assertThatThrownBy(() -> ReadHeader.decode(good.getBuffer(0, 31)))
          .isInstanceOf(FrameException.class).hasMessageContaining("too short");
      // One checksum missing from the end.
      assertThatThrownBy(() -> ReadHeader.decode(good.getBuffer(0, good.length() - 4)))
          .isInstanceOf(FrameException.class).hasMessageContaining("inconsistent");
      // Trailing bytes.
      assertThatThrownBy(() -> ReadHeader.decode(good.copy().appendInt(3)))
          .isInstanceOf(FrameException.class);
      // Count needs 3 blocks but 2 checksums are given.
      assertThatThrownBy(() -> ReadHeader.decode(good.copy().setLong(8, 2049)))
          .isInstanceOf(FrameException.class);
      // Count needs 1 block but 2 checksums are given.
      assertThatThrownBy(() -> ReadHeader.decode(good.copy().setLong(8, 1024)))
          .isInstanceOf(FrameException.class);
      assertThatThrownBy(() -> ReadHeader.decode(good.copy().setLong(8, -1)))
          .isInstanceOf(FrameException.class);
      assertThatThrownBy(() -> ReadHeader.decode(good.copy().setLong(8, Long.MAX_VALUE)))
          .isInstanceOf(FrameException.class);
      assertThatThrownBy(() -> ReadHeader.decode(good.copy().setInt(24, 0)))
          .isInstanceOf(FrameException.class);
      assertThatThrownBy(() -> ReadHeader.decode(good.copy().setInt(24, -1024)))
          .isInstanceOf(FrameException.class);
      assertThatThrownBy(() -> ReadHeader.decode(good.copy().setInt(28, -1)))
          .isInstanceOf(FrameException.class);
      assertThatThrownBy(() -> ReadHeader.decode(good.copy().setInt(28, 3)))
          .isInstanceOf(FrameException.class);
    }
  }

  @Test
  @DisplayName("FrameType codes map both ways; unknown codes are null")
  void frameTypeCodes() {
    for (FrameType t : FrameType.values()) {
      assertThat(FrameType.of(t.code())).isSameAs(t);
    }
    assertThat(FrameType.of(0)).isNull();
    assertThat(FrameType.of(11)).isNull();
    assertThat(FrameType.of(16)).isNull();
    assertThat(FrameType.of(-1)).isNull();
    assertThat(FrameType.DATA.json()).isFalse();
    assertThat(FrameType.READ_OK.json()).isFalse();
    assertThat(FrameType.WRITE_OPEN.json()).isTrue();
    assertThat(Frames.maxPayload(FrameType.DATA)).isEqualTo(64 * 1024);
    assertThat(Frames.maxPayload(FrameType.ERROR)).isEqualTo(1024 * 1024);
  }

  @Test
  @DisplayName("Frames.header lays out magic, version, type, flags, length and CRC big-endian")
  void headerLayout() {
    byte[] h = Frames.header(FrameType.READ_OK, 0x01020304, 0xA1B2C3D4).getBytes();
    assertThat(HexFormat.of().formatHex(h)).isEqualTo("a7010600" + "01020304" + "a1b2c3d4");
  }
}
