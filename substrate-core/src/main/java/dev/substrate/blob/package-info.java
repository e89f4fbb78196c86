/** The content-addressed blob store that keeps artifact bytes for users who have nowhere else to put them. */
package dev.substrate.blob;
