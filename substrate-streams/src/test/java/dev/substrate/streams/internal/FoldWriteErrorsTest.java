package dev.substrate.streams.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Response;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Result;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;

class FoldWriteErrorsTest {

    private final AtomicInteger deadLettered = new AtomicInteger();
    private final FoldWriteErrors handler = new FoldWriteErrors();
    private final ProducerRecord<byte[], byte[]> tooLarge =
            new ProducerRecord<>("fold-rooms-changelog", new byte[] {1}, new byte[2_000_000]);

    FoldWriteErrorsTest() {
        handler.configure(Map.of(
                StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG,
                "substrate.dead-letters",
                FoldWriteErrors.ON_DEAD_LETTER,
                (Runnable) deadLettered::incrementAndGet));
    }

    @Test
    void shouldDeadLetterTheSourceRecordOfAWriteThatCanNeverFitAndGoOn() {
        Response response = handler.handleError(
                new Source("substrate.room-events", 4, 1234L), tooLarge, new RecordTooLargeException("too large"));

        assertThat(response.result()).isEqualTo(Result.RESUME);
        assertThat(response.deadLetterQueueRecords()).singleElement().satisfies(record -> {
            assertThat(record.topic()).isEqualTo("substrate.dead-letters");
            assertThat(new String(record.value(), StandardCharsets.UTF_8)).isEqualTo("the event");
            assertThat(header(record.headers(), "__streams.errors.topic")).isEqualTo("substrate.room-events");
            assertThat(header(record.headers(), "__streams.errors.partition")).isEqualTo("4");
            assertThat(header(record.headers(), "__streams.errors.offset")).isEqualTo("1234");
            assertThat(header(record.headers(), "__streams.errors.target.topic"))
                    .isEqualTo("fold-rooms-changelog");
        });
        assertThat(deadLettered).hasValue(1);
    }

    @Test
    void shouldFailTheThreadOnOtherErrors() {
        Response response = handler.handleError(
                new Source("substrate.room-events", 4, 1234L), tooLarge, new TimeoutException("no broker"));

        assertThat(response.result()).isEqualTo(Result.FAIL);
        assertThat(deadLettered).hasValue(0);
    }

    @Test
    void shouldReceiveItsCounterThroughTheStreamsConfiguration() {
        java.util.Properties props = new java.util.Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "fold");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, FoldWriteErrors.class);
        props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "substrate.dead-letters");
        props.put(FoldWriteErrors.ON_DEAD_LETTER, (Runnable) deadLettered::incrementAndGet);

        var configured = new StreamsConfig(props).productionExceptionHandler();
        configured.handleError(
                new Source("substrate.run-events", 0, 1L), tooLarge, new RecordTooLargeException("too large"));

        assertThat(deadLettered).hasValue(1);
    }

    @Test
    void shouldNameTheStoreOfAChangelog() {
        assertThat(FoldWriteErrors.storeOf("substrate-room-block-parts-changelog"))
                .isEqualTo("room-block-parts");
        assertThat(FoldWriteErrors.storeOf("my.app-rooms-changelog")).isEqualTo("rooms");
        assertThat(FoldWriteErrors.storeOf("substrate.rooms")).isEqualTo("none");
    }

    private static String header(Headers headers, String name) {
        return new String(headers.lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    /** The context of a record the fold read from {@code topic}. */
    private record Source(String topic, int partition, long offset) implements ErrorHandlerContext {
        @Override
        public Headers headers() {
            return new RecordHeaders();
        }

        @Override
        public String processorNodeId() {
            return "room-fold";
        }

        @Override
        public TaskId taskId() {
            return new TaskId(1, partition);
        }

        @Override
        public long timestamp() {
            return 0;
        }

        @Override
        public byte[] sourceRawKey() {
            return "room-1".getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] sourceRawValue() {
            return "the event".getBytes(StandardCharsets.UTF_8);
        }
    }
}
