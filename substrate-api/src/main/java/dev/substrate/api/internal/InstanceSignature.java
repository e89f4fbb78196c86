package dev.substrate.api.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.Role;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How instances of one application vouch for the requests they forward to each other, in place of relaying the
 * caller's bearer token. The forwarding instance states who the caller is as structured {@link Claims} (principal,
 * roles, projects, token id, expiry) in {@value #CLAIMS}, and signs the claims, the method, the path with its query,
 * the digest of the body and the time with the application's key ({@code cluster.secret}, HMAC-SHA256, {@value
 * #SIGNATURE}). The receiver checks the signature in constant time, refuses one more than {@value #MAX_SKEW_MS} ms
 * from its clock or past the claims' expiry, and then trusts the token id alone: it acts as the token its own store
 * holds under that id, so that a revoked token is refused everywhere and a name with separators in it cannot pass
 * for another principal. A forwarded request is a {@code GET} without a body; nothing else is accepted.
 */
final class InstanceSignature {

    /** The caller a forwarded request acts for: base64url of the JSON of its {@link Claims}. */
    static final String CLAIMS = "X-Substrate-Claims";

    /** {@code t=<epoch ms>,v=<base64url HMAC-SHA256>}. */
    static final String SIGNATURE = "X-Substrate-Signature";

    /** How far a signature's time may be from the receiver's clock, and how long claims are valid. */
    static final long MAX_SKEW_MS = 60_000;

    /** The longest {@value #CLAIMS} header read: a principal, four roles, 32 patterns of 200 characters, an id. */
    private static final int MAX_CLAIMS_CHARS = 16_384;

    /** The SHA-256 of an empty body: a forwarded request has none. */
    private static final String EMPTY_BODY_DIGEST = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final SecretKeySpec key;

    /** @param key the application's key, shared by its instances */
    InstanceSignature(byte[] key) {
        if (key.length < 16) {
            throw new IllegalArgumentException("the cluster key must have at least 16 bytes");
        }
        this.key = new SecretKeySpec(key, "HmacSHA256");
    }

    /**
     * Who a forwarded request acts for, as the forwarding instance found it when it checked the caller's token.
     *
     * @param principal the principal's name, its roles and project patterns
     * @param tokenId the id of the token the caller presented: what the receiver acts as
     * @param expiresAtMs when these claims stop being accepted (epoch ms)
     */
    record Claims(Principal principal, String tokenId, long expiresAtMs) {

        /** The claims for the caller of a request, valid for {@value #MAX_SKEW_MS} ms from {@code nowMs}. */
        static Claims of(Principal principal, String tokenId, long nowMs) {
            return new Claims(principal, tokenId, nowMs + MAX_SKEW_MS);
        }

        /** The {@value #CLAIMS} header's value. */
        String encode() {
            ObjectNode node = JSON.createObjectNode();
            node.put("principal", principal.name());
            principal.roles().stream().map(Role::id).sorted().forEach(node.putArray("roles")::add);
            principal.projects().forEach(node.putArray("projects")::add);
            node.put("tokenId", tokenId);
            node.put("exp", expiresAtMs);
            return Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(node.toString().getBytes(StandardCharsets.UTF_8));
        }

        /**
         * The claims a {@value #CLAIMS} header states.
         *
         * @throws IllegalArgumentException when it is not one this class wrote
         */
        static Claims decode(String header) {
            if (header.length() > MAX_CLAIMS_CHARS) {
                throw new IllegalArgumentException("the claims are longer than " + MAX_CLAIMS_CHARS + " characters");
            }
            JsonNode node;
            try {
                node = JSON.readTree(Base64.getUrlDecoder().decode(header));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("the claims are not JSON", e);
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("the claims cannot be read", e);
            }
            if (node == null
                    || !node.path("principal").isTextual()
                    || !node.path("roles").isArray()
                    || !node.path("tokenId").isTextual()
                    || !node.path("exp").canConvertToLong()) {
                throw new IllegalArgumentException("the claims must hold principal, roles, tokenId and exp");
            }
            Set<Role> roles = EnumSet.noneOf(Role.class);
            node.path("roles").forEach(role -> roles.add(Role.of(role.asText())));
            List<String> projects = new ArrayList<>();
            node.path("projects").forEach(project -> projects.add(project.asText()));
            return new Claims(
                    new Principal(node.path("principal").asText(), roles, projects),
                    node.path("tokenId").asText(),
                    node.path("exp").asLong());
        }
    }

    /**
     * The {@value #SIGNATURE} value for a body-less request of {@code method} to {@code pathAndQuery} for the caller
     * {@code claims} (as encoded).
     */
    String sign(String method, String pathAndQuery, String claims, long nowMs) {
        return "t=" + nowMs + ",v=" + mac(nowMs, method, pathAndQuery, claims, EMPTY_BODY_DIGEST);
    }

    /**
     * The claims of a forwarded request, once its signature checks out; 401 when it is missing, wrong, too old, not
     * a {@code GET} or carries a body (a retry with a fresh request may help only when the clocks disagree).
     */
    Claims verify(Context ctx, long nowMs) {
        String claims = ctx.header(CLAIMS);
        String signature = ctx.header(SIGNATURE);
        if (claims == null || signature == null || !signature.startsWith("t=") || !signature.contains(",v=")) {
            throw Problem.unauthenticated("a forwarded request must be signed by an instance of this application");
        }
        if (!"GET".equals(ctx.method().name()) || ctx.contentLength() > 0 || ctx.header("Transfer-Encoding") != null) {
            throw Problem.unauthenticated("a forwarded request is a GET without a body");
        }
        long time;
        try {
            time = Long.parseLong(signature.substring(2, signature.indexOf(",v=")));
        } catch (NumberFormatException e) {
            throw Problem.unauthenticated("the forwarding signature is malformed");
        }
        String query = ctx.queryString();
        String expected = mac(
                time,
                ctx.method().name(),
                ctx.path() + (query == null || query.isEmpty() ? "" : "?" + query),
                claims,
                EMPTY_BODY_DIGEST);
        String presented = signature.substring(signature.indexOf(",v=") + 3);
        if (!MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.US_ASCII), presented.getBytes(StandardCharsets.US_ASCII))) {
            throw Problem.unauthenticated(
                    "the forwarding signature does not match: the instances must share one cluster.secret");
        }
        if (Math.abs(nowMs - time) > MAX_SKEW_MS) {
            throw Problem.unauthenticated(
                    "the forwarding signature is " + Math.abs(nowMs - time) / 1000 + " s from this"
                            + " instance's clock; instances' clocks must agree within " + MAX_SKEW_MS / 1000 + " s");
        }
        Claims decoded;
        try {
            decoded = Claims.decode(claims);
        } catch (IllegalArgumentException e) {
            throw Problem.unauthenticated("the forwarded caller is malformed: " + e.getMessage());
        }
        if (decoded.expiresAtMs() < nowMs - MAX_SKEW_MS) {
            throw Problem.unauthenticated("the forwarded caller's claims have expired");
        }
        return decoded;
    }

    private String mac(long time, String method, String pathAndQuery, String claims, String bodyDigest) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            byte[] signed = mac.doFinal((time + "\n" + method + "\n" + pathAndQuery + "\n" + claims + "\n" + bodyDigest)
                    .getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(signed);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }

    /** The MAC of {@code text} under a key derived from the cluster key for {@code purpose} (cursors, say). */
    byte[] derivedMac(String purpose, byte[] text) {
        try {
            Mac derive = Mac.getInstance("HmacSHA256");
            derive.init(key);
            byte[] subkey = derive.doFinal(("substrate:" + purpose).getBytes(StandardCharsets.UTF_8));
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(subkey, "HmacSHA256"));
            return mac.doFinal(text);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }
}
