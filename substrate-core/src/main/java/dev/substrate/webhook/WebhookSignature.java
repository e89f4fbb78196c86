package dev.substrate.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signature of the Standard Webhooks specification: {@code v1,} and the base64 of HMAC-SHA256, keyed by the
 * subscription's secret, of {@code <webhook-id>.<webhook-timestamp>.<body>}. Substrate signs every delivery so; a
 * receiver checks it with any of the specification's libraries ({@code standardwebhooks} on npm, say) given the
 * {@code whsec_} secret, or with {@link #verify}.
 */
public final class WebhookSignature {

    /** How far a delivery's timestamp may be from the receiver's clock, as the specification's libraries allow. */
    public static final Duration TOLERANCE = Duration.ofMinutes(5);

    private static final String SECRET_PREFIX = "whsec_";

    private WebhookSignature() {}

    /** The secret's bytes, from its {@code whsec_} form (or bare base64). */
    public static byte[] secretBytes(String secret) {
        return Base64.getDecoder()
                .decode(secret.startsWith(SECRET_PREFIX) ? secret.substring(SECRET_PREFIX.length()) : secret);
    }

    /** The {@code whsec_} form of a secret. */
    public static String secretText(byte[] secret) {
        return SECRET_PREFIX + Base64.getEncoder().encodeToString(secret);
    }

    /** The {@code webhook-signature} header of {@code body}, sent as message {@code id} at {@code epochSeconds}. */
    public static String sign(byte[] secret, String id, long epochSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((id + "." + epochSeconds + ".").getBytes(StandardCharsets.UTF_8));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }

    /**
     * Whether a delivery's headers sign {@code body} with {@code secret}, at a timestamp within {@link #TOLERANCE} of
     * {@code now}: one of the space-separated {@code v1,} signatures matches, compared in constant time.
     */
    public static boolean verify(
            byte[] secret, String id, String timestamp, String signatures, byte[] body, Instant now) {
        if (id == null || timestamp == null || signatures == null) {
            return false;
        }
        long seconds;
        try {
            seconds = Long.parseLong(timestamp);
        } catch (NumberFormatException e) {
            return false;
        }
        if (Math.abs(now.getEpochSecond() - seconds) > TOLERANCE.toSeconds()) {
            return false;
        }
        byte[] expected = sign(secret, id, seconds, body).getBytes(StandardCharsets.UTF_8);
        for (String signature : signatures.split(" ")) {
            if (MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.UTF_8))) {
                return true;
            }
        }
        return false;
    }
}
