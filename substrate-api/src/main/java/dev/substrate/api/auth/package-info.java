/**
 * Bearer-token authentication of the HTTP API: {@link dev.substrate.api.auth.TokenStore} (salted hashes in the
 * tokens topic, followed by every instance), {@link dev.substrate.api.auth.TokenFile} (the token file of earlier
 * versions, imported once), {@link dev.substrate.api.auth.Principal} (name, roles, project scope) and {@link
 * dev.substrate.api.auth.Role}.
 */
package dev.substrate.api.auth;
