/** The artifact rules: a pure function of an artifact's state and one event. Internal: the fold applies them through its step. */
package dev.substrate.artifact.internal;
