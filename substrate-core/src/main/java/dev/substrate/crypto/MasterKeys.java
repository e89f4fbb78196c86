package dev.substrate.crypto;

import dev.substrate.config.InvalidConfiguration;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The master keys of {@code encryption.master.key.file}: the first wraps new content keys, every one unwraps what it
 * wrapped. Wrapping is AES-256-GCM (the JDK's) with a fresh 96-bit nonce, bound to the content key's subject and id.
 */
final class MasterKeys {

    private static final Pattern LINE = Pattern.compile("([A-Za-z0-9._-]{1,64})=([A-Za-z0-9+/=_-]{40,})");
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * One cipher per thread, initialised again for each text (a fresh nonce each time): {@code Cipher.getInstance} per
     * text cost about 20 us of the 22 a 30-character delta took to seal; reused, a seal takes 2-4 us (measured here).
     */
    private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JDK", e);
        }
    });

    private final Map<String, SecretKey> keys;
    private final String current;

    private MasterKeys(Map<String, SecretKey> keys) {
        this.keys = keys;
        this.current = keys.keySet().iterator().next();
    }

    /** The keys of {@code file}; a clear {@link InvalidConfiguration} when it cannot be read or holds none. */
    static MasterKeys read(String setting, Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidConfiguration(setting, "cannot read " + file + ": " + e.getMessage(), null);
        }
        Map<String, SecretKey> keys = new LinkedHashMap<>();
        for (String line : lines) {
            String text = line.strip();
            if (text.isEmpty() || text.startsWith("#")) {
                continue;
            }
            var matcher = LINE.matcher(text);
            byte[] key;
            try {
                key = matcher.matches() ? decode(matcher.group(2)) : new byte[0];
            } catch (IllegalArgumentException e) {
                key = new byte[0];
            }
            if (key.length != 32) {
                throw new InvalidConfiguration(
                        setting, file + " holds a line that is not id=<base64 of 32 bytes> (keys are not shown)", null);
            }
            keys.putIfAbsent(matcher.group(1), new SecretKeySpec(key, "AES"));
        }
        if (keys.isEmpty()) {
            throw new InvalidConfiguration(setting, file + " holds no key (one id=<base64 of 32 bytes> a line)", null);
        }
        return new MasterKeys(keys);
    }

    /** The id of the key that wraps new content keys. */
    String current() {
        return current;
    }

    /** Whether {@code id} is one of these keys. */
    boolean has(String id) {
        return keys.containsKey(id);
    }

    /** {@code contentKey} wrapped by the current master key for {@code subject}'s key {@code keyId}. */
    byte[] wrap(byte[] contentKey, String subject, String keyId) {
        return seal(keys.get(current), contentKey, aad(subject, keyId));
    }

    /** The content key {@code wrapped} by master key {@code masterId}; fails when it is not this subject's. */
    byte[] unwrap(String masterId, byte[] wrapped, String subject, String keyId) throws GeneralSecurityException {
        SecretKey master = keys.get(masterId);
        if (master == null) {
            throw new GeneralSecurityException("master key " + masterId + " is not in the key file");
        }
        return open(master, wrapped, aad(subject, keyId));
    }

    private static byte[] aad(String subject, String keyId) {
        return ("substrate-content-key\0" + subject + "\0" + keyId).getBytes(StandardCharsets.UTF_8);
    }

    /** AES-GCM of {@code plain} under {@code key}: nonce (12 bytes), then ciphertext and tag. */
    static byte[] seal(SecretKey key, byte[] plain, byte[] aad) {
        try {
            byte[] nonce = new byte[12];
            RANDOM.nextBytes(nonce);
            Cipher cipher = CIPHER.get();
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
            cipher.updateAAD(aad);
            byte[] sealed = cipher.doFinal(plain);
            byte[] out = new byte[nonce.length + sealed.length];
            System.arraycopy(nonce, 0, out, 0, nonce.length);
            System.arraycopy(sealed, 0, out, nonce.length, sealed.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JDK", e);
        }
    }

    /** The plain bytes of what {@link #seal} wrote; fails when the key, the data or the AAD differ. */
    static byte[] open(SecretKey key, byte[] sealed, byte[] aad) throws GeneralSecurityException {
        if (sealed.length < 12 + 16) {
            throw new GeneralSecurityException("too short to be sealed");
        }
        Cipher cipher = CIPHER.get();
        cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, sealed, 0, 12));
        cipher.updateAAD(aad);
        return cipher.doFinal(sealed, 12, sealed.length - 12);
    }

    /** A fresh random 256-bit key. */
    static byte[] newKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return key;
    }

    private static byte[] decode(String text) {
        return text.contains("-") || text.contains("_")
                ? Base64.getUrlDecoder().decode(text)
                : Base64.getDecoder().decode(text);
    }
}
