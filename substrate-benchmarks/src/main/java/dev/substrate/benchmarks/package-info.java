/** JMH benchmarks of the parts substrate bench does not measure end to end (the codecs), and the older load drivers. */
package dev.substrate.benchmarks;
