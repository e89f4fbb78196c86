/**
 * Substrate's topics: the {@linkplain dev.substrate.topic.Topics registry} (names under one prefix, keys, cleanup
 * policies, record limits); the setup that creates and checks them at start is internal ({@code
 * topic.internal.TopicSetup}).
 */
package dev.substrate.topic;
