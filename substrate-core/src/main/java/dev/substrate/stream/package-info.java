/** Following a room's events live, straight from Kafka: {@link dev.substrate.stream.RoomStream}. */
package dev.substrate.stream;
