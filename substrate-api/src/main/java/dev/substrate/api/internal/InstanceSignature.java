package dev.substrate.api.internal;

import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.Role;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How instances of one application vouch for the requests they forward to each other, in place of relaying the
 * caller's bearer token: the forwarding instance names the caller ({@value #ON_BEHALF_OF}: principal and roles,
 * as its own check of the token found them) and signs that, the method, the path with its query and the time with
 * the application's key (HMAC-SHA256, {@value #SIGNATURE}). The receiver checks the signature in constant time and
 * refuses one older than {@value #MAX_SKEW_MS} ms, so a captured request cannot be replayed later or changed. The
 * caller's token never leaves the instance it was sent to.
 */
final class InstanceSignature {

    /** The caller a forwarded request acts for: {@code principal;role,role}, then {@code ;pattern,pattern} if scoped. */
    static final String ON_BEHALF_OF = "X-Substrate-On-Behalf-Of";

    /** {@code t=<epoch ms>,v=<base64url HMAC-SHA256>}. */
    static final String SIGNATURE = "X-Substrate-Signature";

    /** How far a signature's time may be from the receiver's clock. */
    static final long MAX_SKEW_MS = 60_000;

    private final SecretKeySpec key;

    /** @param key the application's key, shared by its instances */
    InstanceSignature(byte[] key) {
        if (key.length < 16) {
            throw new IllegalArgumentException("the cluster key must have at least 16 bytes");
        }
        this.key = new SecretKeySpec(key, "HmacSHA256");
    }

    /** The {@value #ON_BEHALF_OF} value naming {@code principal}. */
    static String onBehalfOf(Principal principal) {
        return principal.name() + ";"
                + principal.roles().stream().map(Role::id).sorted().collect(Collectors.joining(","))
                + (principal.scoped() ? ";" + String.join(",", principal.projects()) : "");
    }

    /** The {@value #SIGNATURE} value for a request of {@code method} to {@code pathAndQuery} for {@code caller}. */
    String sign(String method, String pathAndQuery, String caller, long nowMs) {
        return "t=" + nowMs + ",v=" + mac(nowMs, method, pathAndQuery, caller);
    }

    /**
     * The principal a forwarded request acts for, once its signature checks out; 401 when it is missing, wrong or
     * too old (a retry with a fresh request may help only in the last case, after the clocks agree).
     */
    Principal verify(Context ctx, long nowMs) {
        String caller = ctx.header(ON_BEHALF_OF);
        String signature = ctx.header(SIGNATURE);
        if (caller == null || signature == null || !signature.startsWith("t=") || !signature.contains(",v=")) {
            throw Problem.unauthenticated("a forwarded request must be signed by an instance of this application");
        }
        long time;
        try {
            time = Long.parseLong(signature.substring(2, signature.indexOf(",v=")));
        } catch (NumberFormatException e) {
            throw Problem.unauthenticated("the forwarding signature is malformed");
        }
        String query = ctx.queryString();
        String expected = mac(
                time, ctx.method().name(), ctx.path() + (query == null || query.isEmpty() ? "" : "?" + query), caller);
        String presented = signature.substring(signature.indexOf(",v=") + 3);
        if (!MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.US_ASCII), presented.getBytes(StandardCharsets.US_ASCII))) {
            throw Problem.unauthenticated("the forwarding signature does not match: the instances must share one "
                    + "cluster.secret (or token file)");
        }
        if (Math.abs(nowMs - time) > MAX_SKEW_MS) {
            throw Problem.unauthenticated(
                    "the forwarding signature is " + Math.abs(nowMs - time) / 1000 + " s from this"
                            + " instance's clock; instances' clocks must agree within " + MAX_SKEW_MS / 1000 + " s");
        }
        int semicolon = caller.indexOf(';');
        if (semicolon < 1) {
            throw Problem.unauthenticated("the forwarded caller is malformed");
        }
        String[] parts = caller.substring(semicolon + 1).split(";", -1);
        Set<Role> roles = EnumSet.noneOf(Role.class);
        for (String role : parts[0].split(",")) {
            if (!role.isEmpty()) {
                roles.add(Role.of(role));
            }
        }
        List<String> projects = parts.length > 1 ? List.of(parts[1].split(",")) : List.of();
        return new Principal(caller.substring(0, semicolon), roles, projects);
    }

    private String mac(long time, String method, String pathAndQuery, String caller) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            byte[] signed = mac.doFinal(
                    (time + "\n" + method + "\n" + pathAndQuery + "\n" + caller).getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(signed);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }
}
