/**
 * Substrate's topics: the {@linkplain dev.substrate.topic.Topics registry} (names under one prefix, keys,
 * cleanup policies) and the {@linkplain dev.substrate.topic.TopicSetup setup} that creates and checks them at
 * start.
 */
package dev.substrate.topic;
