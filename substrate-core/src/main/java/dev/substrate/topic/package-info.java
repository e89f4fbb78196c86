/**
 * Substrate's topics: the {@linkplain dev.substrate.topic.Topics registry} (names under one prefix, keys, cleanup
 * policies, record limits); the {@linkplain dev.substrate.topic.TopicSetup setup} that creates and checks them at start
 * ({@code serve} and {@code dev} run it); and a {@linkplain dev.substrate.topic.TopicFollower follower} that reads a
 * small compacted topic whole and follows it (tokens, the blob index).
 */
package dev.substrate.topic;
