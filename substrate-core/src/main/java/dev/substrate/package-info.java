/** The root of Substrate's exceptions, shared by every module. */
package dev.substrate;
