/** Creating and checking Substrate's topics at start ({@code TopicSetup}). Internal: {@code serve} and {@code dev} run it. */
package dev.substrate.topic.internal;
