package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import io.javalin.http.Context;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * {@code POST /v1/otlp/v1/traces}: OTLP/HTTP trace exports (protobuf or JSON, gzip or not), as any OpenTelemetry
 * SDK's exporter sends them to {@code <endpoint>/v1/traces}, mapped to runs, rooms, turns, blocks and usage by {@link
 * OtlpMapping} and appended with the caller's token, checked as every append is. The answer is OTLP's: an empty
 * {@code ExportTraceServiceResponse}, or one with {@code partialSuccess} counting the spans that were not mapped.
 */
final class OtlpIngest {

    /** The route: OTLP's {@code /v1/traces} under {@code /v1/otlp}, the endpoint an exporter is given. */
    static final String PATH = "/v1/otlp/v1/traces";

    /**
     * How long an export by a scoped token waits for the fold to decide each run's and room's creation (once per
     * entity).
     */
    private static final long CREATE_WAIT_MS = 10_000;

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Appends appends;
    private final long maxBytes;

    OtlpIngest(Appends appends, long maxBytes) {
        this.appends = appends;
        this.maxBytes = maxBytes;
    }

    void traces(Context ctx) {
        String type = String.valueOf(ctx.contentType()).split(";")[0].trim().toLowerCase(Locale.ROOT);
        boolean protobuf = type.equals("application/x-protobuf") || type.equals("application/protobuf");
        if (!protobuf && !type.equals("application/json")) {
            throw Problem.ofStatus(
                    415,
                    "Unsupported media type",
                    "an OTLP export is application/x-protobuf or application/json, not " + type);
        }
        byte[] body = body(ctx);
        List<OtlpSpans.Span> spans;
        try {
            spans = protobuf ? OtlpSpans.fromProtobuf(body) : OtlpSpans.fromJson(JSON.readTree(body));
        } catch (IOException e) {
            throw Problem.badRequest("the body is not JSON: " + e.getMessage(), "body");
        } catch (OtlpSpans.Malformed e) {
            throw Problem.badRequest(e.getMessage(), "body");
        }
        OtlpMapping.Plan plan = OtlpMapping.plan(spans);
        Principal principal = Requests.principal(ctx);
        // Every project checked before anything is appended: a scoped token's export outside its reach changes nothing.
        for (OtlpMapping.Planned entity : plan.entities()) {
            Access.mayCreateIn(
                            principal,
                            entity.kind(),
                            entity.creation()
                                    .path(Scope.projectField(entity.kind()))
                                    .asText(null))
                    .require();
        }
        for (OtlpMapping.Planned entity : plan.entities()) {
            if (entity.kind() == dev.substrate.entity.EntityKind.ROOM) {
                // The caller owns the rooms its export creates, as a service that created them itself would.
                entity.creation()
                        .putArray("members")
                        .addObject()
                        .put("principal", principal.name())
                        .put("role", "owner");
            }
            // A scoped token appends only to what exists and it reaches: its creations are awaited first. Any other
            // token's events follow their creation on the entity's partition, in order, with no wait.
            // Exports of one trace may come at once (a SimpleSpanProcessor sends each span as it ends): one export's
            // events of an entity go on its log together, so that a turn another export opens cannot split them.
            synchronized (stripe(entity.id())) {
                appends.ensureCreated(
                        ctx, entity.kind(), entity.id(), entity.creation(), principal.scoped() ? CREATE_WAIT_MS : -1);
                if (!entity.events().isEmpty()) {
                    appends.appendChecked(ctx, entity.kind(), entity.id(), entity.events());
                }
            }
        }
        answer(ctx, protobuf, plan.rejected(), plan.rejectedReason());
    }

    /** Locks that keep one export's events of an entity together on its log, by the entity id's hash. */
    private final Object[] stripes =
            java.util.stream.IntStream.range(0, 64).mapToObj(i -> new Object()).toArray();

    private Object stripe(String entityId) {
        return stripes[Math.floorMod(entityId.hashCode(), stripes.length)];
    }

    /** The body, gunzipped when it says so, at most {@code maxBytes} either way. */
    private byte[] body(Context ctx) {
        if (ctx.contentLength() > maxBytes) {
            throw Problem.tooLarge("the body is " + ctx.contentLength() + " bytes; the limit is " + maxBytes);
        }
        String encoding = String.valueOf(ctx.header("Content-Encoding")).trim().toLowerCase(Locale.ROOT);
        try (InputStream raw = ctx.req().getInputStream()) {
            if (encoding.equals("gzip")) {
                return readAtMost(new GZIPInputStream(raw), "gunzipped");
            }
            if (!encoding.equals("null") && !encoding.equals("identity")) {
                throw Problem.ofStatus(
                        415, "Unsupported content encoding", "an OTLP export is gzip or not encoded, not " + encoding);
            }
            return readAtMost(raw, "");
        } catch (java.util.zip.ZipException e) {
            throw Problem.badRequest("the body is not gzip: " + e.getMessage(), "body");
        } catch (IOException e) {
            throw Problem.badRequest("the body could not be read: " + e.getMessage(), "body");
        }
    }

    private byte[] readAtMost(InputStream in, String what) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
            if (out.size() + read > maxBytes) {
                throw Problem.tooLarge("the body" + (what.isEmpty() ? "" : ", " + what + ",") + " is more than "
                        + maxBytes + " bytes");
            }
            out.write(buffer, 0, read);
        }
        return out.toByteArray();
    }

    /** OTLP's answer, in the request's encoding: empty, or a partial success counting the spans left out. */
    private static void answer(Context ctx, boolean protobuf, int rejected, String reason) {
        if (protobuf) {
            ExportTraceServiceResponse.Builder response = ExportTraceServiceResponse.newBuilder();
            if (rejected > 0) {
                response.setPartialSuccess(ExportTracePartialSuccess.newBuilder()
                        .setRejectedSpans(rejected)
                        .setErrorMessage(reason));
            }
            ctx.status(200)
                    .contentType("application/x-protobuf")
                    .result(response.build().toByteArray());
            return;
        }
        ObjectNode response = JsonNodeFactory.instance.objectNode();
        if (rejected > 0) {
            response.putObject("partialSuccess")
                    .put("rejectedSpans", Integer.toString(rejected))
                    .put("errorMessage", reason);
        }
        Requests.json(ctx, response);
    }
}
