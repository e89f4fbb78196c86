/** Local runs: runs kept in a SQLite file with the substrate's own events and rules, and no Kafka. */
package dev.substrate.local;
