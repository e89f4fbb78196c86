/**
 * Real Kafka for integration tests: {@link dev.substrate.testing.SharedKafka} (one embedded broker per test
 * JVM), {@link dev.substrate.testing.MultiBrokerCluster} (several in-process brokers, for replication and broker
 * loss), and, where Docker runs, the official {@code apache/kafka} image through Testcontainers. Never a mock.
 */
package dev.substrate.testing;
