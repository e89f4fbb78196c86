package dev.substrate.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobStoreTest {

    private static final String HELLO_SHA256 =
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    @TempDir
    Path dir;

    @Test
    void keepsBytesUnderTheirDigestOnce() throws Exception {
        BlobStore store = new BlobStore(dir);
        BlobStore.Blob blob = store.put(bytes("hello"), 100, null);
        BlobStore.Blob again = store.put(bytes("hello"), 100, HELLO_SHA256);

        assertThat(blob).isEqualTo(new BlobStore.Blob(HELLO_SHA256, 5)).isEqualTo(again);
        assertThat(blob.locator()).isEqualTo("blob:" + HELLO_SHA256);
        assertThat(BlobStore.digestOf(blob.locator())).contains(HELLO_SHA256);
        assertThat(store.find(HELLO_SHA256)).contains(blob);
        try (InputStream in = store.open(blob)) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("hello");
        }
        assertThat(files()).isEqualTo(1);
    }

    @Test
    void refusesOversizedAndMismatchedContentKeepingNothing() throws Exception {
        BlobStore store = new BlobStore(dir);
        assertThatThrownBy(() -> store.put(bytes("hello world"), 5, null))
                .isInstanceOf(BlobRefused.class)
                .hasMessageContaining("limit of 5 bytes")
                .matches(e -> ((BlobRefused) e).tooLarge());
        assertThatThrownBy(() -> store.put(bytes("hullo"), 100, HELLO_SHA256))
                .isInstanceOf(BlobRefused.class)
                .hasMessageContaining("not the " + HELLO_SHA256)
                .matches(e -> !((BlobRefused) e).tooLarge());
        assertThatThrownBy(() -> store.put(bytes("hello"), 100, "md5:abc")).isInstanceOf(BlobRefused.class);
        assertThat(files()).isZero();
        assertThat(store.find(HELLO_SHA256)).isEmpty();
        assertThat(store.find("../../etc/passwd")).isEmpty();
        assertThat(BlobStore.digestOf("https://example.com/x")).isEmpty();
    }

    @Test
    void anAbortedUploadIsTheWritersFailureAndLeavesNothing() throws Exception {
        BlobStore store = new BlobStore(dir);
        InputStream cutOff = new InputStream() {
            private int sent;

            @Override
            public int read() throws java.io.IOException {
                if (sent++ >= 70_000) {
                    throw new java.io.EOFException("early EOF");
                }
                return 'x';
            }
        };
        assertThatThrownBy(() -> store.put(cutOff, 1_000_000, null))
                .isInstanceOf(BlobRefused.class)
                .hasMessageContaining("before its end")
                .matches(e -> ((BlobRefused) e).reason() == BlobRefused.Reason.INCOMPLETE)
                .matches(e -> ((BlobRefused) e).isRetriable());
        assertThat(files()).isZero();
    }

    @Test
    void refusesWhatWouldPassTheQuotaAndKeepsWhatFits() throws Exception {
        BlobStore store = new BlobStore(dir, 8);
        store.put(bytes("hello"), 100, null);
        assertThatThrownBy(() -> store.put(bytes("world"), 100, null))
                .isInstanceOf(BlobRefused.class)
                .hasMessageContaining("quota of 8")
                .matches(e -> ((BlobRefused) e).reason() == BlobRefused.Reason.QUOTA);
        assertThat(store.put(bytes("hello"), 100, null).digest())
                .as("the same bytes again take no room")
                .isEqualTo(HELLO_SHA256);
        assertThatThrownBy(() -> store.requireRoomFor(4)).isInstanceOf(BlobRefused.class);
        store.requireRoomFor(3);
        assertThat(files()).isEqualTo(1);
    }

    @Test
    void sweepsPartialUploadsTheirWritersAbandonedButNotOnesUnderWay() throws Exception {
        Path incoming = Files.createDirectories(dir.resolve("incoming"));
        Path abandoned = Files.writeString(incoming.resolve("blob1.part"), "half");
        Files.setLastModifiedTime(
                abandoned,
                java.nio.file.attribute.FileTime.from(
                        java.time.Instant.now().minus(BlobStore.ABANDONED).minusSeconds(60)));
        Path underWay = Files.writeString(incoming.resolve("blob2.part"), "half");

        new BlobStore(dir);

        assertThat(abandoned).doesNotExist();
        assertThat(underWay).exists();
    }

    private long files() throws Exception {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).count();
        }
    }

    private static InputStream bytes(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }
}
