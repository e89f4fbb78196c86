package dev.substrate.api.internal;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Which URLs a webhook may be delivered to: absolute {@code http} or {@code https} URLs of at most 2,048 characters,
 * with no user information, whose host does not resolve to a loopback, link-local, private (RFC 1918), unique-local
 * ({@code fc00::/7}), shared (RFC 6598, {@code 100.64.0.0/10}), wildcard or multicast address, unless private ones are
 * allowed ({@code webhooks.allow.private}). Checked when subscribed and again before each try, as a name may resolve
 * elsewhere later.
 */
final class WebhookUrls {

    /** The longest URL a subscription takes. */
    static final int MAX_LENGTH = 2048;

    private WebhookUrls() {}

    /**
     * Why {@code url} may not be delivered to, or null when it may; with {@code resolve}, its host's addresses are
     * looked up and checked too (an unknown host is a refusal).
     */
    static String refusal(String url, boolean allowPrivate, boolean resolve) {
        if (url == null || url.isEmpty() || url.length() > MAX_LENGTH) {
            return "the url must have 1 to " + MAX_LENGTH + " characters";
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return "the url is not a URI: " + e.getReason();
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return "the url must be http or https";
        }
        if (uri.getHost() == null || uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
            return "the url must name a host, and no user information or fragment";
        }
        if (allowPrivate || !resolve) {
            return null;
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(uri.getHost());
        } catch (UnknownHostException e) {
            return "the host " + uri.getHost() + " is not known";
        }
        for (InetAddress address : addresses) {
            if (isPrivate(address)) {
                return "the host " + uri.getHost() + " is at " + address.getHostAddress()
                        + ", a loopback, link-local or private address (webhooks.allow.private is off)";
            }
        }
        return null;
    }

    static boolean isPrivate(InetAddress address) {
        if (address.isLoopbackAddress()
                || address.isLinkLocalAddress()
                || address.isSiteLocalAddress()
                || address.isAnyLocalAddress()
                || address.isMulticastAddress()) {
            return true;
        }
        byte[] bytes = address.getAddress();
        if (address instanceof Inet6Address) {
            return (bytes[0] & 0xfe) == 0xfc; // fc00::/7, unique local
        }
        return (bytes[0] & 0xff) == 100 && (bytes[1] & 0xc0) == 64; // 100.64.0.0/10, shared address space
    }
}
