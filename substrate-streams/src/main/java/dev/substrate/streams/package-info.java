/**
 * The fold: one Kafka Streams application that turns the run, room and artifact logs into validated,
 * queryable state. This is the only module that imports {@code org.apache.kafka.streams}.
 */
package dev.substrate.streams;
