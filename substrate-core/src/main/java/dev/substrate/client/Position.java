package dev.substrate.client;

/**
 * Where an appended event landed in Kafka. For a room event the offset is also the event's cursor in the room's
 * stream.
 *
 * @param topic the log topic
 * @param partition the partition (that of the entity id's key)
 * @param offset the offset in that partition
 */
public record Position(String topic, int partition, long offset) {
    @Override
    public String toString() {
        return topic + "-" + partition + "@" + offset;
    }
}
