/** {@link dev.substrate.entity.EntityKind}: what differs between runs, rooms and artifacts, in one descriptor each. */
package dev.substrate.entity;
