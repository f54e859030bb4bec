package io.vgfs.protocol;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ListPageTest {

  private static List<FileInfo> files(int n, long seed) {
    Random r = new Random(seed);
    List<FileInfo> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new FileInfo("dir/ü-" + i + "/€ file " + r.nextInt(), "f-" + Long.toHexString(r.nextLong()),
          r.nextLong() & Long.MAX_VALUE, r.nextLong(), r.nextLong(), r.nextInt(), null));
    }
    return out;
  }

  @Test
  @DisplayName("a page survives the trip through a JSON reply (base64), every field and the order")
  void roundTripThroughJson() {
    List<FileInfo> files = files(1000, 7);
    files.add(new FileInfo("x".repeat(PathRules.MAX_PATH_BYTES), "f-long", 0, 0, 0, 0, null));
    JsonObject reply = new JsonObject().put("page", ListPage.encode(files));
    JsonObject received = new JsonObject(reply.toBuffer()); // as a remote client parses it
    assertThat(ListPage.decode(received.getBuffer("page"))).isEqualTo(files);
    assertThat(ListPage.decode(reply.copy().getBuffer("page"))).isEqualTo(files); // local delivery
    assertThat(ListPage.decode(ListPage.encode(List.of()))).isEmpty();
  }

  @Test
  @DisplayName("chunks are left out, as in the JSON summary")
  void noChunks() {
    FileInfo f = new FileInfo("a", "f-1", 5, 1, 2, 3,
        List.of(new ChunkRef(1, 1, 5, 3, List.of())));
    assertThat(ListPage.decode(ListPage.encode(List.of(f)))).containsExactly(f.withChunks(List.of()));
  }

  @Test
  @DisplayName("a truncated, padded or lying page fails with INTERNAL instead of yielding files")
  void malformed() {
    Buffer whole = ListPage.encode(files(3, 1));
    List<Buffer> bad = List.of(
        whole.slice(0, whole.length() - 1),
        whole.copy().appendByte((byte) 0),
        whole.copy().setInt(0, 4),
        whole.copy().setInt(0, -1),
        whole.copy().setInt(0, Integer.MAX_VALUE),
        whole.copy().setUnsignedShort(4, 0xFFFF),
        Buffer.buffer(new byte[3]));
    assertThat(catchThrowableOfType(VgfsException.class, () -> ListPage.decode(null)).code())
        .isEqualTo(ErrorCode.INTERNAL);
    for (Buffer b : bad) {
      VgfsException e = catchThrowableOfType(VgfsException.class, () -> ListPage.decode(b));
      assertThat(e).as("decoding %s", b).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
    }
  }
}
