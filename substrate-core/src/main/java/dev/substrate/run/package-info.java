/** The run rules: the status machine, waits, labels and results. */
package dev.substrate.run;
