package io.vgfs.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * A committed file. JSON (the shape of stat, lookup, commit and list replies):
 * <pre>{"path": "a/b.txt", "id": "f-…", "size": 5, "created": 1700000000000,
 *  "modified": 1700000000000, "crc32c": "0a1b2c3d", "etag": "\"…\"", "chunks": [ChunkRef…]}</pre>
 * {@code id} is unique per committed version of the path (a replacement gets a new one);
 * {@code crc32c} is the CRC32C of the whole content; {@code chunks} is omitted in listings.
 */
public record FileInfo(String path, String id, long size, long created, long modified, int crc32c,
                       List<ChunkRef> chunks) {

  public FileInfo {
    chunks = chunks == null ? List.of() : List.copyOf(chunks);
  }

  /**
   * The HTTP entity tag: the content's CRC32C and size, so equal bytes give equal tags whichever
   * upload wrote them. 64 bits of content identity; two different contents of the same size
   * collide with probability 2^-32, which is why conditional writes also compare the size.
   */
  public String etag() {
    return "\"" + Crc32c.hex(crc32c) + "-" + Long.toHexString(size) + "\"";
  }

  public FileInfo withChunks(List<ChunkRef> c) {
    return new FileInfo(path, id, size, created, modified, crc32c, c);
  }

  public FileInfo withPath(String p) {
    return new FileInfo(p, id, size, created, modified, crc32c, chunks);
  }

  public JsonObject toJson() {
    JsonObject json = summaryJson();
    JsonArray arr = new JsonArray();
    chunks.forEach(c -> arr.add(c.toJson()));
    return json.put("chunks", arr);
  }

  /** The listing form: everything but the chunks. */
  public JsonObject summaryJson() {
    return new JsonObject().put("path", path).put("id", id).put("size", size)
        .put("created", created).put("modified", modified).put("crc32c", Crc32c.hex(crc32c))
        .put("etag", etag());
  }

  public static FileInfo fromJson(JsonObject json) {
    List<ChunkRef> chunks = new ArrayList<>();
    JsonArray arr = json.getJsonArray("chunks");
    if (arr != null) {
      for (int i = 0; i < arr.size(); i++) {
        chunks.add(ChunkRef.fromJson(arr.getJsonObject(i)));
      }
    }
    return new FileInfo(json.getString("path"), json.getString("id"), json.getLong("size"),
        json.getLong("created", 0L), json.getLong("modified", 0L),
        Crc32c.parseHex(json.getString("crc32c", "0")), chunks);
  }
}
