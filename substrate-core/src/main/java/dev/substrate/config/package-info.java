/**
 * Substrate's configuration, declared once: keys, types, defaults, validation and documentation, read from the
 * environment and explicit settings, with Kafka client settings passed through unchanged.
 */
package dev.substrate.config;
