/**
 * Bearer-token authentication of the HTTP API: {@link dev.substrate.api.auth.TokenStore} (hashed tokens in a
 * file), {@link dev.substrate.api.auth.Principal} and {@link dev.substrate.api.auth.Role}.
 */
package dev.substrate.api.auth;
