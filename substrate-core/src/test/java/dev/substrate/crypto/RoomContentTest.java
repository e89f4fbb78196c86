package dev.substrate.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.substrate.config.InvalidConfiguration;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.LogLevel;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.TextDelta;
import dev.substrate.schemas.TrustedEventClasses;
import dev.substrate.testing.SampleEvents;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoomContentTest {

    static {
        TrustedEventClasses.register();
    }

    /** Seals as a marked, reversed text: what matters here is which fields are sealed, not how. */
    private static final UnaryOperator<String> SEAL = text -> "\u0001" + new StringBuilder(text).reverse() + "\u0001";

    private static final UnaryOperator<String> OPEN = text -> text.indexOf('\u0001') < 0
            ? text
            : new StringBuilder(text.replace("\u0001", "")).reverse().toString();

    @TempDir
    Path dir;

    @Test
    void theContentOfARoomEventIsSealedAndItsIdsKindsAndKeysStayClear() {
        RoomEvent started = SampleEvents.roomEvent(
                "room-1",
                BlockStarted.newBuilder()
                        .setBlockId("b1")
                        .setKind("tool_result")
                        .setRole("tool")
                        .setMetadata(Map.of("toolCallId", "secret call"))
                        .build());
        BlockStarted sealed = (BlockStarted) RoomContent.seal(started, SEAL).getPayload();
        assertThat(sealed.getBlockId()).isEqualTo("b1");
        assertThat(sealed.getKind()).isEqualTo("tool_result");
        assertThat(sealed.getMetadata()).containsOnlyKeys("toolCallId");
        assertThat(sealed.getMetadata().get("toolCallId"))
                .isNotEqualTo("secret call")
                .contains("\u0001");

        for (Object payload : new Object[] {
            new TextDelta("b1", "secret delta"),
            new BlockCompleted("b1", "secret block"),
            new LogEmitted(LogLevel.info, "secret line"),
            new MetadataUpdated(Map.of("note", "secret note"))
        }) {
            RoomEvent event = SampleEvents.roomEvent("room-1", payload);
            RoomEvent roomSealed = RoomContent.seal(event, SEAL);
            assertThat(roomSealed.toString()).doesNotContain("secret").contains("terces");
            assertThat(roomSealed.getEventId()).isEqualTo(event.getEventId());
            assertThat(RoomContent.open(roomSealed, OPEN)).isEqualTo(event);
        }
        RoomEvent plain = SampleEvents.roomEvent("room-1", new TextDelta("b1", "nothing sealed"));
        assertThat(RoomContent.open(plain, OPEN)).isSameAs(plain);
    }

    @Test
    void aMasterKeyWrapsAContentKeyForOneSubjectAndKeyAlone() throws Exception {
        MasterKeys keys = MasterKeys.read("encryption.master.key.file", keyFile("k2", "k1"));
        assertThat(keys.current()).isEqualTo("k2");
        byte[] content = MasterKeys.newKey();
        byte[] wrapped = keys.wrap(content, "room:a", "key-1");
        assertThat(keys.unwrap("k2", wrapped, "room:a", "key-1")).isEqualTo(content);
        assertThatThrownBy(() -> keys.unwrap("k2", wrapped, "room:b", "key-1"))
                .isInstanceOf(GeneralSecurityException.class);
        assertThatThrownBy(() -> keys.unwrap("k1", wrapped, "room:a", "key-1"))
                .isInstanceOf(GeneralSecurityException.class);
        assertThatThrownBy(() -> keys.unwrap("k9", wrapped, "room:a", "key-1"))
                .isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void aKeyFileThatHoldsNoGoodKeyIsRefusedWithoutShowingIt() throws Exception {
        Path empty = dir.resolve("empty.keys");
        Files.writeString(empty, "# nothing\n");
        assertThatThrownBy(() -> MasterKeys.read("encryption.master.key.file", empty))
                .isInstanceOf(InvalidConfiguration.class)
                .hasMessageContaining("holds no key");
        Path shortKey = dir.resolve("short.keys");
        String secret = Base64.getEncoder().encodeToString("sixteen byte key".getBytes(StandardCharsets.UTF_8));
        Files.writeString(shortKey, "k1=" + secret + "\n");
        assertThatThrownBy(() -> MasterKeys.read("encryption.master.key.file", shortKey))
                .isInstanceOf(InvalidConfiguration.class)
                .hasMessageNotContaining(secret);
        assertThatThrownBy(() -> MasterKeys.read("encryption.master.key.file", dir.resolve("missing.keys")))
                .isInstanceOf(InvalidConfiguration.class)
                .hasMessageContaining("cannot read");
    }

    private Path keyFile(String... ids) throws Exception {
        StringBuilder lines = new StringBuilder();
        for (String id : ids) {
            lines.append(id)
                    .append('=')
                    .append(Base64.getEncoder().encodeToString(MasterKeys.newKey()))
                    .append('\n');
        }
        Path file = dir.resolve("master.keys");
        Files.writeString(file, lines);
        return file;
    }
}
