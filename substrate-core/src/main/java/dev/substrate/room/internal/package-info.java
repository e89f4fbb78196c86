/** The room rules: membership, the runtime state, and the transcript with long blocks in parts. Internal: the fold applies them through its step. */
package dev.substrate.room.internal;
