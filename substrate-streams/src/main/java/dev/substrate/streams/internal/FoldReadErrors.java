package dev.substrate.streams.internal;

import dev.substrate.event.UndecodableRecord;
import dev.substrate.registry.SchemaRegistryFailed;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the fold does with a record it cannot read. A record that will never be readable (bad header, unknown
 * schema id, malformed body) goes to the dead-letter topic with the reason, and the fold goes on. A record whose
 * schema id the Schema Registry did not answer for (unreachable, 5xx, refused credentials, an answer that is not
 * its API; anything but "no such id") is not given up: the stream thread fails, is replaced, and reads the record
 * again from its last commit, until the registry answers (meanwhile {@code /ready} says the fold is failing). Such a
 * record holds its stream thread, and so every task on that thread (Kafka Streams cannot pause one partition from a
 * deserializer); with {@code num.stream.threads} above 1 the other threads go on. A registry that is down or
 * misconfigured stalls the fold on ids it has not seen; it never loses their events.
 */
public final class FoldReadErrors extends LogAndContinueExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(FoldReadErrors.class);

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception e) {
        if (registryUnavailable(e)) {
            log.warn(
                    "Cannot read {}-{}@{} until the Schema Registry answers; the record is read again: {}",
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    e.getMessage());
            return Response.fail();
        }
        return super.handleError(context, record, e);
    }

    private static boolean registryUnavailable(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof UndecodableRecord) {
                return false; // never readable, whatever the registry said on the way
            }
            if (cause instanceof SchemaRegistryFailed) {
                return true;
            }
        }
        return false;
    }
}
