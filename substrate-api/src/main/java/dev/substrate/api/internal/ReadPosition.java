package dev.substrate.api.internal;

import dev.substrate.entity.EntityKind;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The opaque {@code position} an append answers with: where its event sits in the entity's log. A read that
 * carries it ({@code X-Substrate-Position} header or {@code position} parameter) answers with state at least
 * that new.
 *
 * @param entity whose log the event is in
 * @param partition the log partition
 * @param offset the event's offset in it
 */
public record ReadPosition(EntityKind<?, ?> entity, int partition, long offset) {

    /** The request header a position travels in. */
    public static final String HEADER = "X-Substrate-Position";

    private static final String VERSION = "p1";

    /** The opaque form handed to clients. */
    public String encode() {
        String plain = VERSION + ":" + entity.name() + ":" + partition + ":" + offset;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
    }

    /** The position a request carries, or null; a malformed one is a 400. */
    public static ReadPosition from(Context ctx) {
        String header = ctx.header(HEADER);
        String value = header != null ? header : ctx.queryParam("position");
        if (value == null || value.isBlank()) {
            return null;
        }
        String field = header != null ? HEADER : "position";
        try {
            String[] parts =
                    new String(Base64.getUrlDecoder().decode(value.strip()), StandardCharsets.UTF_8).split(":");
            if (parts.length != 4 || !parts[0].equals(VERSION)) {
                throw new IllegalArgumentException("unknown form");
            }
            return new ReadPosition(EntityKind.of(parts[1]), Integer.parseInt(parts[2]), Long.parseLong(parts[3]));
        } catch (IllegalArgumentException e) {
            throw Problem.badRequest("the position is not one this API gave out", field);
        }
    }
}
