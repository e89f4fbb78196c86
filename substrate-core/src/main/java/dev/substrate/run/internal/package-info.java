/** The run rules: the status machine, waits, labels and results. Internal: the fold applies them through its step. */
package dev.substrate.run.internal;
