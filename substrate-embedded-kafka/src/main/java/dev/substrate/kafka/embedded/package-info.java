/**
 * A real single-node KRaft Kafka broker that runs inside the Substrate process: the default of
 * {@code substrate dev} and the broker every integration test shares. See {@link
 * dev.substrate.kafka.embedded.EmbeddedKafka}.
 */
package dev.substrate.kafka.embedded;
