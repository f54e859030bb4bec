package io.vgfs.gateway;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.client.ListResult;
import io.vgfs.protocol.FileInfo;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ListingJsonTest {

  // The body as the gateway built it before, with JsonObjects: the streamed one must equal it.
  private static JsonObject asObjects(String prefix, ListResult page) {
    JsonArray files = new JsonArray();
    page.files().forEach(f -> files.add(new JsonObject().put("path", f.path())
        .put("size", f.size()).put("modified", f.modified()).put("etag", f.etag())));
    JsonObject body = new JsonObject();
    if (prefix != null) {
      body.put("prefix", prefix);
    }
    body.put("files", files).put("truncated", page.truncated());
    return page.next() == null ? body : body.put("next", page.next());
  }

  @Test
  @DisplayName("a streamed listing equals the JsonObject one, field order and escaping included")
  void sameAsObjects() {
    List<FileInfo> files = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      files.add(new FileInfo("d/\"quoted\" \\ é 漢 \u0001/f" + i, "f-" + i, i * 1_000_003L,
          1_700_000_000_000L + i, 1_700_000_000_000L + 2L * i, i * 7919, null));
    }
    for (ListResult page : List.of(new ListResult(files, true, files.get(999).path()),
        new ListResult(files.subList(0, 3), false, null), new ListResult(List.of(), false, null))) {
      for (String prefix : new String[] {"d/", "", null}) {
        String streamed = ListingJson.render(prefix, page).toString();
        assertThat(streamed).isEqualTo(asObjects(prefix, page).encode());
        assertThat(new JsonObject(streamed)).isEqualTo(asObjects(prefix, page));
      }
    }
  }
}
