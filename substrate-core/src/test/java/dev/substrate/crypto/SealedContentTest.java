package dev.substrate.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class SealedContentTest {

    private static final SecretKey KEY = new SecretKeySpec(MasterKeys.newKey(), "AES");
    private static final String KEY_ID = "0123456789abcdef";

    @Test
    void contentOfAnyLengthOpensWholeAndByRange() throws IOException {
        Random random = new Random(39);
        int s = SealedContent.SEGMENT;
        for (int length : new int[] {0, 1, 100, s - 1, s, s + 1, 2 * s, 3 * s + 17}) {
            byte[] plain = new byte[length];
            random.nextBytes(plain);
            byte[] sealed = seal(plain, "room:a");
            assertThat(sealed.length).as("sealed size of %d", length).isEqualTo(SealedContent.sealedSize(length));
            assertThat(SealedContent.plainSize(sealed.length)).isEqualTo(length);
            assertThat(SealedContent.isSealed(Arrays.copyOf(sealed, SealedContent.HEADER)))
                    .isTrue();
            assertThat(SealedContent.keyId(sealed)).isEqualTo(KEY_ID);
            if (length == 0) {
                continue;
            }
            assertThat(open(sealed, "room:a", 0, length - 1)).isEqualTo(plain);
            for (int[] range : new int[][] {{0, 0}, {length - 1, length - 1}, {length / 3, 2 * length / 3}}) {
                assertThat(open(sealed, "room:a", range[0], range[1]))
                        .isEqualTo(Arrays.copyOfRange(plain, range[0], range[1] + 1));
            }
        }
    }

    @Test
    void contentDoesNotOpenForAnotherRoomNorCutNorChanged() throws IOException {
        byte[] plain = new byte[2 * SealedContent.SEGMENT + 5];
        byte[] sealed = seal(plain, "room:a");
        assertThatThrownBy(() -> open(sealed, "room:b", 0, plain.length - 1)).isInstanceOf(IOException.class);
        byte[] changed = sealed.clone();
        changed[SealedContent.HEADER + 40] ^= 1;
        assertThatThrownBy(() -> open(changed, "room:a", 0, plain.length - 1)).isInstanceOf(IOException.class);
        // Dropping the last segment makes the one before it the last: its tag says it was not.
        byte[] cut = Arrays.copyOf(sealed, SealedContent.HEADER + 2 * (SealedContent.SEGMENT + SealedContent.OVERHEAD));
        assertThatThrownBy(() -> open(cut, "room:a", 0, 2 * SealedContent.SEGMENT - 1))
                .isInstanceOf(IOException.class);
    }

    private static byte[] seal(byte[] plain, String subject) throws IOException {
        return SealedContent.seal(new ByteArrayInputStream(plain), KEY_ID, KEY, subject)
                .readAllBytes();
    }

    private static byte[] open(byte[] sealed, String subject, long first, long last) throws IOException {
        long start = SealedContent.sealedStart(first);
        byte[] from = Arrays.copyOfRange(sealed, (int) start, sealed.length);
        return SealedContent.open(new ByteArrayInputStream(from), KEY, subject, sealed.length, first, last)
                .readAllBytes();
    }
}
