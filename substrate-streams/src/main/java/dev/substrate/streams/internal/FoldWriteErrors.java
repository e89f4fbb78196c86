package dev.substrate.streams.internal;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the fold does when Kafka refuses a record it writes (a store's changelog, a state topic, rejections).
 *
 * <p>The fold checks every record against its limits before writing it, so this is the last line, for what the
 * checks cannot foresee (a topic's limit lowered while the fold runs, say). A record refused as too large can
 * never be written, and retrying the event that made it would stop the fold on that record forever: the source
 * record goes to the dead-letter topic with the reason and its position, the failure is logged with the target
 * topic and the source record, counted, and the fold goes on. Other failures fail the stream thread, which is
 * replaced while {@code /ready} says why.
 */
public final class FoldWriteErrors implements ProductionExceptionHandler {

    /** The configuration key under which the fold passes a {@code Runnable} called for each dead-lettered record. */
    public static final String ON_DEAD_LETTER = "substrate.fold.on.dead.letter";

    private static final Logger log = LoggerFactory.getLogger(FoldWriteErrors.class);
    private static final String HEADER_PREFIX = "__streams.errors.";

    private String deadLetters;
    private Runnable onDeadLetter = () -> {};

    @Override
    public void configure(Map<String, ?> configs) {
        Object topic = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        deadLetters = topic == null ? null : topic.toString();
        if (configs.get(ON_DEAD_LETTER) instanceof Runnable counter) {
            onDeadLetter = counter;
        }
    }

    @Override
    public Response handleError(
            ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        String target = record.topic();
        String source = context.topic() == null
                ? "no source record (a punctuation)"
                : context.topic() + " partition " + context.partition() + " offset " + context.offset();
        if (!(exception instanceof RecordTooLargeException)) {
            log.error(
                    "The fold could not write a record to {} (store {}) while processing {} in task {}; the stream "
                            + "thread stops and is replaced",
                    target,
                    storeOf(target),
                    source,
                    context.taskId(),
                    exception);
            return Response.fail();
        }
        onDeadLetter.run();
        log.error(
                "The fold could not write a record of {} bytes to {} (store {}): {}. The source record, {} in task {},"
                        + " goes to {} and the fold goes on; a store restored from that changelog will not have "
                        + "this write",
                size(record),
                target,
                storeOf(target),
                exception.getMessage(),
                source,
                context.taskId(),
                deadLetters == null ? "no dead-letter topic (none is configured)" : deadLetters);
        if (deadLetters == null || context.topic() == null) {
            return Response.resume();
        }
        RecordHeaders headers = new RecordHeaders();
        header(headers, "exception", exception.getClass().getName());
        header(headers, "exception.message", String.valueOf(exception.getMessage()));
        header(headers, "topic", context.topic());
        header(headers, "partition", Integer.toString(context.partition()));
        header(headers, "offset", Long.toString(context.offset()));
        header(headers, "target.topic", target);
        return Response.resume(List.of(
                new ProducerRecord<>(deadLetters, null, context.sourceRawKey(), context.sourceRawValue(), headers)));
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.add(HEADER_PREFIX + name, value.getBytes(StandardCharsets.UTF_8));
    }

    private static int size(ProducerRecord<byte[], byte[]> record) {
        return (record.key() == null ? 0 : record.key().length) + (record.value() == null ? 0 : record.value().length);
    }

    /** The store a changelog topic belongs to ({@code <application.id>-<store>-changelog}), or "none". */
    static String storeOf(String topic) {
        if (!topic.endsWith("-changelog")) {
            return "none";
        }
        String withoutSuffix = topic.substring(0, topic.length() - "-changelog".length());
        for (String store : StoreNames.LOGGED) {
            if (withoutSuffix.endsWith("-" + store)) {
                return store;
            }
        }
        return withoutSuffix;
    }
}
