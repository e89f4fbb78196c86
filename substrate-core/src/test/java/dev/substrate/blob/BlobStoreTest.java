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

    private long files() throws Exception {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).count();
        }
    }

    private static InputStream bytes(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }
}
