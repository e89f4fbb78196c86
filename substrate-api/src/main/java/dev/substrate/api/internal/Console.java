package dev.substrate.api.internal;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The operator console: a page at {@code /} and its script and styles under {@code /console/}, plain files from
 * the jar with no build step. The page holds no data and needs no token; every request it makes goes to the API
 * with the bearer token the browser keeps. A strict Content-Security-Policy lets it load only itself.
 */
public final class Console {

    /** Scripts, styles and requests from this origin only; no inline script, no framing. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:;"
            + " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static final Map<String, String> HEADERS = Map.of(
            "Content-Security-Policy", CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options", "nosniff",
            "Referrer-Policy", "no-referrer",
            "Cache-Control", "no-cache");

    private final byte[] page;

    private Console(byte[] page) {
        this.page = page;
    }

    /** Serves {@code /console/*} from the jar and returns the console, whose {@link #page} answers {@code /}. */
    public static Console register(JavalinConfig javalin) {
        javalin.staticFiles.add(files -> {
            files.hostedPath = "/console";
            files.directory = "/console";
            files.location = Location.CLASSPATH;
            files.headers = HEADERS;
        });
        try (InputStream index = Console.class.getResourceAsStream("/console/index.html")) {
            if (index == null) {
                throw new IllegalStateException("console/index.html is missing from the jar");
            }
            return new Console(index.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** GET /: the console's page. A {@code #token=} fragment is read by the page itself and removed from the address. */
    public void page(Context ctx) {
        HEADERS.forEach(ctx::header);
        ctx.contentType("text/html; charset=utf-8").result(page);
    }
}
