package dev.substrate.api.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signature of the Standard Webhooks specification: {@code v1,} and the base64 of HMAC-SHA256, keyed by the
 * subscription's secret, of {@code <webhook-id>.<webhook-timestamp>.<body>}. A receiver checks it with any of the
 * specification's libraries ({@code standardwebhooks} on npm, say) given the {@code whsec_} secret.
 */
final class WebhookSignature {

    private WebhookSignature() {}

    /** The {@code webhook-signature} header of {@code body}, sent as message {@code id} at {@code epochSeconds}. */
    static String sign(byte[] secret, String id, long epochSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((id + "." + epochSeconds + ".").getBytes(StandardCharsets.UTF_8));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }
}
