/**
 * JMH micro-benchmarks of what {@code substrate bench} does not isolate: encoding, decoding and validating events.
 * The fold, query, append and observer figures come from {@code substrate bench}, beside raw Kafka.
 */
package dev.substrate.benchmarks;
