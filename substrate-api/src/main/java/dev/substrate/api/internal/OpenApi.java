package dev.substrate.api.internal;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /openapi.json}: the OpenAPI 3.1 description of every route, kept beside the code in
 * {@code dev/substrate/api/openapi.json}; a test fails when a registered route is missing from it.
 */
public final class OpenApi {

    /** Where the document is on the class path. */
    public static final String RESOURCE = "/dev/substrate/api/openapi.json";

    private static final String DOCUMENT = load();

    private OpenApi() {}

    static void write(Context ctx) {
        ctx.contentType("application/json").result(DOCUMENT);
    }

    private static String load() {
        try (InputStream in = OpenApi.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
