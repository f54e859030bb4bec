package io.vgfs.chunkserver;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Indexes the replicas in {@code chunks/} when a {@link ChunkStore} opens: a chunk is valid when
 * its checksums (a {@code .meta} file, else its data file's {@link MetaAttribute}) cover exactly
 * its data. Invalid leftovers of interrupted writes and deletions are removed; data whose
 * attribute cannot be read is kept, unindexed, since an error is not a missing checksum. With
 * attributes switched off, chunks that have only the attribute get a {@code .meta} file after
 * the scan. Blocking; runs once, on one thread.
 */
final class StartupScan {

  private static final Logger log = LoggerFactory.getLogger(StartupScan.class);

  private enum Found { INDEXED, ABSENT, UNREADABLE }

  private final ChunkStore store;
  private final boolean readAttributes;
  private final boolean convert;
  private final Map<Long, ChunkMeta> toConvert = new LinkedHashMap<>();
  private int invalid;
  private int unreadable;

  StartupScan(ChunkStore store, boolean readAttributes, boolean checksumAttributes) {
    this.store = store;
    this.readAttributes = readAttributes;
    this.convert = readAttributes && !checksumAttributes;
  }

  int invalid() {
    return invalid;
  }

  int unreadable() {
    return unreadable;
  }

  void run(Path chunks) throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(chunks)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (name.endsWith(".meta")) {
          if (!indexByMetaFile(f)) {
            invalid++;
          }
        } else if (name.endsWith(".chunk")
            && !Files.exists(f.resolveSibling(name.replace(".chunk", ".meta")))) {
          switch (indexByAttribute(f)) {
            case INDEXED -> { }
            case UNREADABLE -> unreadable++;
            case ABSENT -> {
              log.warn("removing chunk data without checksums: {}", f);
              Files.deleteIfExists(f);
              invalid++;
            }
          }
        }
      }
    }
    // After the scan: a file created during it could be listed by it.
    writeMetaFiles();
  }

  private boolean indexByMetaFile(Path metaFile) throws IOException {
    String name = metaFile.getFileName().toString();
    Path data = metaFile.resolveSibling(name.replace(".meta", ".chunk"));
    try {
      long id = Long.parseUnsignedLong(name.substring(0, name.length() - 5), 16);
      ChunkMeta meta = ChunkMeta.decode(Files.readAllBytes(metaFile));
      long size = Files.size(data);
      if (size != meta.length()) {
        throw new IOException("data file is " + size + " bytes, checksums cover " + meta.length());
      }
      store.indexed(id, meta);
      return true;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(metaFile);
      Found found = Files.exists(data) ? indexByAttribute(data) : Found.ABSENT;
      if (found == Found.INDEXED) {
        log.warn("invalid {} ({}): the chunk's attribute holds its checksums", metaFile,
            e.toString());
        return true;
      } else if (found == Found.UNREADABLE) {
        return false; // the data is kept
      }
      log.warn("removing invalid chunk {}: {}", metaFile, e.toString());
      Files.deleteIfExists(data);
      return false;
    }
  }

  // A data file without a usable .meta file: valid if its attribute holds this chunk's checksums.
  private Found indexByAttribute(Path data) {
    if (!readAttributes) {
      return Found.ABSENT;
    }
    String name = data.getFileName().toString();
    long id;
    try {
      id = Long.parseUnsignedLong(name.substring(0, name.length() - 6), 16);
    } catch (RuntimeException e) {
      return Found.ABSENT;
    }
    ChunkMeta meta;
    long size;
    try {
      meta = MetaAttribute.read(data, id);
      size = Files.size(data);
    } catch (IOException | RuntimeException e) {
      log.warn("keeping {} unindexed: its checksums could not be read: {}", data, e.toString());
      return Found.UNREADABLE;
    }
    if (meta == null || size != meta.length()) {
      return Found.ABSENT;
    }
    store.indexed(id, meta);
    if (convert) {
      toConvert.put(id, meta);
    }
    return Found.INDEXED;
  }

  // .meta files for chunks whose checksums are only in an attribute, which builds without
  // attributes need; a chunk whose .meta file cannot be written keeps its attribute.
  private void writeMetaFiles() {
    int done = 0;
    for (Map.Entry<Long, ChunkMeta> e : toConvert.entrySet()) {
      try {
        store.writeMetaFile(e.getKey(), e.getValue());
        done++;
      } catch (IOException ex) {
        log.warn("chunk {} keeps its checksums in its attribute only: {}",
            ChunkStore.hex(e.getKey()), ex.toString());
      }
    }
    if (done > 0) {
      try {
        store.dirSyncer().sync();
      } catch (IOException ex) {
        log.warn("syncing the chunk directory after writing .meta files failed: {}",
            ex.toString());
      }
      log.info("wrote .meta files for {} chunks whose checksums were in attributes", done);
    }
  }
}
