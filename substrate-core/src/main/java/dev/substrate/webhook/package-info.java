/**
 * Webhooks as the Standard Webhooks specification signs them: what Substrate's deliveries carry, and how a receiver
 * written in Java checks one.
 */
package dev.substrate.webhook;
